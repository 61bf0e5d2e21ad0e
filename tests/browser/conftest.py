"""Browser tests: Debian's Chromium driven by Playwright against the real stack.

The app runs under real gunicorn (2 workers) with the anchoring worker beside it
(``python -m phr.worker``), both on a fresh SQLite database and the session's
geth devnet, registry and S3 server. Production settings (strong KDF) apply:
nothing here is test-only configuration. Every page a test opens is watched for
console errors and Content-Security-Policy violations.

Chromium comes from apt (scripts/setup.sh); the tests fail, naming the fix, when it is missing.
Never ``playwright install``.
"""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from browser_helpers import PASSWORD, VALIDATOR_EMAIL

from phr import db
from phr.launch import serving
from phr.storage import Storage

CHROMIUM = os.environ.get("PHR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]

# Runs before any page script (init scripts are not subject to the page's CSP): report violations on the console.
_CSP_WATCH = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
                " at " + e.sourceFile + ":" + e.lineNumber);
});
"""



@dataclass
class Server:
    base: str
    env: dict
    logs: Path


@pytest.fixture(scope="session")
def server(tmp_path_factory, devnet, registry, objectstore) -> Iterator[Server]:
    """gunicorn -w 2 plus the anchoring worker, configured only through PHR_* variables, as in production."""
    tmp = tmp_path_factory.mktemp("browser-app")
    store = Storage(objectstore.endpoint, objectstore.access_key, objectstore.secret_key, "browser-" + secrets.token_hex(4))
    store.ensure_bucket()
    url = f"sqlite:///{tmp / 'phr.sqlite3'}"
    db.upgrade(url)
    env = {**os.environ, "PHR_SECRET_KEY": secrets.token_hex(32), "PHR_DATABASE_URL": url, "PHR_INSTANCE_DIR": str(tmp),
           "PHR_S3_ENDPOINT": objectstore.endpoint, "PHR_S3_ACCESS_KEY": objectstore.access_key,
           "PHR_S3_SECRET_KEY": objectstore.secret_key, "PHR_S3_BUCKET": store.bucket,
           "PHR_RPC_URLS": ",".join(devnet.rpc_urls), "PHR_CONTRACT_ADDRESS": registry,
           "PHR_CHAIN_ID": str(devnet.chain_id), "PHR_FAUCET_KEY": devnet.faucet_key}
    logs = tmp / "logs"
    # A validator operator exists only through the CLI, bound to their own signer node; created before start-up.
    subprocess.run([str(BIN / "flask"), "--app", "phr", "create-validator", "--email", VALIDATOR_EMAIL,
                    "--name", "Signer One Ops", "--node-url", devnet.rpc_urls[0], "--password", PASSWORD],
                   env=env, cwd=ROOT, check=True, capture_output=True)
    with serving(env, logs) as app:
        yield Server(app.base, env, logs)


@pytest.fixture(scope="session")
def chromium():
    from playwright import sync_api

    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: run scripts/setup.sh (make test does), which installs Debian's package")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Watched:
    """A page plus every console error and CSP violation it reported."""

    page: object
    problems: list[str] = field(default_factory=list)
    expect_404: bool = False  # set by a test that opens a page it must be refused

    def report(self, problem: str) -> None:
        if not (self.expect_404 and "the server responded with a status of 404" in problem):
            self.problems.append(problem)

    def __getattr__(self, name):
        return getattr(self.page, name)


@pytest.fixture
def new_page(chromium, server):
    """``new_page(js=True, locale="en-US")``: a fresh browser profile (own cookies) on the app.

    At the end of the test, no page may have logged a console error or a CSP violation.
    """
    contexts, pages = [], []

    def make(js: bool = True, locale: str = "en-US", width: int = 1100) -> Watched:
        context = chromium.new_context(base_url=server.base, java_script_enabled=js, locale=locale,
                                       viewport={"width": width, "height": 900},
                                       extra_http_headers={"Accept-Language": locale})
        context.set_default_timeout(15_000)
        context.add_init_script(_CSP_WATCH)
        page = Watched(context.new_page())
        page.page.on("console", lambda msg: msg.type == "error" and page.report(
            f"console: {msg.text} ({msg.location.get('url')} on {page.page.url})"))
        page.page.on("pageerror", lambda exc: page.report(f"page error: {exc}"))
        contexts.append(context)
        pages.append(page)
        return page

    yield make
    problems = [p for page in pages for p in page.problems]
    for context in contexts:
        context.close()
    assert not problems, problems
