"""Privacy tags: hidden items never reach a doctor, and what the doctor sees still verifies against the chain."""
import json
import re

from sharing_helpers import grant

from phr import db
from phr.sharing.models import RecordShare, ShareKey


def _privacy_choices(page: str) -> dict[str, str]:
    """label → value of each taggable item on the privacy page."""
    return {label.strip(): value for value, label in
            re.findall(r'<input[^>]*value="([^"]+)"[^>]*>\s*<label[^>]*>([^<]+)</label>', page)}


def test_hidden_items_never_reach_the_doctor_and_the_rest_verifies(cast):
    pid, rid = cast.patient_id, cast.record_id
    assert grant(cast, cast.ph_id).status_code == 303
    cast.settle()
    page = cast.patient.client.get(f"/sharing/records/{rid}/privacy").get_data(as_text=True)
    choices = _privacy_choices(page)
    epilepsy = next(v for label, v in choices.items() if "G40" in label)
    kaluril = next(v for label, v in choices.items() if "Kaluril" in label)
    resp = cast.patient.post(f"/sharing/records/{rid}/privacy", {"hidden": [epilepsy, kaluril]})
    assert resp.status_code == 303
    with cast.app.app_context():
        assert db.session().get(RecordShare, rid) is not None
        assert {k.user_id for k in db.session().query(ShareKey).filter_by(record_id=rid)} == {pid, cast.ph_id}

    views = [cast.ph.client.get(f"/sharing/patients/{pid}"),
             cast.ph.client.get(f"/sharing/patients/{pid}/records/{rid}"),
             cast.ph.client.get(f"/sharing/patients/{pid}/records/{rid}/bundle.json")]
    for resp in views:
        body = resp.get_data(as_text=True)
        assert resp.status_code == 200
        for secret in ("Kaluril", "G40", "Epilep", "epilep", "癲癇", epilepsy, kaluril):
            assert secret not in body, secret
    detail = views[1].get_data(as_text=True)
    assert "Verified against the chain" in detail and "withheld by the patient" in detail, re.findall(r"integrity-\w+.{0,300}", detail, re.DOTALL)
    assert "Iunaidon" in detail  # what is not hidden is shown
    shared = json.loads(views[2].data)
    assert all(e["fullUrl"] not in (epilepsy, kaluril) for e in shared["entry"])

    # The patient still sees everything; clearing the tags gives the doctor the full record again.
    own = cast.patient.client.get(f"/records/{rid}").get_data(as_text=True)
    assert "Kaluril" in own and "Verified" in own
    assert cast.patient.post(f"/sharing/records/{rid}/privacy", {}).status_code == 303
    full = cast.ph.client.get(f"/sharing/patients/{pid}/records/{rid}").get_data(as_text=True)
    assert "Kaluril" in full and "Verified against the chain." in full
