"""Issue 14, item 9: a doctor's read decrypts and writes a chain log entry in the doctor's name, so a link on
another site must not be able to make the doctor's browser do it; the same read started on this site is logged."""
from __future__ import annotations

from sharing_helpers import grant
from web_helpers import tally

from phr import db
from phr.records.models import ChainJob
from phr.sharing.models import AccessEvent

CROSS_SITE = [{"Sec-Fetch-Site": "cross-site"}, {"Referer": "https://evil.example/"}]  # the latter: no Fetch Metadata


def _logged(app) -> tuple[int, int]:
    with app.app_context():
        session = db.session()
        return (session.query(AccessEvent).filter(AccessEvent.action.in_(("read", "download"))).count(),
                session.query(ChainJob).filter_by(kind="log").count())


def test_a_cross_site_link_to_a_doctors_read_logs_nothing_until_the_doctor_opens_it_here(cast, sweep):
    assert grant(cast, cast.ph_id).status_code == 303
    cast.settle()
    pid, rid = cast.patient_id, cast.record_id
    paths = [f"/sharing/patients/{pid}", f"/sharing/patients/{pid}/records/{rid}",
             f"/sharing/patients/{pid}/records/{rid}/bundle.json"]
    before = _logged(cast.app)
    for path in paths:
        for headers in CROSS_SITE:
            resp = cast.ph.client.get(path, headers=headers)
            page = resp.get_data(as_text=True)
            assert resp.status_code == 200 and "Open this record?" in page, (path, headers)
            assert f'href="{path}"' in page  # the doctor can go on, from here
            assert "Cofarin" not in page and "E11.9" not in page  # nothing decrypted
            assert resp.headers["Cache-Control"] == "no-store"
    assert _logged(cast.app) == before  # no read logged, no chain transaction queued

    same_site = {"Sec-Fetch-Site": "same-origin", "Referer": f"http://localhost{paths[1]}"}
    for path in paths:
        resp = cast.ph.client.get(path, headers=same_site)
        assert resp.status_code == 200 and "Open this record?" not in resp.get_data(as_text=True), path
    assert "Cofarin" in cast.ph.client.get(paths[1], headers={"Sec-Fetch-Site": "none"}).get_data(as_text=True)
    reads, logs = _logged(cast.app)
    assert reads == before[0] + 4 and logs == before[1] + 4  # patient page + record + download + typed URL
    tally(sweep, "issue-14 attacks reproduced and stopped")
