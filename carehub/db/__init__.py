"""The hub database: engine, table metadata and migrations (SQLite or PostgreSQL)."""
