"""The Alembic history and the models describe the same schema (a model change without its migration fails here)."""
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from phr import db, models  # noqa: F401 - registers every table on db.Base.metadata
from phr.records import models as record_models  # noqa: F401
from phr.sharing import models as sharing_models  # noqa: F401

ROOT = Path(__file__).parents[2]


def test_one_head():
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, heads


def test_models_match_the_migrated_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'drift.sqlite3'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.Base.metadata)
    engine.dispose()
    assert diff == []
