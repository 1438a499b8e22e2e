"""The topic catalog: every topic carehub writes, its key, schema, partitions and retention."""

from __future__ import annotations

from dataclasses import dataclass

from carehub.broker.base import TopicSpec
from carehub.errors import ConfigError

#: Person-related topics share this count so that one person's records share a partition number.
PERSON_PARTITIONS = 3
DLQ_PREFIX = "dlq."
WEEK_MS = 7 * 24 * 3600 * 1000


@dataclass(frozen=True)
class CatalogTopic:
    name: str
    key: str
    schema: str | None  # path under schemas/, None for JSON (dead-letter) topics
    partitions: int
    compact: bool
    retention_ms: int | None  # None: broker default; -1: forever
    description: str

    def spec(self, prefix: str = "", replication_factor: int = 1) -> TopicSpec:
        """What to create on the broker; `prefix` (CAREHUB_TOPIC_PREFIX) keeps environments apart."""
        return TopicSpec(prefix + self.name, self.partitions, replication_factor, self.compact, self.retention_ms)


PERSON_KEY = ("person_key: HMAC-SHA256 of the normalised resident ID (hex); source_record_id for a record without "
              "a valid resident ID, which carries identity hints instead")
CREDIT_CODE_KEY = "credit_code: the provider's unified social credit code (GB 32100-2015)"
#: Institution-keyed topics share this count so that one provider's records share a partition number.
INSTITUTION_PARTITIONS = 3


def _source(name: str, key: str, schema: str, description: str) -> CatalogTopic:
    """A source topic: kept forever, because datasets are a function of every source record."""
    partitions = PERSON_PARTITIONS if key == PERSON_KEY else INSTITUTION_PARTITIONS
    return CatalogTopic(name, key, schema, partitions, compact=False, retention_ms=-1, description=description)


CATALOG: tuple[CatalogTopic, ...] = (
    _source("src.registry.person.v1", PERSON_KEY, "registry/person.avsc",
            "Persons from the population registry (人口基础信息库): identity, household registration, address."),
    _source("src.registry.death.v1", PERSON_KEY, "registry/death.avsc",
            "Death registrations (死亡登记): date, place and division of death, certificate number."),
    _source("src.registry.household_move.v1", PERSON_KEY, "registry/household_move.avsc",
            "Household-registration moves (户籍迁移): from and to division, move date."),
    _source("src.health.checkup.v1", PERSON_KEY, "health/checkup.avsc",
            "Annual health checks of residents 65+ (老年人健康管理): lifestyle, exam, labs, guidance, self-care score."),
    _source("src.health.family_doctor_contract.v1", PERSON_KEY, "health/family_doctor_contract.avsc",
            "Family-doctor contracts (家庭医生签约): team, doctor, period, service package."),
    _source("src.civil_affairs.enrolment.v1", PERSON_KEY, "civil_affairs/enrolment.avsc",
            "Enrolments in items of the national basic elderly-care service list, with target group."),
    _source("src.civil_affairs.capability_assessment.v1", PERSON_KEY, "civil_affairs/capability_assessment.avsc",
            "Capability assessments (老年人能力评估): scale, dimension scores, total, level and adjustments."),
    _source("src.civil_affairs.subsidy_payment.v1", PERSON_KEY, "civil_affairs/subsidy_payment.avsc",
            "Subsidy payments (补贴发放): type, amount, period and paying division."),
    _source("src.civil_affairs.service_record.v1", PERSON_KEY, "civil_affairs/service_record.avsc",
            "Care services delivered (服务记录): item, provider, caregiver, date, start time and duration."),
    _source("src.civil_affairs.practitioner.v1", PERSON_KEY, "civil_affairs/practitioner.avsc",
            "Caregivers (养老从业人员): skill level, certificate, employer, employment period, credit events."),
    _source("src.civil_affairs.institution.v1", CREDIT_CODE_KEY, "civil_affairs/institution.avsc",
            "Care providers (养老服务机构): type, division, location, beds, residents, grade, services offered."),
    _source("src.civil_affairs.inspection.v1", CREDIT_CODE_KEY, "civil_affairs/inspection.avsc",
            "Inspections of providers (监督检查): quality score, safety findings, rectification due and done."),
    _source("src.civil_affairs.provider_registration.v1", CREDIT_CODE_KEY, "civil_affairs/provider_registration.avsc",
            "Provider registrations (主体登记) in the social-organisation, enterprise-credit or public-institution register."),
)


def _dataset(name: str, key: str, description: str) -> CatalogTopic:
    """A dataset changelog: compacted, so a new subscriber reads the current row of every key."""
    partitions = PERSON_PARTITIONS if key == PERSON_KEY else INSTITUTION_PARTITIONS
    return CatalogTopic(f"ds.{name}.v1", key, f"datasets/{name}.avsc", partitions, compact=True, retention_ms=None,
                        description=description)


CATALOG += (
    _dataset("elder", PERSON_KEY, "老年人基本信息数据集: identity, household registration and death of each elder; MERGE when two prove one."),
    _dataset("health_record", PERSON_KEY, "健康档案基本数据集: each elder's latest annual check and family-doctor contract."),
    _dataset("care_service", PERSON_KEY, "养老服务基本数据集: enrolments, latest capability assessment, subsidies and services per elder."),
    _dataset("institution", CREDIT_CODE_KEY, "基本养老服务机构组织信息基本数据集: provider base information, location, beds, grade, services."),
    _dataset("practitioner", PERSON_KEY, "养老从业人员基本数据集: caregivers' skill level, employments and occupational credit."),
    _dataset("supervision", CREDIT_CODE_KEY, "养老服务主体登记和行政监管基本数据集: provider registration and inspections."),
    CatalogTopic("alerts.risk.v1", "alert_id: hash of rule, subject and evidence", "alerts/risk.avsc", 1, compact=True,
                 retention_ms=None, description="风险预警: risk warnings (RAISED / CLEARED) with rule, evidence and amount at risk."),
)


def dead_letter_topic(connector_or_group: str) -> CatalogTopic:
    """The DLQ of a connector or consumer group: rejected records as JSON, PII masked."""
    return CatalogTopic(
        f"{DLQ_PREFIX}{connector_or_group}", "source position of the rejected record", None, 1,
        compact=False, retention_ms=4 * WEEK_MS,
        description=f"Records {connector_or_group} rejected, with headers naming stage, field, rule and source position.",
    )


def catalog_topic(name: str) -> CatalogTopic:
    for topic in CATALOG:
        if topic.name == name:
            return topic
    if name.startswith(DLQ_PREFIX):
        return dead_letter_topic(name.removeprefix(DLQ_PREFIX))
    known = ", ".join(t.name for t in CATALOG)
    raise ConfigError(f"topic {name!r} is not in the catalog; known topics: {known}")
