"""Code lists of the elderly-care domain as data tables; validators look codes up here."""

# Lists marked (unconfirmed) in shared/DOMAIN.md were not checked against their source document:
# a correction is a change to one row, never to a branch in code. Where a standard gives no
# codes (our own lists), the code is a readable ASCII word that stays stable across relabelling.

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Band:
    """One level of a score scale: a code and the inclusive score range that yields it."""

    code: str
    label: str
    low: int
    high: int


def band_for(bands: tuple[Band, ...], score: int) -> Band | None:
    return next((b for b in bands if b.low <= score <= b.high), None)


#: GB/T 2261.1 sex.
SEX = {"0": "未知 unknown", "1": "男 male", "2": "女 female", "9": "未说明 unspecified"}

#: GB/T 42195-2022 capability dimensions and their maximum scores (26 items, total 0-90).
CAPABILITY_DIMENSIONS = {
    "self_care_score": 32,  # 自理能力, 8 items
    "mobility_score": 15,  # 基础运动能力, 4 items
    "mental_score": 28,  # 精神状态, 7 items
    "perception_score": 15,  # 感知觉与社会参与, 5 items
}
CAPABILITY_TOTAL_MAX = 90
#: GB/T 42195-2022 levels by total score; higher scores are more capable.
CAPABILITY_LEVELS = (
    Band("0", "能力完好 intact", 90, 90),
    Band("1", "轻度失能 mildly impaired", 66, 89),
    Band("2", "中度失能 moderately impaired", 46, 65),
    Band("3", "重度失能 severely impaired", 30, 45),
    Band("4", "能力完全丧失 completely lost", 0, 29),
)
GB_T_42195 = "GB/T 42195-2022"
#: Assessment scales and their level codes. Levels are never mapped between scales by label:
#: MZ/T 039 "重度失能" is not GB/T 42195 level 3.
ASSESSMENT_SCALES: dict[str, dict[str, str]] = {
    GB_T_42195: {b.code: b.label for b in CAPABILITY_LEVELS},
    "MZ/T 039-2013": {"0": "能力完好 intact", "1": "轻度失能 mildly impaired", "2": "中度失能 moderately impaired", "3": "重度失能 severely impaired"},
}

#: Public-health self-care form (老年人生活自理能力评估表): item maxima and bands of the total.
SELF_CARE_ITEMS = {
    "self_care_eating": 5,
    "self_care_washing": 7,
    "self_care_dressing": 5,
    "self_care_toileting": 10,
    "self_care_moving": 10,
}
SELF_CARE_BANDS = (
    Band("independent", "可自理 independent", 0, 3),
    Band("mild", "轻度依赖 mildly dependent", 4, 8),
    Band("moderate", "中度依赖 moderately dependent", 9, 18),
    Band("dependent", "不能自理 dependent", 19, sum(SELF_CARE_ITEMS.values())),
)

#: National basic elderly-care service list 2023 (unconfirmed: 15 of 16 items recalled;
#: the numbering is ours). Code → (category, name).
SERVICE_LIST_ITEMS: dict[str, tuple[str, str]] = {
    "01": ("material", "最低生活保障 minimum-income allowance"),
    "02": ("material", "特困人员救助供养 extreme-poverty support"),
    "03": ("material", "高龄津贴 old-age allowance"),
    "04": ("material", "养老服务补贴 care-service subsidy"),
    "05": ("material", "护理补贴 nursing subsidy"),
    "06": ("material", "代缴城乡居民养老保险费 pension premium paid on their behalf"),
    "07": ("material", "医疗救助 / 代缴医保 medical aid and health-insurance premium help"),
    "08": ("material", "计划生育特殊家庭扶助 aid to special family-planning families"),
    "09": ("care", "老年人能力综合评估 comprehensive capability assessment"),
    "10": ("care", "居家适老化改造 home modification"),
    "11": ("care", "公办养老机构优先入住 priority admission to public care homes"),
    "12": ("care", "健康管理 / 医养结合 health management, combined medical and care"),
    "13": ("caring", "探访关爱 visiting care"),
    "14": ("caring", "法律援助 legal aid"),
    "15": ("caring", "公共文化体育设施优惠 discounted public cultural and sports facilities"),
}
SERVICE_LIST_CATEGORIES = {"material": "物质帮助 material help", "care": "照护服务 care services", "caring": "关爱服务 caring services"}

