"""``python -m bench``: measure anchoring, viewing and listing on a throwaway local stack, each against a baseline.

Starts its own geth clique devnet (3 signers, 1-second blocks), a SeaweedFS S3
server and the app (Flask test client and service functions, one SQLite
database per anchoring mode) under a temporary directory, runs every scenario,
prints a Markdown table and writes it as JSON to ``bench/results/latest.json``.
Every figure is shown next to a baseline measured in the same run. Takes a few
minutes; see bench/README.md.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import secrets
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Self

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import insert, text

from phr import create_app, custody, db, services, vault
from phr.anchoring import Worker
from phr.auth.service import SESSION_KEY
from phr.custody import KeyBundle
from phr.devnet import Devnet
from phr.importer import import_file
from phr.importer.fhir import canonical_bytes
from phr.ledger import Ledger
from phr.models import User
from phr.records import service
from phr.records.models import Record
from phr.seaweed import LocalObjectStore
from phr.storage import Storage

from .report import Row, percentile, table, to_json

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
RESULTS = ROOT / "bench" / "results" / "latest.json"
PERIOD = 1  # seconds per block
BUCKET = "bench"
_CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
ANCHORED_SQL = text("""
    SELECT record_id, status FROM chain_jobs WHERE kind = 'anchor' AND status IN ('mined', 'confirmed')
    UNION SELECT m.record_id, j.status FROM batch_members m JOIN anchor_batches b ON m.batch_id = b.id
          JOIN chain_jobs j ON b.job_id = j.id WHERE j.status IN ('mined', 'confirmed')""")


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ----- the stack and the apps ---------------------------------------------------------------
class Stack:
    """Devnet + object store + registry under ``tmp``; one app (own database) per anchoring mode."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.net = Devnet(tmp / "devnet", signers=3, period=PERIOD, base_port=None)
        self.store = LocalObjectStore(tmp / "s3", s3_port=None)

    def __enter__(self) -> Self:
        self.net.up()
        self.store.up()
        self.address = Ledger(self.net.rpc_urls).deploy(self.net.faucet_key)
        Storage(self.store.endpoint, self.store.access_key, self.store.secret_key, BUCKET).ensure_bucket()
        return self

    def __exit__(self, *exc):
        self.store.down()
        self.net.down()

    def app(self, mode: str):
        url = f"sqlite:///{self.tmp / f'{mode}.sqlite3'}"
        db.upgrade(url)
        return create_app({
            "TESTING": True, "SECRET_KEY": secrets.token_hex(16), "DATABASE_URL": url,
            "INSTANCE_DIR": str(self.tmp), "S3_ENDPOINT": self.store.endpoint, "S3_ACCESS_KEY": self.store.access_key,
            "S3_SECRET_KEY": self.store.secret_key, "S3_BUCKET": BUCKET, "RPC_URLS": self.net.rpc_urls,
            "CONTRACT_ADDRESS": self.address, "CHAIN_ID": self.net.chain_id, "FAUCET_KEY": self.net.faucet_key,
            "CONFIRMATIONS": 1, "KDF_PROFILE": "fast", "ANCHOR_MODE": mode,
            "BATCH_WINDOW_SECONDS": 5.0, "BATCH_MAX": 1024, "BATCH_LEAD_SECONDS": 0.25,
        })


class WorkerThread(threading.Thread):
    """The anchoring worker (``python -m phr.worker``) in a thread, polling every 0.1 s."""

    def __init__(self, app):
        super().__init__(daemon=True)
        self.app, self.stopping = app, False

    def run(self):
        with self.app.app_context():
            Worker.from_config(db.session(), services.ledger(), self.app.config).run(
                poll=0.1, stop=lambda: self.stopping)

    def stop(self):
        self.stopping = True
        self.join(30)


