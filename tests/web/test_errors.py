"""Werkzeug's bare error pages are replaced by the site's layout, in the user's language."""
import pytest


@pytest.mark.parametrize(("path", "method", "status"), [("/no-such-page", "get", 404), ("/lang", "get", 405),
                                                          ("/lang", "post", 400)])
def test_http_errors_render_in_the_layout(client, path, method, status):
    resp = getattr(client, method)(path)
    page = resp.get_data(as_text=True)
    assert resp.status_code == status and '<nav class="site-nav"' in page and "Something went wrong" in page
    assert resp.headers["Content-Security-Policy"]


def test_error_page_speaks_the_users_language(client):
    page = client.get("/no-such-page", headers={"Accept-Language": "zh-TW"}).get_data(as_text=True)
    assert "發生錯誤" in page and "沒有這個頁面。" in page
