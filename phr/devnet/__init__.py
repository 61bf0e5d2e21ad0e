"""A local clique proof-of-authority network of real geth nodes on 127.0.0.1.

``Devnet(datadir).up()`` creates the network on first use (signer accounts,
node keys, genesis, free ports) and starts every node; later calls reuse the
same data, so the chain survives restarts. Nodes run as their own processes
and keep running until :meth:`Devnet.down`.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import requests
from eth_account import Account
from eth_keys import keys as eth_keys

from .. import genesis
from .toolchain import ToolchainError, ensure_geth

__all__ = ["Devnet", "DevnetError", "NodeInfo", "ToolchainError"]

STATE_FILE = "devnet.json"
START_TIMEOUT = 60.0


class DevnetError(RuntimeError):
    """A devnet node failed; the message names the node, the cause and its log file."""


@dataclass
class NodeInfo:
    """One geth node: its signer account, ports and p2p identity."""

    index: int
    address: str
    rpc_port: int
    p2p_port: int
    authrpc_port: int
    enode: str

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.rpc_port}"


_handed_out: set[int] = set()


def _ephemeral_floor() -> int:
    """Lowest port the kernel hands to outgoing connections (Linux default 32768)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now, picked below the ephemeral range.

    Asking the kernel for port 0 returns an ephemeral port, which any outgoing
    connection (an RPC or S3 client) may take before a server started later binds
    it.  Ports below that range are only ever taken by someone binding them, so a
    random free one stays free.  A port is never handed out twice per process.
    """
    low, high = 20000, _ephemeral_floor() - 1
    if high - low < 1000:
        low, high = 10000, 19999
    for _ in range(200):
        port = secrets.randbelow(high - low + 1) + low
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise DevnetError(f"no free TCP port found on 127.0.0.1 between {low} and {high}")


def port_in_use(port: int) -> bool:
    """True if something already listens on 127.0.0.1:``port``."""
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


class Devnet:
    """A clique network of geth signer nodes whose state lives under ``datadir``."""

    def __init__(self, datadir: str | Path, *, signers: int = 3, period: int = 2,
                 chain_id: int = genesis.DEFAULT_CHAIN_ID, base_port: int | None = 8545):
        self.datadir = Path(datadir)
        self._want = {"signers": signers, "period": period, "chain_id": chain_id, "base_port": base_port}
        self._state: dict | None = None
        self._procs: dict[int, subprocess.Popen] = {}  # nodes this object started

    # ----- state -------------------------------------------------------------
    @property
    def state(self) -> dict:
        if self._state is None:
            path = self.datadir / STATE_FILE
            self._state = json.loads(path.read_text()) if path.exists() else self._create()
        return self._state

    @property
    def nodes(self) -> list[NodeInfo]:
        return [NodeInfo(**n) for n in self.state["nodes"]]

    @property
    def rpc_urls(self) -> list[str]:
        return [n.rpc_url for n in self.nodes]

    @property
    def chain_id(self) -> int:
        return self.state["chain_id"]

    @property
    def period(self) -> int:
        return self.state["period"]

    @property
    def genesis_signers(self) -> list[str]:
        return [n.address for n in self.nodes[: self.state["genesis_signers"]]]

    @property
    def faucet_key(self) -> str:
        """Private key (0x hex) of the prefunded account that pays users' gas money."""
        return (self.datadir / "faucet.key").read_text().strip()

    def _save(self) -> None:
        (self.datadir / STATE_FILE).write_text(json.dumps(self._state, indent=2) + "\n")

    def _ports(self, count: int, base: int | None) -> list[int]:
        if base is None:
            return [free_port() for _ in range(count)]
        return list(range(base, base + count))

    def _new_node(self, index: int, rpc_port: int, p2p_port: int, authrpc_port: int) -> dict:
        node_dir = self.datadir / f"node{index}"
        node_dir.mkdir(parents=True, exist_ok=True)
        account = Account.create()
        password = secrets.token_hex(16)
        (node_dir / "password.txt").write_text(password)
        keystore = node_dir / "keystore"
        keystore.mkdir(exist_ok=True)
        encrypted = Account.encrypt(account.key, password, kdf="scrypt", iterations=2**12)
        (keystore / f"signer-{account.address.lower()[2:]}.json").write_text(json.dumps(encrypted))
        nodekey = secrets.token_bytes(32)
        (node_dir / "nodekey").write_text(nodekey.hex())
        pub = eth_keys.PrivateKey(nodekey).public_key.to_bytes().hex()
        return asdict(NodeInfo(index, account.address, rpc_port, p2p_port, authrpc_port,
                               f"enode://{pub}@127.0.0.1:{p2p_port}"))

    def _create(self) -> dict:
        self.datadir.mkdir(parents=True, exist_ok=True)
        n, base = self._want["signers"], self._want["base_port"]
        rpc = self._ports(n, base)
        p2p = self._ports(n, None if base is None else base + 21758)  # 8545 -> 30303
        auth = self._ports(n, None if base is None else base + 100)
        faucet = Account.create()
        (self.datadir / "faucet.key").write_text(faucet.key.hex())
        os.chmod(self.datadir / "faucet.key", 0o600)
        self._state = {
            "chain_id": self._want["chain_id"],
            "period": self._want["period"],
            "faucet_address": faucet.address,
            "genesis_signers": n,
            "nodes": [self._new_node(i, rpc[i], p2p[i], auth[i]) for i in range(n)],
        }
        spec = genesis.geth_genesis([x["address"] for x in self._state["nodes"]], faucet.address,
                                    self.chain_id, self.period)
        (self.datadir / "genesis.json").write_text(json.dumps(spec, indent=2))
        self._save()
        return self._state

    # ----- processes ---------------------------------------------------------
    def _node_dir(self, index: int) -> Path:
        return self.datadir / f"node{index}"

    def _pid(self, index: int) -> int | None:
        pidfile = self._node_dir(index) / "geth.pid"
        if not pidfile.exists():
            return None
        pid = int(pidfile.read_text())
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        # A recycled pid must still be our geth.
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return None
        return pid if b"geth" in cmdline and str(self._node_dir(index)).encode() in cmdline else None

    def is_running(self, index: int) -> bool:
        return self._pid(index) is not None

    def _write_config(self, node: NodeInfo) -> Path:
        peers = [json.dumps(n.enode) for n in self.nodes if n.index != node.index]
        path = self._node_dir(node.index) / "config.toml"
        listed = ", ".join(peers)
        path.write_text(f"[Node.P2P]\nStaticNodes = [{listed}]\nTrustedNodes = [{listed}]\n")
        return path

    def _command(self, geth: Path, node: NodeInfo) -> list[str]:
        d = self._node_dir(node.index)
        return [
            str(geth), "--datadir", str(d / "data"), "--config", str(self._write_config(node)),
            "--networkid", str(self.chain_id), "--syncmode", "full", "--gcmode", "archive",
            "--port", str(node.p2p_port), "--nat", "none", "--nodiscover", "--maxpeers", "25",
            "--nodekey", str(d / "nodekey"), "--ipcdisable",
            "--http", "--http.addr", "127.0.0.1", "--http.port", str(node.rpc_port),
            "--http.api", "eth,net,web3,clique,txpool,admin", "--http.vhosts", "localhost,127.0.0.1",
            "--authrpc.addr", "127.0.0.1", "--authrpc.port", str(node.authrpc_port),
            "--keystore", str(d / "keystore"), "--unlock", node.address,
            "--password", str(d / "password.txt"), "--allow-insecure-unlock",
            "--mine", "--miner.etherbase", node.address, "--miner.gasprice", "1",
            "--txpool.pricelimit", "1", "--verbosity", "2",
        ]

    def _init_chain(self, geth: Path, index: int) -> None:
        data = self._node_dir(index) / "data"
        if (data / "geth" / "chaindata").exists():
            return
        proc = subprocess.run([str(geth), "init", "--datadir", str(data), str(self.datadir / "genesis.json")],
                              capture_output=True, text=True, check=False)
        if proc.returncode:
            raise DevnetError(f"geth init failed for node{index}: {proc.stderr.strip()[-1500:]}")

    def start_node(self, index: int) -> None:
        """Start node ``index`` (no-op if it runs) and wait until its RPC answers."""
        if self.is_running(index):
            return
        geth = ensure_geth()
        node = self.nodes[index]
        for port, what in ((node.rpc_port, "RPC"), (node.p2p_port, "p2p"), (node.authrpc_port, "auth RPC")):
            if port_in_use(port):
                raise DevnetError(
                    f"node{index}: {what} port {port} on 127.0.0.1 is already in use by another program. "
                    f"Stop it, or remove {self.datadir} to create a devnet on other ports "
                    "(the chain data there is then lost)."
                )
        self._init_chain(geth, index)
        log = open(self._node_dir(index) / "geth.log", "ab")  # noqa: SIM115 - the node's stdout for its whole life
        proc = subprocess.Popen(self._command(geth, node), stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self._procs[index] = proc
        (self._node_dir(index) / "geth.pid").write_text(str(proc.pid))
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise DevnetError(f"node{index} exited with code {proc.returncode} at start; "
                                  f"see {self._node_dir(index) / 'geth.log'}:\n{self.log_tail(index)}")
            if self._rpc_ok(node.rpc_url):
                return
            time.sleep(0.2)
        raise DevnetError(f"node{index} did not answer RPC within {START_TIMEOUT:.0f}s; "
                          f"see {self._node_dir(index) / 'geth.log'}")

    def stop_node(self, index: int, timeout: float = 20.0) -> None:
        """Stop node ``index`` gracefully (SIGTERM, then SIGKILL after ``timeout``)."""
        pid = self._pid(index)
        if pid is None:
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._pid(index) is not None:
            time.sleep(0.1)
        if self._pid(index) is not None:
            os.kill(pid, signal.SIGKILL)
        proc = self._procs.pop(index, None)
        if proc is not None:
            proc.wait(timeout)

    def up(self, wait_blocks: bool = True) -> None:
        """Start every node, wait until they are peered and blocks are being sealed."""
        for node in self.nodes:
            self.start_node(node.index)
        self.wait_peered()
        if wait_blocks:
            self.wait_for_block(self.block_number(0) + 1)

    def down(self) -> None:
        """Stop every node; chain data stays on disk."""
        for node in self.nodes:
            self.stop_node(node.index)

    def add_node(self) -> NodeInfo:
        """Create and start a new (non-signer) node peered with the others; it can be voted in."""
        index = len(self.state["nodes"])
        new = self._new_node(index, free_port(), free_port(), free_port())
        self.state["nodes"].append(new)
        self._save()
        node = NodeInfo(**new)
        self.start_node(index)
        for other in self.nodes[:-1]:
            if self.is_running(other.index):
                self.rpc(other.index, "admin_addPeer", [node.enode])
        return node

    # ----- RPC helpers -------------------------------------------------------
    @staticmethod
    def _rpc_ok(url: str) -> bool:
        try:
            return requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
                                 timeout=1).ok
        except requests.RequestException:
            return False

    def rpc(self, index: int, method: str, params: list | None = None):
        """Call a JSON-RPC ``method`` on node ``index`` and return its result."""
        resp = requests.post(self.nodes[index].rpc_url, timeout=10,
                             json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
        body = resp.json()
        if "error" in body:
            raise DevnetError(f"node{index} {method}: {body['error'].get('message')}")
        return body["result"]

    def block_number(self, index: int) -> int:
        return int(self.rpc(index, "eth_blockNumber"), 16)

    def running_nodes(self) -> list[int]:
        return [n.index for n in self.nodes if self.is_running(n.index)]

    def wait_peered(self, timeout: float = 30.0) -> None:
        """Wait until every running node sees every other running node."""
        running = self.running_nodes()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(int(self.rpc(i, "net_peerCount"), 16) >= len(running) - 1 for i in running):
                return
            time.sleep(0.3)
        raise DevnetError(f"devnet nodes {running} did not peer within {timeout:.0f}s")

    def wait_for_block(self, number: int, index: int | None = None, timeout: float | None = None) -> None:
        """Wait until node ``index`` (default: first running) has block ``number``."""
        index = self.running_nodes()[0] if index is None else index
        timeout = timeout or max(30.0, self.period * 15)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.block_number(index) >= number:
                return
            time.sleep(0.2)
        raise DevnetError(f"node{index} did not reach block {number} within {timeout:.0f}s "
                          f"(at {self.block_number(index)}); is the network sealing?")

    def log_tail(self, index: int, lines: int = 20) -> str:
        path = self._node_dir(index) / "geth.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def status(self) -> list[dict]:
        """One dict per node: index, address, rpc_url, running, block."""
        out = []
        for node in self.nodes:
            running = self.is_running(node.index)
            block = None
            if running and self._rpc_ok(node.rpc_url):
                block = self.block_number(node.index)
            out.append({"node": node.index, "address": node.address, "rpc_url": node.rpc_url,
                        "running": running, "block": block})
        return out

