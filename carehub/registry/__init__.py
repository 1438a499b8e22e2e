"""Schema registry: the Confluent REST subset, served from the hub database, and a client."""
