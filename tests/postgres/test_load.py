"""Load: 50 concurrent users for 60 s against gunicorn as production runs it (4 sync workers) + the anchoring worker
+ the devnet + PostgreSQL.

Mixed upload / view / share traffic through real HTTP. Asserts behaviour — no server error, every upload
anchored exactly once — and prints latency figures per action (not asserted: speed belongs to bench/).
"""
from __future__ import annotations

import os
import random
import re
import statistics
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text
from web_helpers import subprocess_env, tally

from phr.launch import serving

USERS, PATIENTS = 50, 40
WORKERS = 4  # as the Dockerfile and docker-compose.yml run gunicorn
DURATION = float(os.environ.get("PHR_LOAD_SECONDS", "60"))
FILE = (Path(__file__).resolve().parent.parent / "data" / "fhir" / "valid-collection.json").read_bytes()
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PASSWORD = "load test password 1"


@pytest.fixture
def server(database_url, devnet, registry, objectstore, storage, tmp_path):
    """gunicorn with production's sync workers (Dockerfile: ``-w 4``) plus the anchoring worker."""
    env = subprocess_env({
        "SECRET_KEY": "load-test-" + "0" * 32, "DATABASE_URL": database_url, "INSTANCE_DIR": tmp_path,
        "S3_ENDPOINT": objectstore.endpoint, "S3_ACCESS_KEY": objectstore.access_key,
        "S3_SECRET_KEY": objectstore.secret_key, "S3_BUCKET": storage.bucket, "RPC_URLS": devnet.rpc_urls,
        "CONTRACT_ADDRESS": registry, "CHAIN_ID": devnet.chain_id, "FAUCET_KEY": devnet.faucet_key,
    })
    with serving(env, tmp_path / "logs", workers=WORKERS) as app:
        yield app.base


class User:
    """One simulated person with a browser session."""

    def __init__(self, base: str, email: str, role: str, stats):
        self.base, self.email, self.role, self.stats = base, email, role, stats
        self.http = requests.Session()

    def _timed(self, action: str, method: str, path: str, **kw) -> requests.Response:
        start = time.perf_counter()
        resp = self.http.request(method, self.base + path, timeout=120, allow_redirects=False, **kw)
        self.stats[action].append((time.perf_counter() - start, resp.status_code))
        return resp

    def _token(self, path: str) -> str:
        return CSRF.search(self.http.get(self.base + path, timeout=120).text).group(1)

    def register(self):
        data = {"csrf_token": self._token("/auth/register"), "email": self.email, "display_name": self.email,
                "password": PASSWORD, "confirm": PASSWORD, "role": self.role, "custody": "platform"}
        if self.role == "doctor":
            data |= {"country": "Philippines", "institution": "Load Hospital", "licence_no": "L-1"}
        resp = self._timed("register", "POST", "/auth/register", data=data)
        assert resp.status_code == 303, resp.text[-500:]
        self._timed("kit-done", "POST", "/auth/kit/done", data={"csrf_token": self._token("/auth/kit")})

    def upload(self):
        token = self._token("/records/upload")
        preview = self._timed("upload-preview", "POST", "/records/upload", data={"csrf_token": token},
                              files={"file": ("bundle.json", FILE, "application/json")})
        action = re.search(r'action="(/records/upload/[0-9a-f]+/confirm)"', preview.text).group(1)
        self._timed("upload-confirm", "POST", action, data={"csrf_token": CSRF.search(preview.text).group(1)})

    def view(self):
        page = self._timed("timeline", "GET", "/records/")
        ids = re.findall(r"/records/([0-9a-f]{64})", page.text)
        if ids:
            self._timed("record", "GET", f"/records/{random.choice(ids)}")

    def share(self, doctor_ids: list[str]):
        page = self.http.get(self.base + "/sharing/", timeout=120).text
        free = [d for d in doctor_ids if f'name="doctor_id" value="{d}"' in page]
        if free:
            self._timed("grant", "POST", "/sharing/grant",
                        data={"csrf_token": CSRF.search(page).group(1), "doctor_id": random.choice(free), "scope": "all"})

    def doctor_round(self):
        page = self._timed("doctor-patients", "GET", "/sharing/patients")
        pids = re.findall(r"/sharing/patients/(\d+)", page.text)
        if pids:
            self._timed("doctor-patient", "GET", f"/sharing/patients/{random.choice(pids)}")


