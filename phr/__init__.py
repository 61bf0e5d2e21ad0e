"""PHR exchange platform: Flask application factory."""
from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from . import db
from .config import ROOT, from_environment
from .extensions import csrf, login_manager


def create_app(config: Mapping | None = None) -> Flask:
    """Build the app from ``PHR_*`` environment variables, overlaid with ``config``."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(from_environment())
    if config:
        app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("PHR_SECRET_KEY is not set; the local stack generates one in instance/ (make dev).")

    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)

    from .status import bp as status_bp

    app.register_blueprint(status_bp)
    return app
