"""Redirect targets from the request (``next``) stay on this site."""
import pytest

from phr.urls import safe_next


@pytest.mark.parametrize("target", ["/records/", "/auth/password?x=1", "/a//b"])
def test_a_path_on_this_site_is_kept(target):
    assert safe_next(target, "/home") == target


@pytest.mark.parametrize("target", [None, "", "records", "https://evil.example/", "//evil.example/",
                                    "/\\evil.example/", "/\\/evil.example/", "javascript:alert(1)"])
def test_anything_else_falls_back_to_the_default(target):
    assert safe_next(target, "/home") == "/home"
