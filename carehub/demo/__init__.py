"""Demo data for a pilot region and the demo that runs it through the hub."""
