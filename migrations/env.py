"""Alembic environment: migrates the database named by sqlalchemy.url or PHR_DATABASE_URL."""
from alembic import context

from phr import models  # noqa: F401  (registers every table on Base.metadata)
from phr.config import from_environment
from phr.db import Base, make_engine
from phr.records import models as record_models  # noqa: F401
from phr.sharing import models as sharing_models  # noqa: F401

config = context.config
url = config.get_main_option("sqlalchemy.url") or from_environment()["DATABASE_URL"]


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