def _percentile(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100)[q - 1] if len(samples) > 1 else samples[0]


def test_fifty_users_for_a_minute_get_no_server_error_and_every_upload_anchors(server, database_url, capsys, sweep,
                                                                              tmp_path):
    stats: dict[str, list] = defaultdict(list)
    users = [User(server, f"p{i}@load.test", "patient", stats) for i in range(PATIENTS)]
    users += [User(server, f"d{i}@load.test", "doctor", stats) for i in range(USERS - PATIENTS)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(User.register, users))
    engine = create_engine(database_url)
    try:
        _run_and_check(server, engine, users, stats, capsys, sweep, tmp_path / "logs" / "gunicorn.log")
    finally:
        engine.dispose()


def _run_and_check(server, engine, users, stats, capsys, sweep, web_log: Path):
    with engine.connect() as conn:
        doctor_ids = [str(r[0]) for r in conn.execute(text("SELECT id FROM users WHERE role = 'doctor'"))]

    stop = time.monotonic() + DURATION
    failures = []

    def run(user: User):
        rnd = random.Random(user.email)
        try:
            while time.monotonic() < stop:
                if user.role == "doctor":
                    user.doctor_round()
                    continue
                roll = rnd.random()
                if roll < 0.3:
                    user.upload()
                elif roll < 0.9:
                    user.view()
                else:
                    user.share(doctor_ids)
        except Exception as exc:  # reported below with the user, never swallowed
            failures.append((user.email, repr(exc)))

    threads = [threading.Thread(target=run, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    errors = [(action, code) for action, samples in stats.items() for _, code in samples if code >= 500]
    tally(sweep, "load: requests", sum(len(v) for v in stats.values()))
    tally(sweep, "load: server errors (5xx)", len(errors))
    log = web_log.read_text(errors="replace")
    assert failures == [] and errors == [], (failures, errors, log[-3000:])
    assert "WORKER TIMEOUT" not in log and log.count("Booting worker") == WORKERS, log[-3000:]  # no worker died
    uploads = len(stats["upload-confirm"])
    assert uploads > 0

    deadline = time.monotonic() + 180
    while True:
        with engine.connect() as conn:
            pending = conn.execute(text("SELECT count(*) FROM chain_jobs WHERE status <> 'confirmed'")).scalar()
            failed = conn.execute(text("SELECT count(*) FROM chain_jobs WHERE status = 'failed'")).scalar()
            records, anchored = conn.execute(text(
                "SELECT count(*), count(j.id) FROM records r LEFT JOIN chain_jobs j ON j.record_id = r.id "
                "AND j.kind = 'anchor' AND j.status = 'confirmed'")).one()
        if pending == 0 or failed or time.monotonic() > deadline:
            break
        time.sleep(1)
    with engine.connect() as conn:
        why = conn.execute(text("SELECT kind, status, last_error FROM chain_jobs WHERE status <> 'confirmed'")).all()
    assert failed == 0 and pending == 0, why
    tally(sweep, "load: uploads", uploads)
    tally(sweep, "load: uploads not anchored", uploads - anchored)
    assert records == anchored == uploads

    with capsys.disabled():
        print(f"\nload: {USERS} users, {DURATION:.0f} s, gunicorn {WORKERS} sync workers, {uploads} uploads anchored")
        print(f"{'action':<18}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}")
        for action in sorted(stats):
            if action in ("register", "kit-done"):
                continue
            times = [t for t, _ in stats[action]]
            print(f"{action:<18}{len(times):>9}{_percentile(times, 50) * 1000:>9.0f}{_percentile(times, 95) * 1000:>9.0f}")
