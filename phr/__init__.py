"""PHR exchange platform: Flask application factory."""
from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask

from . import db, errors, i18n, labels, origin, security_headers
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
    if app.config["KDF_PROFILE"] != "strong" and not app.config.get("TESTING"):
        raise RuntimeError("KDF_PROFILE other than 'strong' is for the test suite only.")

    db.init_app(app)
    security_headers.init_app(app)
    origin.init_app(app)
    i18n.init_app(app)
    labels.init_app(app)
    errors.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)

    from .auth.views import bp as auth_bp
    from .auth.views import load_user
    from .blocks.views import bp as blocks_bp
    from .records.views import bp as records_bp
    from .sharing.views import bp as sharing_bp
    from .status import bp as status_bp
    from .validators.views import bp as validators_bp

    login_manager.user_loader(load_user)
    app.register_blueprint(auth_bp)
    app.register_blueprint(records_bp)
    app.register_blueprint(sharing_bp)
    app.register_blueprint(status_bp)
    app.register_blueprint(blocks_bp)
    app.register_blueprint(validators_bp)
    app.jinja_env.globals["has_endpoint"] = lambda endpoint: endpoint in app.view_functions

    if app.config.get("EXPOSE_WORKER_PID"):  # lets tests see which gunicorn worker answered
        @app.after_request
        def _worker_pid(resp):
            resp.headers["X-Worker-PID"] = str(os.getpid())
            return resp

    return app
