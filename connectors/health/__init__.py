"""Record types of the health (卫健) source family: basic public-health elderly health management."""
