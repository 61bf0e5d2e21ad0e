"""Run the app as production does: gunicorn's sync workers plus the anchoring worker, configured by ``PHR_*`` variables.

Local-stack tooling, shared by ``python -m phr.stack`` and the tests that need
real processes; the app never imports it. :func:`serving` is a context manager
that starts the processes, waits until a worker answers HTTP and stops them on
exit. The command lines follow the Dockerfile and docker-compose.yml.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from .config import ROOT
from .devnet import free_port


@dataclass
class Running:
    """The started processes; ``base`` is the app's URL."""

    base: str
    port: int
    web: subprocess.Popen
    worker: subprocess.Popen | None
    logs: Path | None

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.processes)

    @property
    def processes(self) -> list[subprocess.Popen]:
        return [p for p in (self.web, self.worker) if p is not None]

    def log_tail(self, chars: int = 3000) -> str:
        if self.logs is None:
            return ""
        return "".join(f"--- {p.name}\n{p.read_text(errors='replace')[-chars:]}" for p in sorted(self.logs.glob("*.log")))


def process_env(env: Mapping[str, object]) -> dict[str, str]:
    """This process's environment plus ``env`` (values as strings, lists comma-joined)."""
    return dict(os.environ) | {k: ",".join(v) if isinstance(v, list) else str(v) for k, v in env.items()}


def start_worker(env: Mapping[str, object], log: Path | None = None) -> subprocess.Popen:
    """``python -m phr.worker`` (as docker-compose.yml runs it); output to ``log``, else to this process's terminal."""
    with ExitStack() as files:
        out = files.enter_context(open(log, "ab")) if log else None
        return subprocess.Popen([sys.executable, "-m", "phr.worker"], env=process_env(env), cwd=ROOT,
                                stdout=out, stderr=subprocess.STDOUT if out else None)


def stop(processes: list[subprocess.Popen], timeout: float = 30) -> None:
    """SIGTERM each process (both stop between requests or rounds), then SIGKILL whatever outlives ``timeout``."""
    for p in processes:
        if p.poll() is None:
            p.terminate()
    for p in processes:
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@contextmanager
def serving(env: Mapping[str, object], logs: Path | None = None, *, host: str = "127.0.0.1",
            port: int | None = None, workers: int = 2, threads: int = 1, worker: bool = True,
            access_log: bool = False, ready_timeout: float = 60) -> Iterator[Running]:
    """gunicorn (``workers`` sync workers, or gthread when ``threads`` > 1) and, if ``worker``, the anchoring worker.

    Output goes to ``logs``/gunicorn.log and ``logs``/worker.log, or to this
    process's terminal when ``logs`` is None. Yields once a worker answers
    ``/auth/login``; raises RuntimeError (with the logs' tails) if a process
    exits or nothing answers within ``ready_timeout`` seconds.
    """
    port = port or free_port()
    args = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"{host}:{port}"]
    if threads > 1:
        args += ["--threads", str(threads)]
    if access_log:
        args += ["--access-logfile", "-"]
    with ExitStack() as files:
        out = None
        if logs is not None:
            logs.mkdir(parents=True, exist_ok=True)
            out = files.enter_context(open(logs / "gunicorn.log", "ab"))
        web = subprocess.Popen([*args, "phr:create_app()"], env=process_env(env), cwd=ROOT, stdout=out,
                               stderr=subprocess.STDOUT if out else None)
    running = Running(f"http://{host}:{port}", port, web, None, logs)
    try:
        if worker:
            running.worker = start_worker(env, logs / "worker.log" if logs else None)
        _wait_until_answering(running, ready_timeout)
        yield running
    finally:
        stop(running.processes)


def _wait_until_answering(running: Running, timeout: float) -> None:
    """Until a gunicorn worker answers (the master accepts connections before its workers have booted)."""
    deadline = time.monotonic() + timeout
    while True:
        if not running.alive():
            raise RuntimeError("the app exited while starting\n" + running.log_tail())
        try:
            requests.get(running.base + "/auth/login", timeout=2)
            return
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no answer from {running.base} in {timeout:.0f} s\n" + running.log_tail())
            time.sleep(0.2)
