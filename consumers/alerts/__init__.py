"""Risk warnings (风险预警) that cross-source reconciliation catches: the rules and the alerts they raise."""

from consumers.alerts.alert import RULES, Alert, Rule
from consumers.alerts.rules import caregiver_alerts, institution_alerts, person_alerts

__all__ = ["RULES", "Alert", "Rule", "caregiver_alerts", "institution_alerts", "person_alerts"]
