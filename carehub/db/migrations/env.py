"""Alembic environment: migrations run on the engine carehub hands over, never from a URL in a file."""

from alembic import context

from carehub.db.metadata import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=engine.dialect.name == "sqlite",
    )
    context.run_migrations()
