"""Real processes stopped or killed, and a locked database: nothing lost, duplicated, orphaned or unqueued."""
import os
import re
import signal
import sqlite3
import threading
import time
from datetime import timedelta
from pathlib import Path

import requests
from sqlalchemy import select
from web_helpers import DATA, all_confirmed, drive_worker, jobs, subprocess_env, tally

from phr import db, services
from phr.launch import serving
from phr.records.models import ChainJob, PendingUpload, Record
from phr.records.service import sweep_orphans

_CONFIRM = re.compile(r'action="(/records/upload/[0-9a-f]+/confirm)"')


def _staged(patient) -> str:
    preview = patient.upload(DATA / "fhir" / "valid-collection.json")
    return _CONFIRM.search(preview.get_data(as_text=True)).group(1)


def _objects(app) -> set[str]:
    with app.app_context():
        return {o.key for o in services.storage().list("records/")}


def test_locked_database_refuses_clearly_and_leaves_no_object(patient, live_app, sweep):
    tally(sweep, "faults injected")
    action = _staged(patient)
    live_app.config["DB_BUSY_TIMEOUT"] = 1.0
    live_app.extensions["phr.engine"].dispose()
    live_app.extensions["phr.engine"] = db.make_engine(live_app.config["DATABASE_URL"], 1.0)
    live_app.extensions["phr.session"].configure(bind=live_app.extensions["phr.engine"])
    path = live_app.config["DATABASE_URL"].removeprefix("sqlite:///")
    objects_before = _objects(live_app)
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        resp = patient.post("/records/upload", {}, action=action)
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert resp.status_code == 503
    assert "database is busy" in resp.get_data(as_text=True)
    assert _objects(live_app) == objects_before  # the stored ciphertext was taken back
    with live_app.app_context():
        assert db.session().query(Record).count() == 0
        assert db.session().query(PendingUpload).count() == 1  # the staged upload survives for a retry
    assert patient.post("/records/upload", {}, action=action).status_code == 303


def test_object_store_down_then_back(patient, live_app, objectstore, sweep):
    tally(sweep, "faults injected")
    action = _staged(patient)
    objectstore.down()
    try:
        resp = patient.post("/records/upload", {}, action=action)
        assert resp.status_code == 409 and "could not be stored" in resp.get_data(as_text=True)
        with live_app.app_context():
            assert db.session().query(Record).count() == 0 and db.session().query(ChainJob).count() == 0
        assert patient.client.get("/records/").status_code == 200
    finally:
        objectstore.up()
    assert patient.post("/records/upload", {}, action=action).status_code == 303
    drive_worker(live_app, all_confirmed(live_app))


def test_app_workers_killed_mid_upload_lose_nothing(live_app, sweep, tmp_path):
    """Eight clients upload while every gunicorn worker is kill -9'd twice; then check every invariant."""
    # Four threads per worker, so that each kill cuts several uploads in flight.
    with serving(subprocess_env(live_app.config), tmp_path / "logs", threads=4, worker=False) as app:
        base = app.base
        sessions = [_register(base, f"k{i}@example.org") for i in range(8)]
        stop = time.monotonic() + 8
        outcomes = {"ok": 0, "cut": 0}

        def client(http):
            while time.monotonic() < stop:
                try:
                    _upload(base, http)
                    outcomes["ok"] += 1
                except (requests.RequestException, AttributeError):
                    outcomes["cut"] += 1  # the worker serving this request was killed; a person would retry

        threads = [threading.Thread(target=client, args=(s,)) for s in sessions]
        for t in threads:
            t.start()
        for _ in range(2):
            time.sleep(2.5)
            for pid in _children(app.web.pid):
                os.kill(pid, signal.SIGKILL)
        for t in threads:
            t.join()
    assert outcomes["ok"] > 0 and outcomes["cut"] > 0, outcomes

    with live_app.app_context():
        records = db.session().scalars(select(Record)).all()
        anchor_jobs = {j.record_id for j in db.session().scalars(select(ChainJob).where(ChainJob.kind == "anchor"))}
        assert records and {r.id for r in records} == anchor_jobs  # every record is queued for anchoring
        stored = {o.key for o in services.storage().list("records/")}
        assert {r.storage_key for r in records} <= stored  # every record has its object
        orphans = sweep_orphans(min_age=timedelta(0))
        assert set(orphans) == stored - {r.storage_key for r in records}
        assert {o.key for o in services.storage().list("records/")} == {r.storage_key for r in records}
    drive_worker(live_app, all_confirmed(live_app), timeout=120)
    with live_app.app_context():
        chain = services.ledger()
        verified = [r for r in db.session().scalars(select(Record))
                    if chain.get_anchor(bytes.fromhex(r.anchor_id), r.owner.eth_address).record_hash.hex() == r.sha256]
    tally(sweep, "faults injected", 2)  # two kill -9 rounds
    tally(sweep, "records uploaded during faults", len(records))
    tally(sweep, "records lost", len(records) - len(verified))
    tally(sweep, "orphan objects swept", len(orphans))
    assert len(verified) == len(records)
    assert len({(j.sender, j.nonce) for j in jobs(live_app)}) == len(jobs(live_app))


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _token(http, url: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', http.get(url, timeout=30).text).group(1)


def _register(base: str, email: str) -> requests.Session:
    http = requests.Session()
    password = "kill test password"
    resp = http.post(base + "/auth/register", timeout=60, allow_redirects=False, data={
        "csrf_token": _token(http, base + "/auth/register"), "email": email, "display_name": email,
        "password": password, "confirm": password, "role": "patient", "custody": "platform"})
    assert resp.status_code == 303
    http.post(base + "/auth/kit/done", data={"csrf_token": _token(http, base + "/auth/kit")}, timeout=30)
    return http


def _upload(base: str, http: requests.Session) -> None:
    preview = http.post(base + "/records/upload", timeout=30, data={"csrf_token": _token(http, base + "/records/upload")},
                        files={"file": ("b.json", (DATA / "fhir" / "valid-collection.json").read_bytes())})
    action = _CONFIRM.search(preview.text).group(1)
    http.post(base + action, data={"csrf_token": _token(http, base + "/records/upload")}, timeout=30,
              allow_redirects=False)