#: Target groups of enrolments: the visiting-care groups (2022 guidance) and the benefit groups.
TARGET_GROUPS = {
    "living_alone": "独居 living alone",
    "empty_nest": "空巢 empty-nest",
    "left_behind": "留守 left-behind",
    "disabled": "失能 disabled",
    "severely_disabled": "重残 severely disabled",
    "special_family": "计划生育特殊家庭 special family-planning family",
    "extreme_poverty": "特困 extreme poverty",
    "low_income": "低保 minimum-income",
    "very_old": "高龄 very old",
}

#: Subsidy types (civil-affairs statistics).
SUBSIDY_TYPES = {
    "old_age_allowance": "高龄津贴 old-age allowance",
    "care_service": "养老服务补贴 care-service subsidy",
    "nursing": "护理补贴 nursing subsidy",
    "combined": "综合补贴 combined subsidy",
}

#: Home-visit service categories: what a service record delivered.
SERVICE_CATEGORIES = {
    "daily_living": "生活照料 daily living",
    "basic_care": "基础照护 basic care",
    "health_management": "健康管理 health management",
    "visiting": "探访关爱 visiting",
    "emotional_support": "精神慰藉 emotional support",
    "errands": "委托代办 errands",
    "home_modification": "适老化改造 home modification",
}

#: Kinds of provider (unconfirmed: local statistics differ).
INSTITUTION_TYPES = {
    "care_home": "养老机构 residential care home",
    "community_centre": "社区养老服务中心(站) community care centre",
    "day_care": "日间照料中心 day-care centre",
    "rural_mutual_aid": "农村互助幸福院 rural mutual-aid home",
    "meal_point": "老年助餐点 meal point",
    "medical_care": "医养结合机构 combined medical and care institution",
}
#: Services a provider offers (unconfirmed), for matching elders to providers on the map.
INSTITUTION_SERVICES = {
    **SERVICE_CATEGORIES,
    "residential_care": "机构住养 residential care",
    "day_care": "日间照料 day care",
    "meal_assistance": "助餐 meal assistance",
    "bathing_assistance": "助浴 bathing assistance",
    "rehabilitation": "康复护理 rehabilitation",
    "medical_service": "医疗服务 medical service",
    "respite_care": "喘息服务 respite care",
    "dementia_care": "认知症照护 dementia care",
}
#: GB/T 37276-2018 grades on 1,000 points: grade → lowest score (五级 highest).
INSTITUTION_GRADES = {1: 360, 2: 450, 3: 570, 4: 780, 5: 900}
INSPECTION_SCORE_MAX = 1000

#: Caregiver (养老护理员, 4-10-01-05) skill levels: 五级 is the lowest.
SKILL_LEVELS = {
    "5": "五级 初级工 junior",
    "4": "四级 中级工 intermediate",
    "3": "三级 高级工 senior",
    "2": "二级 技师 technician",
    "1": "一级 高级技师 senior technician",
}
#: Occupational credit events of a practitioner (unconfirmed).
CREDIT_EVENT_TYPES = {
    "commendation": "表彰 commendation",
    "complaint": "投诉 substantiated complaint",
    "penalty": "行政处罚 administrative penalty",
    "blacklist": "失信名单 dishonesty list",
}

#: Registers a provider can be registered in.
REGISTERING_SYSTEMS = {
    "social_organisation": "社会组织登记 social-organisation register (民政)",
    "enterprise_credit": "企业信用信息 enterprise credit register (市场监管)",
    "public_institution": "事业单位登记 public-institution register (编办)",
}
REGISTRATION_STATUSES = {
    "active": "存续 active",
    "cancelled": "注销 cancelled",
    "revoked": "吊销/撤销 revoked",
}

