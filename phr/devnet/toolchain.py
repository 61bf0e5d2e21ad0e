"""Locate or build the pinned geth binary in a cache outside the checkout."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

GETH_VERSION = "v1.13.15"  # the last geth line that seals clique blocks
GETH_MODULE = "github.com/ethereum/go-ethereum/cmd/geth"
# Tried in order: the machine's default Go, then a toolchain known to build 1.13.
GO_TOOLCHAINS = (None, "go1.22.12")


class ToolchainError(RuntimeError):
    """A tool the local stack needs is missing or failed to build; the message says what to do."""


def cache_dir() -> Path:
    """``$PHR_CACHE_DIR`` or ``~/.cache/phr``: survives fresh clones, keyed by version below."""
    return Path(os.environ.get("PHR_CACHE_DIR", Path.home() / ".cache" / "phr"))


def geth_path() -> Path:
    """Where the pinned geth binary lives once built."""
    return cache_dir() / f"geth-{GETH_VERSION}" / "bin" / "geth"


def ensure_geth(log=print) -> Path:
    """Return the pinned geth binary, building it with ``go install`` on first use."""
    target = geth_path()
    if target.exists():
        return target
    go = shutil.which("go")
    if not go:
        raise ToolchainError(
            "Go is not installed, so geth cannot be built. Install Go (https://go.dev/doc/install "
            "or `apt-get install golang`) and run again."
        )
    errors = []
    for toolchain in GO_TOOLCHAINS:
        env = dict(os.environ, GOBIN=str(target.parent), CGO_ENABLED=os.environ.get("CGO_ENABLED", "1"))
        if toolchain:
            env["GOTOOLCHAIN"] = toolchain
        log(f"building geth {GETH_VERSION} with {toolchain or 'the default Go toolchain'} (one-off, ~2-5 min)…")
        proc = subprocess.run(
            [go, "install", "-ldflags=-checklinkname=0", f"{GETH_MODULE}@{GETH_VERSION}"],
            env=env, capture_output=True, text=True, check=False,
        )
        if proc.returncode == 0 and target.exists():
            return target
        errors.append(f"[{toolchain or 'default'}] {proc.stderr.strip()[-2000:]}")
    raise ToolchainError("Building geth failed:\n" + "\n".join(errors))
