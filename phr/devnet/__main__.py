"""``python -m phr.devnet up|down|status``: manage the local clique devnet."""
from __future__ import annotations

import argparse
import sys

from ..config import ROOT
from . import Devnet, DevnetError, ToolchainError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m phr.devnet", description=__doc__)
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument("--datadir", default=str(ROOT / "instance" / "devnet"))
    parser.add_argument("--signers", type=int, default=3)
    parser.add_argument("--period", type=int, default=2, help="block period in seconds (new devnet only)")
    args = parser.parse_args(argv)
    net = Devnet(args.datadir, signers=args.signers, period=args.period)
    try:
        if args.action == "up":
            net.up()
        elif args.action == "down":
            net.down()
    except (DevnetError, ToolchainError) as exc:
        print(f"devnet: {exc}", file=sys.stderr)
        return 1
    for row in net.status():
        state = f"block {row['block']}" if row["running"] else "stopped"
        print(f"node{row['node']}  {row['address']}  {row['rpc_url']}  {state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
