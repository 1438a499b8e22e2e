"""Record types a connector YAML may name in `record:`; one line per canonical record."""

from __future__ import annotations

from connectors.civil_affairs.capability_assessment import CapabilityAssessment
from connectors.civil_affairs.enrolment import Enrolment
from connectors.civil_affairs.inspection import Inspection
from connectors.civil_affairs.institution import Institution
from connectors.civil_affairs.practitioner import Practitioner
from connectors.civil_affairs.provider_registration import ProviderRegistration
from connectors.civil_affairs.service_record import ServiceRecord
from connectors.civil_affairs.subsidy_payment import SubsidyPayment
from connectors.health.checkup import Checkup
from connectors.health.family_doctor_contract import FamilyDoctorContract
from connectors.registry.death import DeathRegistration
from connectors.registry.household_move import HouseholdMove
from connectors.registry.person import Person
from connectors.sdk.record import CanonicalRecord

RECORD_TYPES: dict[str, type[CanonicalRecord]] = {
    "registry.person": Person,
    "registry.death": DeathRegistration,
    "registry.household_move": HouseholdMove,
    "health.checkup": Checkup,
    "health.family_doctor_contract": FamilyDoctorContract,
    "civil_affairs.enrolment": Enrolment,
    "civil_affairs.capability_assessment": CapabilityAssessment,
    "civil_affairs.subsidy_payment": SubsidyPayment,
    "civil_affairs.service_record": ServiceRecord,
    "civil_affairs.institution": Institution,
    "civil_affairs.inspection": Inspection,
    "civil_affairs.practitioner": Practitioner,
    "civil_affairs.provider_registration": ProviderRegistration,
}
