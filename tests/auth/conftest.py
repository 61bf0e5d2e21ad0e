"""Auth fixtures: a second browser (``auth`` and the fast KDF profile come from tests/conftest.py)."""
from __future__ import annotations

import pytest
from auth_helpers import AuthActions
from flask import Flask


@pytest.fixture
def other_auth(app: Flask) -> AuthActions:
    """A second browser on the same app."""
    return AuthActions(app.test_client(), app)