#: Health-management form answers.
EXERCISE_FREQUENCIES = {"daily": "每天 daily", "weekly": "每周一次以上 weekly or more", "occasionally": "偶尔 occasionally", "never": "不锻炼 never"}
DIET_HABITS = {
    "balanced": "荤素均衡 balanced",
    "meat": "荤食为主 mostly meat",
    "vegetarian": "素食为主 mostly vegetarian",
    "salty": "嗜盐 salty",
    "oily": "嗜油 oily",
    "sweet": "嗜糖 sweet",
}
SMOKING_STATUSES = {"never": "从不吸烟 never", "quit": "已戒烟 quit", "current": "吸烟 current"}
DRINKING_FREQUENCIES = {"never": "从不 never", "occasionally": "偶尔 occasionally", "often": "经常 often", "daily": "每天 daily"}
SCREENING_RESULTS = {"negative": "阴性 negative", "positive": "阳性 positive"}
HEARING_RESULTS = {"heard": "听见 hears", "impaired": "听不清或无法听见 impaired"}
MOVEMENT_RESULTS = {"able": "可顺利完成 able", "unable": "无法独立完成 unable"}
EXAM_RESULTS = {"normal": "正常 normal", "abnormal": "异常 abnormal"}
SELF_RATED_HEALTH = {1: "满意 satisfied", 2: "基本满意 fairly satisfied", 3: "说不清楚 unsure", 4: "不太满意 fairly dissatisfied", 5: "不满意 dissatisfied"}

#: Plausible ranges of measurements (inclusive); outside them a value is an entry error.
MEASUREMENT_RANGES: dict[str, tuple[float, float]] = {
    "temperature": (30, 45),  # °C
    "pulse": (20, 250),  # beats/min
    "respiration": (4, 80),  # breaths/min
    "systolic": (50, 300),  # mmHg
    "diastolic": (20, 200),  # mmHg
    "height": (80, 250),  # cm
    "weight": (20, 300),  # kg
    "waist": (40, 200),  # cm
    "bmi": (8, 80),  # kg/m²
    "vision": (0, 5.3),  # decimal (0.1-2.0) or five-point (4.0-5.3) notation
    "lab": (0, 10_000),  # any lab value: non-negative, bounded against unit mix-ups
    "longitude": (73, 136),  # China's extent, °E
    "latitude": (3, 54),  # °N
    "duration_minutes": (1, 1440),
}

# Parameters of the risk-alert rules (consumers/alerts). Local policy differs between regions:
# a pilot region changes a row here, never a rule.

#: Subsidy type → the age (full years) a recipient must have reached on the first day of every
#: paid period. 高龄津贴's threshold is set locally; the pilot region's is 80.
SUBSIDY_MINIMUM_AGE = {"old_age_allowance": 80}
#: Subsidy type → the item of the national basic service list an elder is enrolled in to draw it.
SUBSIDY_SERVICE_ITEMS = {"old_age_allowance": "03", "care_service": "04", "nursing": "05"}
#: GB/T 42195 level → the self-care bands (public-health form) a check-up of the same elder may
#: show (unconfirmed). Outside them the two sources disagree: a risk to review, not an entry error.
CAPABILITY_CONSISTENT_SELF_CARE: dict[str, tuple[str, ...]] = {
    "0": ("independent",),
    "1": ("independent", "mild"),
    "2": ("mild", "moderate"),
    "3": ("moderate", "dependent"),
    "4": ("dependent",),
}
#: Service-record categories paid from care-service subsidies (unconfirmed: every home-visit
#: category is bought with 养老服务补贴 somewhere); a provider needs a registration to deliver them.
SUBSIDISED_SERVICE_CATEGORIES = frozenset(SERVICE_CATEGORIES)
#: Registration statuses under which a provider may operate and receive subsidies.
OPERATING_REGISTRATION_STATUSES = frozenset({"active"})
