"""No Docker engine runs here, so the production compose file is checked against the Besu network it names."""
import json
import re
from urllib.parse import urlparse

import pytest
import yaml
from eth_keys import keys as eth_keys

from phr import genesis
from phr.config import ROOT

EXAMPLE_ENV = dict(line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines()
                   if line and not line.startswith("#"))


def _interpolate(text: str) -> str:
    """Compose's ${VAR:?message} substitution, with the values documented in .env.example."""
    return re.sub(r"\$\{(\w+)(?::\?[^}]*)?\}", lambda m: EXAMPLE_ENV[m.group(1)], text)


COMPOSE = yaml.safe_load(_interpolate((ROOT / "docker-compose.yml").read_text()))
GENESIS = json.loads((ROOT / "besu" / "genesis.json").read_text())
NETWORK = json.loads((ROOT / "besu" / "network.json").read_text())
SERVICES = COMPOSE["services"]
VALIDATORS = {name: svc for name, svc in SERVICES.items() if "besu" in str(svc.get("image", ""))}


def _flag(args: list[str], name: str) -> str:
    values = [a.split("=", 1)[1] for a in args if a.startswith(f"--{name}=")]
    assert len(values) == 1, f"--{name} given {len(values)} times"
    return values[0]


def test_besu_is_pinned_below_the_release_that_dropped_clique_sealing():
    for name, svc in VALIDATORS.items():
        major, minor, _patch = map(int, svc["image"].split(":")[1].split("."))
        assert (major, minor) < (25, 12), f"{name}: Besu {svc['image']} no longer seals clique blocks"
    assert len(VALIDATORS) == 4


def test_genesis_signers_are_the_validators_node_keys():
    signers = genesis.signers_from_extra_data(GENESIS["extraData"])
    assert signers == sorted((v["address"] for v in NETWORK["validators"]), key=lambda a: bytes.fromhex(a[2:]))
    for v in NETWORK["validators"]:
        pub = eth_keys.PublicKey(bytes.fromhex(v["enode_pubkey"]))
        assert pub.to_checksum_address() == v["address"]
        mounts = VALIDATORS[v["name"]]["volumes"]
        assert f"./besu/keys/{v['name']}/key:/besu/key:ro" in mounts
        assert "./besu/genesis.json:/besu/genesis.json:ro" in mounts


def test_genesis_is_clique_at_london_with_the_faucet_funded():
    cfg = GENESIS["config"]
    assert cfg["chainId"] == NETWORK["chain_id"]
    assert cfg["londonBlock"] == 0 and "shanghaiTime" not in cfg
    assert cfg["clique"]["blockperiodseconds"] == NETWORK["block_period"]
    assert list(GENESIS["alloc"]) == [NETWORK["faucet_address"]]


def test_validators_share_chain_id_and_boot_from_validator1():
    v1 = next(v for v in NETWORK["validators"] if v["name"] == "validator1")
    v1_ip = VALIDATORS["validator1"]["networks"]["chain"]["ipv4_address"]
    for svc in VALIDATORS.values():
        args = svc["command"]
        assert int(_flag(args, "network-id")) == GENESIS["config"]["chainId"]
        assert _flag(args, "bootnodes") == f"enode://{v1['enode_pubkey']}@{v1_ip}:{_flag(args, 'p2p-port')}"
        assert "CLIQUE" in _flag(args, "rpc-http-api").split(",")


@pytest.mark.parametrize("service", ["app", "init", "worker"])
def test_app_is_given_every_validator_rpc_and_the_backend_services(service):
    env = SERVICES[service]["environment"]
    urls = [urlparse(u) for u in env["PHR_RPC_URLS"].split(",")]
    assert {u.hostname for u in urls} == set(VALIDATORS)
    for u in urls:
        assert str(u.port) == _flag(VALIDATORS[u.hostname]["command"], "rpc-http-port")
    assert env["PHR_S3_ENDPOINT"].split(":")[0] in SERVICES
    assert urlparse(env["PHR_DATABASE_URL"]).hostname == "postgres"
    assert "faucet_key" in SERVICES[service]["secrets"]
    assert COMPOSE["secrets"]["faucet_key"]["file"] == "./besu/keys/faucet.key"


def test_images_are_pinned_and_only_the_app_is_published_on_loopback():
    for name, svc in SERVICES.items():
        if "image" in svc:
            assert re.search(r":[\w.\-]+$", svc["image"]) and not svc["image"].endswith(":latest"), name
        for port in svc.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
    assert [n for n, s in SERVICES.items() if s.get("ports")] == ["app"]


def test_devnet_and_besu_genesis_describe_the_same_network():
    addrs = [v["address"] for v in NETWORK["validators"]]
    geth = genesis.geth_genesis(addrs, NETWORK["faucet_address"], NETWORK["chain_id"], NETWORK["block_period"])
    besu = genesis.besu_genesis(addrs, NETWORK["faucet_address"], NETWORK["chain_id"], NETWORK["block_period"])
    assert besu == GENESIS
    assert {k: v for k, v in geth.items() if k != "config"} == {k: v for k, v in besu.items() if k != "config"}
    assert geth["config"]["clique"]["period"] == besu["config"]["clique"]["blockperiodseconds"]


def test_one_anchoring_worker_runs_beside_the_app():
    worker = SERVICES["worker"]
    assert worker["command"] == ["python", "-m", "phr.worker"]
    assert worker["environment"] == SERVICES["app"]["environment"]
    assert worker["depends_on"]["init"]["condition"] == "service_completed_successfully"
    assert "deploy" not in worker or worker["deploy"].get("replicas", 1) == 1
