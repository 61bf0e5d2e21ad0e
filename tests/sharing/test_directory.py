"""The doctor directory on the sharing page: each card says whether its doctor has access, also after htmx swaps."""
import re

HTMX = {"HX-Request": "true"}


def _split(resp) -> tuple[str, str]:
    """An htmx grant/revoke answer: the grants list (swapped into #granted), then the directory (out of band)."""
    assert resp.status_code == 200, resp.get_data(as_text=True)
    granted, _, directory = resp.get_data(as_text=True).partition('<ul id="directory"')
    assert directory, "the answer does not carry the directory"
    assert 'hx-swap-oob="true"' in directory[:directory.index(">")]
    return granted, directory


def _grant_button_for(doctor_id: int) -> str:
    return f'name="doctor_id" value="{doctor_id}"'


def test_granting_then_revoking_with_htmx_updates_the_doctors_card_without_a_reload(cast):
    # The patient has searched the directory for the Philippine doctor and presses "Grant access" (htmx).
    resp = cast.patient.post("/sharing/", {"doctor_id": str(cast.ph_id), "scope": "all", "q": "Philippines"},
                             action="/sharing/grant", headers=HTMX)
    granted, directory = _split(resp)
    assert "Dr Maria Santos" in granted
    # Her card now says she has access, with no grant form left; the search filter is kept.
    assert "Has access" in directory and "Dr Maria Santos" in directory
    assert _grant_button_for(cast.ph_id) not in directory
    assert "Dr Somchai" not in directory

    # The patient revokes from the list (no search active): the card offers a grant again.
    page = cast.patient.client.get("/sharing/").get_data(as_text=True)
    grant_id = re.search(r"/sharing/grants/(\d+)/revoke", page).group(1)
    resp = cast.patient.post("/sharing/", {"q": ""}, action=f"/sharing/grants/{grant_id}/revoke", headers=HTMX)
    granted, directory = _split(resp)
    assert "No doctor has access to your records." in granted
    assert "Has access" not in directory
    assert _grant_button_for(cast.ph_id) in directory and _grant_button_for(cast.th_id) in directory


def test_without_javascript_granting_redirects_to_the_page_whose_card_shows_access(cast):
    resp = cast.patient.post("/sharing/", {"doctor_id": str(cast.ph_id), "scope": "all"}, action="/sharing/grant")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/sharing/")
    page = cast.patient.client.get(resp.headers["Location"]).get_data(as_text=True)
    directory = page[page.index('<ul id="directory"'):]
    assert 'hx-swap-oob' not in directory[:directory.index(">")]
    assert "Has access" in directory and _grant_button_for(cast.ph_id) not in directory
