"""``python -m phr.worker``: the anchoring worker process (one per deployment).

It reads the same ``PHR_*`` configuration as the web app and drives the
outbox of signed transactions to confirmation; see :mod:`phr.anchoring`.
SIGTERM/SIGINT stop it between rounds; nothing is lost if it is killed.
"""
from __future__ import annotations

import logging
import signal
import sys

from . import create_app, db, services
from .anchoring import Worker
from .records.service import sweep_orphans


def _sweep() -> None:
    """Remove objects left behind by a process killed between storing and committing (older than an hour)."""
    for key in sweep_orphans():
        logging.getLogger("phr.worker").warning("deleted orphan object %s", key)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    app = create_app()
    stopping = False

    def stop(_sig, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with app.app_context():
        worker = Worker.from_config(db.session(), services.ledger(), app.config)
        logging.getLogger("phr.worker").info("anchoring worker started (confirmations=%s)", worker.confirmations)
        worker.run(poll=app.config.get("WORKER_POLL_SECONDS", 0.5), stop=lambda: stopping, housekeeping=_sweep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
