"""Page or fragment: one rule, and the answer always says which headers it varied on."""
import pytest
from flask import Flask

from phr.htmx import fragment_wanted


@pytest.fixture()
def client():
    app = Flask(__name__)

    @app.get("/")
    def page():
        return "fragment" if fragment_wanted() else "page"

    @app.get("/aimed")
    def aimed():
        return "fragment" if fragment_wanted(target="list") else "page"

    @app.get("/fired")
    def fired():
        return "fragment" if fragment_wanted(trigger="search") else "page"

    return app.test_client()


@pytest.mark.parametrize("headers, body", [
    ({}, "page"),
    ({"HX-Request": "true"}, "fragment"),
    ({"HX-Request": "true", "HX-Boosted": "true"}, "page"),  # boosted navigation wants the whole page
])
def test_an_htmx_request_gets_the_fragment_unless_boosted(client, headers, body):
    resp = client.get("/", headers=headers)
    assert resp.get_data(as_text=True) == body
    assert {"HX-Request", "HX-Boosted"} <= set(resp.vary)


def test_a_fragment_aimed_at_one_element_is_only_for_that_element(client):
    assert client.get("/aimed", headers={"HX-Request": "true", "HX-Target": "list"}).get_data(as_text=True) == "fragment"
    resp = client.get("/aimed", headers={"HX-Request": "true", "HX-Target": "other"})
    assert resp.get_data(as_text=True) == "page" and "HX-Target" in resp.vary


def test_a_fragment_fired_by_one_element_is_only_for_that_element(client):
    assert client.get("/fired", headers={"HX-Request": "true", "HX-Trigger": "search"}).get_data(as_text=True) == "fragment"
    resp = client.get("/fired", headers={"HX-Trigger": "search"})  # not an htmx request
    assert resp.get_data(as_text=True) == "page" and "HX-Trigger" in resp.vary
