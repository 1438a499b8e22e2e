"""The query API downstream systems read the datasets through: access profiles, routes and the audit log."""
