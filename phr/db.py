"""Database engine, session and migrations (SQLAlchemy 2 + Alembic).

One engine per app; a scoped session per request, removed at teardown.
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app, render_template
from flask_babel import gettext as _
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, scoped_session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class Base(DeclarativeBase):
    """Declarative base of every table."""


def make_engine(url: str, busy_timeout: float = 30.0) -> Engine:
    """Create an engine; SQLite gets WAL and a busy timeout so several processes can share it."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": busy_timeout})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def upgrade(url: str) -> None:
    """Bring the database at ``url`` to the newest Alembic revision."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(cfg, "head")


def init_app(app: Flask) -> None:
    """Bind an engine and a scoped session to ``app``."""
    engine = make_engine(app.config["DATABASE_URL"], app.config.get("DB_BUSY_TIMEOUT", 30.0))
    app.extensions["phr.engine"] = engine
    app.extensions["phr.session"] = scoped_session(sessionmaker(bind=engine, expire_on_commit=False))

    @app.teardown_appcontext
    def _remove_session(_exc):
        app.extensions["phr.session"].remove()

    @app.errorhandler(OperationalError)
    def _database_unavailable(_exc):
        app.extensions["phr.session"].rollback()
        message = _("The database is busy or unavailable, so nothing was saved. Please try again in a moment.")
        return render_template("error.html", message=message), 503


def session():
    """The current app's scoped database session."""
    return current_app.extensions["phr.session"]
