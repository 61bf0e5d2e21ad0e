"""Issue 14, item 9: a state-changing request that another site started is refused, valid CSRF token or not."""
from __future__ import annotations

from web_helpers import tally

from phr import origin

FOREIGN = [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},  # sandboxed frame, data: URL, cross-origin redirect
    {"Referer": "https://evil.example/page.html"},  # no Origin: the Referer speaks
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},  # a sibling subdomain is another origin
    {"Origin": "http://localhost.evil.example", "Sec-Fetch-Site": "cross-site"},
]


def test_a_post_from_another_site_with_a_valid_token_is_refused(auth, client, sweep):
    auth.register_patient("mei@example.tw")
    for headers in FOREIGN:
        token = auth.csrf("/auth/account")
        resp = client.post("/auth/logout", data={"csrf_token": token}, headers=headers)
        assert resp.status_code == 403, headers
        assert client.get("/auth/account").status_code == 200, headers  # still logged in: nothing happened
    token = auth.csrf("/auth/account")
    same = {"Origin": "http://localhost", "Referer": "http://localhost/auth/account", "Sec-Fetch-Site": "same-origin"}
    assert client.post("/auth/logout", data={"csrf_token": token}, headers=same).status_code == 303
    assert client.get("/auth/account").status_code == 302  # logged out by the same-site form
    tally(sweep, "issue-14 attacks reproduced and stopped")


def test_requests_without_browser_headers_and_safe_methods_pass(auth, client):
    auth.register_patient("mei@example.tw")
    assert client.get("/auth/account", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200  # a link
    assert auth.logout().status_code == 303  # no Origin, Referer or Sec-Fetch-Site: not a browser's cross-site POST


def test_public_origin_setting_names_the_site_behind_a_proxy(app, auth, client):
    app.config["PUBLIC_ORIGIN"] = "https://phr.example.org"
    auth.register_patient("mei@example.tw")
    token = auth.csrf("/auth/account")
    assert client.post("/auth/logout", data={"csrf_token": token},
                       headers={"Origin": "http://localhost"}).status_code == 403  # not the public site
    assert client.post("/auth/logout", data={"csrf_token": token},
                       headers={"Origin": "https://phr.example.org"}).status_code == 303


def test_a_plain_form_goes_back_only_to_a_path_on_this_site(app):
    """``origin.back``: our Referer's path, but never one a browser reads as another host (``//evil``, ``/\\evil``)."""
    for referrer, expected in [("http://localhost/records/?page=2", "/records/?page=2"),
                               ("http://localhost//evil.example/x", "/fallback"),
                               ("http://localhost/\\evil.example", "/fallback"),
                               ("http://evil.example/records/", "/fallback")]:
        with app.test_request_context("/sharing/hidden", method="POST", headers={"Referer": referrer}):
            assert origin.back("/fallback") == expected, referrer
