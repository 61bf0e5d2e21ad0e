"""Object storage on the real local S3 server."""
import os
from pathlib import Path

import pytest
import requests

from phr.storage import ObjectMissing, Storage, StorageError


def test_put_get_round_trip_is_byte_exact(storage):
    data = os.urandom(256 * 1024) + b"\0\xff"
    storage.put("records/r1", data)
    assert storage.get("records/r1") == data
    assert storage.stat("records/r1").size == len(data)
    storage.delete("records/r1")
    assert storage.stat("records/r1") is None
    with pytest.raises(ObjectMissing):
        storage.get("records/r1")


def test_anonymous_and_wrong_key_access_is_refused(objectstore, storage):
    storage.put("records/secret", b"ciphertext")
    assert requests.get(f"http://{objectstore.endpoint}/{storage.bucket}/records/secret", timeout=5).status_code == 403
    assert requests.put(f"http://{objectstore.endpoint}/{storage.bucket}/records/x", data=b"x", timeout=5).status_code == 403
    intruder = Storage(objectstore.endpoint, "guess", "guessguessguess", storage.bucket)
    with pytest.raises(StorageError):
        intruder.get("records/secret")
    assert not intruder.healthy()


def _listening(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp*) listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, hexport = local.split(":")
            if state == "0A" and int(hexport, 16) == port:
                found.add(addr)
    return found


def test_object_store_listens_only_on_loopback(objectstore):
    ports = objectstore.state["ports"]
    assert _listening(ports["s3"]), "S3 port is not listening at all"
    for name, port in ports.items():
        for addr in _listening(port):
            assert addr == "0100007F", f"{name} port {port} listens on a non-loopback address {addr}"
