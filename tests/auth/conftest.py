"""Auth fixtures: the shared ``app`` with the test KDF profile, and ``auth`` drivers (see auth_helpers)."""
from __future__ import annotations

import pytest
from auth_helpers import AuthActions
from flask import Flask
from flask.testing import FlaskClient


@pytest.fixture
def app(app: Flask) -> Flask:
    """The shared fresh app, with cheap Argon2/scrypt so the suite stays fast (production uses "strong")."""
    app.config["KDF_PROFILE"] = "fast"
    return app


@pytest.fixture
def auth(client: FlaskClient, app: Flask) -> AuthActions:
    return AuthActions(client, app)


@pytest.fixture
def other_auth(app: Flask) -> AuthActions:
    """A second browser on the same app."""
    return AuthActions(app.test_client(), app)
