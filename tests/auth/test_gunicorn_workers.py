"""Under gunicorn with two worker processes, a login made on one worker unlocks keys on the other.

Nothing key-related lives in process memory between requests: the cookie
carries (key_session_id, session_secret) and the database the ciphertext.
Runs with the production ("strong") KDF profile.
"""
from __future__ import annotations

import re
import secrets
import socket
from pathlib import Path

import pytest
import requests
from auth_helpers import PASSWORD
from web_helpers import wait_until

from phr.launch import serving

_CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def server(tmp_path, database_url):
    """gunicorn -w 2 (sync workers, as production) on a freshly migrated SQLite database; yields its base URL."""
    env = {"PHR_SECRET_KEY": secrets.token_hex(32), "PHR_DATABASE_URL": database_url, "PHR_INSTANCE_DIR": str(tmp_path),
           "PHR_EXPOSE_WORKER_PID": "true", "PHR_RPC_URLS": "http://127.0.0.1:9"}
    with serving(env, tmp_path / "logs", worker=False) as app:
        yield app.base


class Browser:
    """A cookie jar that opens a new connection per request, so the kernel picks any worker each time."""

    def __init__(self, base: str):
        self.base, self.http = base, requests.Session()
        self.http.headers["Connection"] = "close"

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.base + path, allow_redirects=False, timeout=30)

    def submit(self, path: str, data: dict) -> requests.Response:
        token = _CSRF.search(self.get(path).text).group(1)
        return self.http.post(self.base + path, data={"csrf_token": token, **data}, allow_redirects=False,
                              timeout=30)


class HeldWorker:
    """A request sent only in part: the gunicorn sync worker that accepts it waits for the rest.

    While it waits, that worker cannot take other connections, so the next
    request goes to the other worker.
    """

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.sendall(b"GET /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        wait_until(lambda: _accepted(port, self.sock.getsockname()[1]), 10, "a worker to accept the connection",
                   interval=0.01)

    def release(self) -> str:
        """Complete the request; returns the pid of the worker that was held."""
        self.sock.sendall(b"Connection: close\r\n\r\n")
        chunks = []
        while chunk := self.sock.recv(65536):
            chunks.append(chunk)
        self.sock.close()
        return re.search(rb"X-Worker-PID: (\d+)", b"".join(chunks)).group(1).decode()


def _accepted(port: int, client_port: int) -> bool:
    """True once a process has accept()ed the connection from ``client_port``: until then the kernel holds the
    server's end in the listen queue with no file, so /proc/net/tcp shows its inode as 0."""
    ends = (f"0100007F:{port:04X}", f"0100007F:{client_port:04X}")
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if (fields[1], fields[2]) == ends:
            return fields[9] != "0"
    return False


def on_each_worker(port: int, first, second) -> tuple[requests.Response, requests.Response]:
    """Call ``first()`` then ``second()`` so that each is served by a different one of the two workers."""
    held_x = HeldWorker(port)  # worker X waits, so Y serves first()
    one = first()
    held_y = HeldWorker(port)  # X is still held, so Y takes this and waits
    x_pid = held_x.release()  # X is now the only free worker
    two = second()
    y_pid = held_y.release()
    assert x_pid != y_pid
    assert (one.headers["X-Worker-PID"], two.headers["X-Worker-PID"]) == (y_pid, x_pid)
    return one, two


def test_login_on_one_worker_unlocks_keys_on_the_other(server):
    port = int(server.rsplit(":", 1)[1])
    browser = Browser(server)
    registered = browser.submit("/auth/register", {
        "email": "ana@example.org", "display_name": "Ana", "password": PASSWORD, "confirm": PASSWORD,
        "role": "patient", "custody": "platform"})
    assert registered.status_code == 303
    browser.http.cookies.clear()  # forget the registration's login: start from a real login

    token = _CSRF.search(browser.get("/auth/login").text).group(1)
    login, page = on_each_worker(
        port,
        lambda: browser.http.post(server + "/auth/login", allow_redirects=False, timeout=30,
                                  data={"csrf_token": token, "email": "ana@example.org", "password": PASSWORD}),
        lambda: browser.get("/auth/account"),
    )
    assert login.status_code == 303
    # The worker that never saw the password unwrapped the keys and proved them.
    assert page.status_code == 200 and "Keys unlocked ✓" in page.text

    # Logging out on one worker ends the login on both, even for a copy of the cookie.
    stolen = browser.http.cookies.copy()
    token = _CSRF.search(browser.get("/auth/account").text).group(1)
    assert browser.http.post(server + "/auth/logout", data={"csrf_token": token}, allow_redirects=False,
                             timeout=30).status_code == 303
    thief = Browser(server)
    thief.http.cookies.update(stolen)
    for refused in on_each_worker(port, lambda: thief.get("/auth/account"), lambda: thief.get("/auth/account")):
        assert refused.status_code == 302 and "/auth/login" in refused.headers["Location"]