class AnchorWatch(threading.Thread):
    """Notes the first moment each record's anchor is seen in a block (``mined``) and confirmed (``seen``: one
    block on top), polling the database every 20 ms."""

    def __init__(self, app):
        super().__init__(daemon=True)
        self.app, self.seen, self.mined, self.stopping = app, {}, {}, False

    def run(self):
        with self.app.app_context():
            while not self.stopping:
                now = time.perf_counter()
                for rid, status in db.session().execute(ANCHORED_SQL):
                    self.mined.setdefault(rid, now)
                    if status == "confirmed":
                        self.seen.setdefault(rid, now)
                db.session().rollback()
                time.sleep(0.02)

    def wait_for(self, ids, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while not all(i in self.seen for i in ids):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{sum(i not in self.seen for i in ids)} records not anchored in {timeout:.0f}s")
            time.sleep(0.05)


@contextmanager
def anchoring(app, *, start_worker: bool = True):
    """A running anchor watch and worker thread for ``app`` (the worker may be started later by the caller)."""
    watch, worker = AnchorWatch(app), WorkerThread(app)
    watch.start()
    if start_worker:
        worker.start()
    try:
        yield watch, worker
    finally:
        if worker.is_alive():
            worker.stop()
        watch.stopping = True


def new_user(app, email: str) -> tuple[int, KeyBundle]:
    """A patient row with fresh keys (no KDF: only the service-level scenarios use it)."""
    with app.app_context():
        bundle = KeyBundle.generate()
        user = User(email=email, role="patient", display_name=email, custody="platform", password_hash="-",
                    rsa_public_pem=bundle.public_pem.decode(), eth_address=bundle.eth_address)
        db.session().add(user)
        db.session().commit()
        return user.id, bundle


def fund(stack: Stack, app, addresses: list[str]) -> None:
    """Gas money up front, so per-record throughput is not measured through first-time faucet top-ups."""
    with app.app_context():
        chain = services.ledger()
        hashes_ = [chain.transfer(stack.net.faucet_key, a, 10**18) for a in addresses]
        for h in hashes_:
            chain.wait(h)


class Browser:
    """A logged-in patient using the real pages through the test client (CSRF tokens and all)."""

    def __init__(self, app, email: str):
        self.app, self.client = app, app.test_client()
        self._post("/auth/register", {"email": email, "display_name": email, "password": "bench password 123",
                                      "confirm": "bench password 123", "role": "patient", "custody": "platform"})
        self._post("/auth/kit", {}, action="/auth/kit/done")
        with self.client.session_transaction() as sess:
            session_id, secret = sess[SESSION_KEY]
        with app.app_context():
            self.keys = custody.unlocked_keys(session_id, bytes.fromhex(secret))
            self.user_id = db.session().query(User).filter_by(email=email).one().id

    def _post(self, form_path, data, action=None):
        token = _CSRF.search(self.client.get(form_path).get_data(as_text=True)).group(1)
        resp = self.client.post(action or form_path, data={"csrf_token": token, **data})
        assert resp.status_code in (200, 303), resp.status_code
        return resp

    def timed_get(self, path: str, n: int, warmup: int = 2) -> list[float]:
        for _ in range(warmup):
            self.client.get(path)
        out = []
        for _ in range(n):
            t0 = time.perf_counter()
            resp = self.client.get(path)
            out.append(time.perf_counter() - t0)
            assert resp.status_code == 200, resp.status_code
        return out


def create(app, user_id: int, keys: KeyBundle, bundle: dict) -> str:
    """One record through the real service function (validate, seal, store, sign, commit)."""
    with app.app_context():
        user = db.session().get(User, user_id)
        return service.create_record(owner=user, author=user, author_keys=keys, bundle=bundle,
                                     source_format="fhir-json").id


# ----- bundles ------------------------------------------------------------------------------
def imported(name: str) -> dict:
    data = (DATA / name).read_bytes()
    return json.loads(import_file(data, name, max_bytes=10**8).canonical)


def synthetic_bundle(resources: int) -> dict:
    """``resources`` entries in the importer's shapes: the patient, then clones of the My Health Bank
    entries that refer only to the patient (labs, conditions, medications, …) with fresh ids and dates."""
    base = imported("mhb/full.json")
    patient = next(e for e in base["entry"] if e["resource"]["resourceType"] == "Patient")
    refs = re.compile(r'"reference":\s*"([^"]+)"')
    cloneable = [e for e in base["entry"] if e is not patient
                 and set(refs.findall(json.dumps(e))) <= {patient["fullUrl"]}]
    entries = [patient]
    day = datetime(2015, 1, 1)
    for i in range(resources - 1):
        new_id = str(uuid.uuid4())
        doc = json.dumps(cloneable[i % len(cloneable)]).replace(cloneable[i % len(cloneable)]["resource"]["id"], new_id)
        doc = re.sub(r'"(\d{4}-\d{2}-\d{2})"', f'"{(day + timedelta(days=i)).date().isoformat()}"', doc)
        entries.append(json.loads(doc))
    return dict(base, entry=entries)


# ----- scenarios ----------------------------------------------------------------------------
def latency(stack: Stack, app, n: int, gap: float) -> dict[str, list[float]]:
    """Upload → in a block, and → confirmed, for ``n`` records uploaded one at a time ``gap`` seconds apart
    (0.35 s: uploads fall at every phase of the 1 s block clock)."""
    user_id, keys = new_user(app, f"latency-{app.config['ANCHOR_MODE']}@bench.example")
    bundle = imported("fhir/valid-collection.json")
    if app.config["ANCHOR_MODE"] == "record":
        fund(stack, app, [keys.eth_address])
    started = {}
    with anchoring(app) as (watch, _worker):
        for _ in range(n):
            t0 = time.perf_counter()
            started[create(app, user_id, keys, bundle)] = t0
            time.sleep(gap)
        watch.wait_for(started)
    return {"mined": [watch.mined[rid] - t0 for rid, t0 in started.items()],
            "confirmed": [watch.seen[rid] - t0 for rid, t0 in started.items()]}


def throughput(stack: Stack, app, uploaders: int, per_uploader: int, *, backlog: bool = False) -> dict:
    """``uploaders`` threads each create ``per_uploader`` records; records anchored per second, end to end.

    With ``backlog`` the worker starts only once every record is queued, and the
    clock starts with it: the anchoring side's own rate, without the upload CPU.
    """
    tag = f"backlog{uploaders * per_uploader}" if backlog else "live"
    users = [new_user(app, f"tp-{tag}-{app.config['ANCHOR_MODE']}-{i}@bench.example") for i in range(uploaders)]
    if app.config["ANCHOR_MODE"] == "record":
        fund(stack, app, [k.eth_address for _, k in users])
    bundle = imported("fhir/valid-collection.json")
    ids: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def upload(user_id, keys):
        try:
            for _ in range(per_uploader):
                rid = create(app, user_id, keys, bundle)
                with lock:
                    ids.append(rid)
        except BaseException as exc:  # noqa: BLE001 - reported below; a failed upload must not pass silently
            errors.append(exc)

    threads = [threading.Thread(target=upload, args=u) for u in users]
    with anchoring(app, start_worker=not backlog) as (watch, worker):
        t0 = started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        uploaded = time.perf_counter()
        if errors:
            raise errors[0]
        if backlog:
            time.sleep(0.1)
            t0 = time.perf_counter()
            worker.start()
        watch.wait_for(ids)
    done = max(watch.seen[i] for i in ids)
    return {"records": len(ids), "anchored_per_s": len(ids) / (done - t0), "uploaded_per_s": len(ids) / (uploaded - started),
            "seconds": done - t0}


def gas(app) -> dict:
    """Gas of the anchoring transactions this app sent: per record, and the batch sizes."""
    with app.app_context():
        chain = services.ledger()
        rows = db.session().execute(text(
            "SELECT j.tx_hash, CASE WHEN b.id IS NULL THEN 1 ELSE "
            "(SELECT COUNT(*) FROM batch_members m WHERE m.batch_id = b.id) END "  # records, not the salt leaf
            "FROM chain_jobs j LEFT JOIN anchor_batches b ON b.job_id = j.id "
            "WHERE j.kind IN ('anchor', 'batch') AND j.status = 'confirmed'")).all()
        used = [(chain.receipt(tx)["gasUsed"], count) for tx, count in rows]
    largest = max(c for _, c in used)
    full = [g / c for g, c in used if c == largest]
    return {"per_record": sum(g for g, _ in used) / sum(c for _, c in used), "transactions": len(used),
            "records": sum(c for _, c in used), "largest_batch": largest, "per_record_largest": sum(full) / len(full)}


def view_latency(app, browser: Browser, resources: int, n: int) -> dict:
    """Detail page (fetch, decrypt, hash, verify on chain, build the view, render) vs raw decrypt + hash."""
    rid = create(app, browser.user_id, browser.keys, synthetic_bundle(resources))
    with anchoring(app) as (watch, _worker):
        watch.wait_for([rid])
    page = browser.client.get(f"/records/{rid}").get_data(as_text=True)
    assert "Verified" in page, "the benchmark record did not verify"
    page_times = browser.timed_get(f"/records/{rid}", n)
    with app.app_context():
        record = db.session().get(Record, rid)
        wrapped = db.session().execute(text("SELECT wrapped_key FROM record_keys WHERE record_id = :r AND user_id = :u"),
                                       {"r": rid, "u": browser.user_id}).scalar()
        ciphertext = services.storage().get(record.storage_key)
    raw = []
    for _ in range(n):
        t0 = time.perf_counter()
        hashlib.sha256(vault.open_sealed(ciphertext, wrapped, browser.keys.rsa_private, service.record_aad(rid)))
        raw.append(time.perf_counter() - t0)
    return {"page": page_times, "raw": raw, "bytes": len(ciphertext)}


def timeline_latency(app, total: int, real: int, n: int) -> list[float]:
    """GET /records/ for a patient with ``total`` records (``real`` uploaded, the rest inserted as older rows)."""
    browser = Browser(app, f"timeline-{total}@bench.example")
    bundle = imported("fhir/valid-collection.json")
    ids = [create(app, browser.user_id, browser.keys, bundle) for _ in range(real)]
    with app.app_context():
        old = datetime(2010, 1, 1, tzinfo=UTC)
        rows = [{"id": rid, "anchor_id": rid, "owner_id": browser.user_id, "author_id": browser.user_id,
                 "source_format": "fhir-json", "sha256": secrets.token_hex(32), "resources_root": "00" * 32,
                 "storage_key": f"records/bench-{secrets.token_hex(16)}", "size": 1, "resource_count": 1,
                 "created_at": old + timedelta(minutes=i)}
                for i, rid in enumerate(secrets.token_hex(32) for _ in range(total - real))]
        for start in range(0, len(rows), 2000):
            db.session().execute(insert(Record), rows[start:start + 2000])
        db.session().commit()
    with anchoring(app) as (watch, _worker):
        watch.wait_for(ids)
    return browser.timed_get("/records/", n)


def list_all_cost(app, email: str, n: int) -> list[float]:
    """What the unpaginated list loaded: every row and its anchoring state (no decryption, no rendering)."""
    out = []
    with app.app_context():
        user = db.session().query(User).filter_by(email=email).one()
        for _ in range(n):
            db.session().expire_all()
            t0 = time.perf_counter()
            records = service.records_for(user)
            [service.anchor_state(r) for r in records]
            out.append(time.perf_counter() - t0)
    return out


def crypto(plain: bytes, n: int) -> dict:
    """The platform's seal/open of one record vs the raw cryptography primitives on the same bytes."""
    key = vault.generate_rsa_key()
    pub = key.public_key()
    aad = service.record_aad("00" * 32)
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    out = {"seal": [], "raw_seal": [], "open": [], "raw_open": []}
    sealed = vault.seal(plain, aad, {"owner": pub})
    data_key, nonce = AESGCM.generate_key(bit_length=256), os.urandom(12)
    raw_ct, raw_wrapped = AESGCM(data_key).encrypt(nonce, plain, aad), pub.encrypt(data_key, oaep)
    for _ in range(n):
        t0 = time.perf_counter()
        vault.seal(plain, aad, {"owner": pub})
        t1 = time.perf_counter()
        k = AESGCM.generate_key(bit_length=256)
        AESGCM(k).encrypt(os.urandom(12), plain, aad)
        pub.encrypt(k, oaep)
        t2 = time.perf_counter()
        vault.open_sealed(sealed.ciphertext, sealed.wrapped_keys["owner"], key, aad)
        t3 = time.perf_counter()
        AESGCM(key.decrypt(raw_wrapped, oaep)).decrypt(nonce, raw_ct, aad)
        t4 = time.perf_counter()
        for name, value in zip(out, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            out[name].append(value)
    return out


# ----- the run ------------------------------------------------------------------------------
def ms(values: list[float], p: float) -> float:
    return percentile(values, p) * 1000


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uploaders", type=int, default=8, help="concurrent uploader threads (default 8)")
    parser.add_argument("--per-uploader", type=int, default=100, help="records each uploader creates (default 100)")
    parser.add_argument("--backlog", type=int, default=1024, help="records queued before the worker starts")
    parser.add_argument("--large-backlog", type=int, default=8192,
                        help="a larger backlog for batch mode alone (per-record mode takes minutes per thousand)")
    parser.add_argument("--samples", type=int, default=20, help="samples per latency figure (default 20)")
    parser.add_argument("--timeline-records", type=int, default=10_000)
    args = parser.parse_args(argv)
    started = time.monotonic()
    load_before = round(os.getloadavg()[0], 2)  # other processes on the machine skew every figure: say so
    rows: list[Row] = []
    extra: dict = {}
    with tempfile.TemporaryDirectory(prefix="phr-bench-") as tmp, Stack(Path(tmp)) as stack:
        log(f"stack up in {time.monotonic() - started:.0f}s: {stack.net.rpc_urls[0]}, registry {stack.address}")
        apps = {mode: stack.app(mode) for mode in ("record", "batch")}

        lat = {}
        for mode, app in apps.items():
            log(f"latency, {mode} mode")
            lat[mode] = latency(stack, app, 2 * args.samples, gap=0.35)
        window = f"≤ {1.2 * PERIOD + PERIOD:.1f} periods"  # 1.2 P + the window: a batch waits ≤ 1 P for its slot
        for stage, label in (("mined", "in a block"), ("confirmed", "confirmed (+1 block)")):
            for p in (50, 95):
                rows.append(Row(f"upload → {label} p{p}, batch", ms(lat["batch"][stage], p),
                                ms(lat["record"][stage], p), "ms", "per-record"))
        for stage, label in (("mined", "in a block"), ("confirmed", "confirmed")):
            for p in (50, 95):
                for mode in ("record", "batch"):
                    target = window if (mode, stage, p) == ("batch", "mined", 50) else ""
                    rows.append(Row(f"upload → {label} p{p} in block periods, {mode}",
                                    ms(lat[mode][stage], p) / 1000 / PERIOD, 1.0, "periods", "1 block period", target))

        tp = {}
        for mode, app in apps.items():
            log(f"throughput, {mode} mode: {args.uploaders} uploaders × {args.per_uploader} records")
            tp[mode] = throughput(stack, app, args.uploaders, args.per_uploader)
        extra["throughput"] = tp
        rows.append(Row(f"records anchored/s, {args.uploaders} uploaders, batch", tp["batch"]["anchored_per_s"],
                        tp["record"]["anchored_per_s"], "rec/s", "per-record", "≥ 50×"))
        rows.append(Row("records uploaded/s (upload side only), batch", tp["batch"]["uploaded_per_s"],
                        tp["record"]["uploaded_per_s"], "rec/s", "per-record"))
        drain = {}
        for mode, app in apps.items():
            log(f"anchoring a backlog, {mode} mode: {args.backlog} records queued, then the worker starts")
            drain[mode] = throughput(stack, app, args.uploaders, args.backlog // args.uploaders, backlog=True)
        extra["backlog"] = drain
        rows.append(Row(f"records anchored/s from a backlog of {args.backlog}, batch", drain["batch"]["anchored_per_s"],
                        drain["record"]["anchored_per_s"], "rec/s", "per-record", "≥ 50×"))
        log(f"anchoring a backlog, batch mode: {args.large_backlog} records queued, then the worker starts")
        drain["batch_large"] = throughput(stack, apps["batch"], args.uploaders, args.large_backlog // args.uploaders,
                                          backlog=True)
        rows.append(Row(f"records anchored/s from a backlog of {args.large_backlog}, batch",
                        drain["batch_large"]["anchored_per_s"], drain["record"]["anchored_per_s"], "rec/s",
                        f"per-record, backlog of {args.backlog}", "≥ 50×"))

        g = {mode: gas(app) for mode, app in apps.items()}
        extra["gas"] = g
        rows.append(Row(f"gas per record, batch (all {g['batch']['transactions']} batches of this run)",
                        g["batch"]["per_record"], g["record"]["per_record"], "gas", "per-record", "≤ 1/50"))
        rows.append(Row(f"gas per record, batch of {g['batch']['largest_batch']}", g["batch"]["per_record_largest"],
                        g["record"]["per_record"], "gas", "per-record", "≤ 1/50"))
        block_gas = 30_000_000
        rows.append(Row("chain ceiling from gas (30M gas/block), batch", block_gas / g["batch"]["per_record"] / PERIOD,
                        block_gas / g["record"]["per_record"] / PERIOD, "rec/s", "per-record"))

        browser = Browser(apps["record"], "viewer@bench.example")
        batch_browser = Browser(apps["batch"], "viewer@bench.example")
        for resources in (50, 500):
            log(f"view + verify, {resources} resources")
            v = view_latency(apps["record"], browser, resources, args.samples)
            for p in (50, 95):
                rows.append(Row(f"view+verify page p{p}, {resources} resources, per-record", ms(v["page"], p),
                                ms(v["raw"], p), "ms", "raw decrypt+hash", "p95 ≤ 150 ms" if resources == 500 else ""))
        vb = view_latency(apps["batch"], batch_browser, 500, args.samples)
        for p in (50, 95):
            rows.append(Row(f"view+verify page p{p}, 500 resources, batch proof", ms(vb["page"], p), ms(vb["raw"], p),
                            "ms", "raw decrypt+hash", "p95 ≤ 150 ms"))

        log(f"timeline: 100 vs {args.timeline_records} records")
        small = timeline_latency(apps["record"], 100, 20, args.samples)
        large = timeline_latency(apps["record"], args.timeline_records, 20, args.samples)
        for p in (50, 95):
            rows.append(Row(f"timeline page p{p}, {args.timeline_records} records", ms(large, p), ms(small, p), "ms",
                            "100 records", "≈ 1×"))
        everything = list_all_cost(apps["record"], f"timeline-{args.timeline_records}@bench.example", 5)
        rows.append(Row(f"listing all {args.timeline_records} rows + states (the unpaginated list's DB work), p50",
                        ms(everything, 50), ms(large, 50), "ms", "paginated page p50"))

        log("crypto")
        plain = service.pack(b"\0" * 32, canonical_bytes(synthetic_bundle(500)))
        c = crypto(plain, max(args.samples * 5, 50))
        rows.append(Row(f"seal one record ({len(plain) // 1024} KiB), vault.seal p50", ms(c["seal"], 50),
                        ms(c["raw_seal"], 50), "ms", "raw AES-GCM + RSA-OAEP"))
        rows.append(Row("open one record, vault.open_sealed p50", ms(c["open"], 50), ms(c["raw_open"], 50), "ms",
                        "raw RSA-OAEP + AES-GCM"))
    meta = {"machine": machine(), "load_average_1m_before_after": [load_before, round(os.getloadavg()[0], 2)],
            "block_period_s": PERIOD, "uploaders": args.uploaders,
            "per_uploader": args.per_uploader, "samples": args.samples, "seconds": round(time.monotonic() - started),
            "date": datetime.now(UTC).isoformat(timespec="seconds"), "details": extra}
    print(table(rows))
    print(f"\n{meta['machine']}; load average {load_before} before, {os.getloadavg()[0]:.2f} after; "
          f"full run {meta['seconds']} s")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(to_json(rows, meta))
    log(f"written {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
