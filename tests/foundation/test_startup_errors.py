"""When the local stack cannot start, it says what failed and what to do — and never hangs."""
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from phr.devnet import Devnet, DevnetError, free_port
from phr.devnet.toolchain import ToolchainError, ensure_geth
from phr.seaweed import LocalObjectStore, ObjectStoreError


@pytest.fixture
def busy_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    yield sock.getsockname()[1]
    sock.close()


def test_free_ports_cannot_be_taken_by_outgoing_connections(busy_port):
    """A port handed to a server-to-be lies below the kernel's ephemeral range and is never handed out twice.

    CI once lost a geth node to "bind: address already in use": its port, picked by
    binding port 0, was meanwhile the local end of some client's connection.
    """
    floor = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    clients = [socket.create_connection(("127.0.0.1", busy_port)) for _ in range(20)]
    try:
        taken = {c.getsockname()[1] for c in clients}
        ports = [free_port() for _ in range(300)]
    finally:
        for c in clients:
            c.close()
    assert len(set(ports)) == len(ports)
    assert all(port < floor for port in ports)
    assert not taken & set(ports)
    for port in ports[:20]:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))  # still free


def test_missing_go_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("PHR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path))  # no go here
    with pytest.raises(ToolchainError, match="Go is not installed"):
        ensure_geth(log=lambda _msg: None)


def test_port_in_use_is_named_without_hanging(tmp_path, busy_port):
    net = Devnet(tmp_path / "dn", signers=1, base_port=busy_port)
    started = time.monotonic()
    with pytest.raises(DevnetError, match=f"port {busy_port} .* already in use"):
        net.up()
    assert time.monotonic() - started < 10
    assert not net.is_running(0)


def test_node_that_fails_to_start_is_reported_with_its_log(tmp_path):
    net = Devnet(tmp_path / "dn", signers=1, base_port=None)
    assert net.nodes  # creates keys, genesis and ports
    (tmp_path / "dn" / "node0" / "nodekey").write_text("not-a-key")
    with pytest.raises(DevnetError, match=r"node0 exited with code \d+ at start; see .*geth.log"):
        net.up()


def test_object_store_port_in_use_is_named(tmp_path, busy_port):
    store = LocalObjectStore(tmp_path / "s3", s3_port=busy_port)
    with pytest.raises(ObjectStoreError, match=f"s3={busy_port}"):
        store.up()
    assert not store.is_running()


def test_stack_command_refuses_a_busy_web_port(tmp_path, busy_port):
    proc = subprocess.run([sys.executable, "-m", "phr.stack", "--instance", str(tmp_path), "--port", str(busy_port)],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    assert f"port {busy_port} is already in use" in proc.stderr
