"""Population-registry (人口基础信息库) record types."""
