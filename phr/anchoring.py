"""Chain transactions through a durable outbox, and the worker that gets them confirmed.

A user's transaction is signed in their session — the only place their key is
unlocked — by one of the chain gateway's typed signers (``Ledger.sign_anchor``,
``sign_grant``, ...) with a nonce the database hands out, and stored as a
:class:`~phr.records.models.ChainJob` in the same database transaction as the
change it records. The worker (``python -m phr.worker``, one process) then
broadcasts it, re-broadcasts it while it is not mined (a dropped transaction
comes back; the same bytes can never be mined twice), waits for
``CONFIRMATIONS`` blocks and checks the block is still canonical (clique can
briefly reorg). A chain outage only delays jobs; a job fails only for a
reason that retrying cannot fix, and says so.
"""
from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import partial

from eth_account import Account
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from . import batchproof, clock
from .ledger import (
    GAS_LIMITS,
    MAX_FEE_PER_GAS,
    BlockInfo,
    ChainError,
    ChainUnavailable,
    Ledger,
    NonceUsed,
    SignedTx,
)
from .models import User
from .records.models import AnchorBatch, BatchMember, ChainJob, Record

log = logging.getLogger("phr.worker")

FUNDING_WEI = 10**18  # gas money per top-up from the faucet
MIN_BALANCE_WEI = max(GAS_LIMITS.values()) * MAX_FEE_PER_GAS
MAX_BACKOFF = 30.0
PENDING = ("queued", "sent", "mined")
# The reason an anchor job fails when its id already holds someone else's anchor (a legacy version-1 registry
# front-run, or a writer the owner granted squatting the id): the author's next visit re-signs it under a fresh
# id (phr.records.service.reanchor_taken). Stored as the job's last_error, so it is matched exactly.
ID_TAKEN = "the record id was taken on chain by another anchor; it is re-anchored under a fresh id at the author's next visit"


def next_nonce(db: Session, chain: Ledger, sender: str) -> int:
    """The nonce for ``sender``'s next transaction: past every job we hold and every one the chain saw."""
    held = db.scalar(select(func.max(ChainJob.nonce)).where(ChainJob.sender == sender))
    nonce = 0 if held is None else held + 1
    try:
        nonce = max(nonce, chain.pending_nonce(sender))
    except ChainUnavailable:
        pass  # the database alone knows every transaction the platform signed for this user
    return nonce


Signer = Callable[..., SignedTx]  # a Ledger typed signer with its call's arguments bound: sign(key, nonce=, chain_id=)


def sign_and_enqueue(db: Session, chain: Ledger, key: bytes, sign: Signer, *, kind: str,
                     user_id: int | None, chain_id: int, record_id: str | None = None) -> ChainJob:
    """Sign with ``key`` through ``sign`` and add the transaction to the outbox (the caller commits).

    ``sign`` is one of the gateway's typed signers with the call's own arguments
    bound, e.g. ``partial(chain.sign_grant, reader=doctor, expires_at=0, can_write=True)``;
    the outbox supplies the key, the nonce and the chain id. The signer's user row
    is locked first (PostgreSQL ``FOR NO KEY UPDATE``, which does not conflict with
    the key-share locks foreign keys take; SQLite serialises writers anyway), so
    concurrent requests of one user take consecutive nonces instead of colliding.
    """
    db.execute(select(User.id).where(User.id == user_id).with_for_update(key_share=True))
    sender = Account.from_key(key).address
    for _ in range(5):
        nonce = next_nonce(db, chain, sender)
        signed = sign(key, nonce=nonce, chain_id=chain_id)
        job = ChainJob(kind=kind, user_id=user_id, record_id=record_id, sender=sender, nonce=nonce,
                       raw_tx=signed.raw, tx_hash=signed.hash, status="queued")
        try:
            with db.begin_nested():
                db.add(job)
            return job
        except IntegrityError:  # another process holding the same key took this nonce
            continue
    raise ChainError("could not reserve a transaction nonce; please try again")


class Worker:
    """Drives outbox jobs to confirmation. Run exactly one per deployment."""

    def __init__(self, db: Session, chain: Ledger, *, faucet_key: str | None, confirmations: int = 1,
                 batcher_key: str | bytes | None = None, batch_window: float = 5.0, batch_max: int = 1024,
                 batch_lead: float = 0.25):
        self.db = db
        self.chain = chain
        self.faucet_key = faucet_key
        self.confirmations = confirmations
        self.batcher_key = batcher_key or faucet_key  # signs anchorBatch; only a courier, it proves nothing
        self.batch_window = batch_window
        self.batch_max = batch_max
        self.batch_lead = batch_lead
        self._head: BlockInfo | None = None  # the latest block seen this round
        self._period: float | None = None  # the block period, learnt from consecutive heads
        self._last_head: BlockInfo | None = None
        self._slot_used: int | None = None  # the head whose slot a batch was already cut in
        self._members_wait = False

    @classmethod
    def from_config(cls, db: Session, chain: Ledger, config: Mapping) -> Worker:
        """The worker the app's ``PHR_*`` settings describe (see phr/config.py)."""
        return cls(db, chain, faucet_key=config["FAUCET_KEY"], confirmations=config["CONFIRMATIONS"],
                   batcher_key=config.get("BATCHER_KEY"), batch_window=config["BATCH_WINDOW_SECONDS"],
                   batch_max=config["BATCH_MAX"], batch_lead=config["BATCH_LEAD_SECONDS"])

    def due_jobs(self, limit: int = 500) -> list[ChainJob]:
        # Sent and mined jobs are looked at every round (one receipt lookup), so a mined transaction is noticed
        # within a poll, not after the re-broadcast back-off; re-broadcasting itself still waits for it.
        # Batches go first: the faucet (the default batcher) then tops up users with the nonce after the batch's,
        # instead of taking the nonce the database reserved for a batch not yet sent.
        return list(self.db.scalars(
            select(ChainJob).where(ChainJob.status.in_(PENDING),
                                   or_(ChainJob.next_attempt_at <= clock.now(), ChainJob.status.in_(("sent", "mined"))))
            .order_by(ChainJob.kind != "batch", ChainJob.sender, ChainJob.nonce).limit(limit)
        ))

    def process_once(self) -> int:
        """Advance every due job one step; returns how many changed state. Never raises for chain outages."""
        changed = 0
        self._head = None
        try:
            changed += self.cut_batches()
        except ChainUnavailable:
            self.db.rollback()  # members stay queued; the next round tries again
        for job in self.due_jobs():
            before = job.status
            try:
                self._advance(job)
            except ChainUnavailable as exc:
                self._retry_later(job, str(exc))
                self.db.commit()
                break  # every other job would fail the same way
            except ChainError as exc:
                self._retry_later(job, str(exc))
            changed += job.status != before
            self.db.commit()
        return changed

    def run(self, poll: float = 0.5, stop=lambda: False, housekeeping=None, housekeeping_every: float = 600.0) -> None:
        """Process jobs until ``stop()`` is true; call ``housekeeping()`` every ``housekeeping_every`` seconds."""
        next_housekeeping = time.monotonic()
        while not stop():
            try:
                self.process_once()
                if housekeeping and time.monotonic() >= next_housekeeping:
                    next_housekeeping = time.monotonic() + housekeeping_every
                    housekeeping()
            except Exception:  # keep the worker alive; the job stays queued and is retried
                log.exception("anchoring round failed")
                self.db.rollback()
            time.sleep(self._pause(poll))

    def _pause(self, poll: float) -> float:
        """``poll``, or less when records wait and the next block's slot opens sooner (so the cut is not late)."""
        if not self._members_wait or self._head is None or self._period is None:
            return poll
        return max(0.01, min(poll, self._slot_opens() - time.time()))

    def head(self) -> BlockInfo:
        """The latest block, read once per round; also learns the block period from consecutive heads."""
        if self._head is None:
            head = self.chain.block("latest")
            if self._period is None and head.number > 0:
                self._period = float(head.timestamp - self.chain.block(head.number - 1).timestamp)
            elif self._period is not None and self._last_head and head.number == self._last_head.number + 1:
                self._period = float(min(self._period, head.timestamp - self._last_head.timestamp))
            self._head = self._last_head = head
        return self._head

    # ----- batches -------------------------------------------------------------
    def cut_batches(self) -> int:
        """Put waiting batch-mode records under Merkle roots and queue one signed ``anchorBatch`` per root.

        A batch is cut when ``batch_max`` records wait, when the next block's
        slot opens (``batch_lead`` seconds before that block is due, so the
        transaction is in the sealers' pool when they start building the block
        after it; at most one such cut per block), or, if the chain cannot be
        read, once the oldest has waited ``batch_window`` seconds. The root's
        transaction and every member's leaf index and path are committed
        together, so a crash either leaves the members waiting or leaves a
        complete batch whose fixed transaction bytes the next round
        (re-)broadcasts: each record is anchored exactly once.
        """
        cut = 0
        while True:
            waiting = list(self.db.scalars(
                select(BatchMember).where(BatchMember.batch_id.is_(None))
                .order_by(BatchMember.queued_at, BatchMember.record_id).limit(self.batch_max)))
            self._members_wait = bool(waiting)
            if not waiting:
                return cut
            if len(waiting) < self.batch_max and not self._slot_open(waiting[0]):
                return cut
            if not self.batcher_key:
                log.error("%d records wait for a batch but no batcher key is configured (PHR_BATCHER_KEY_FILE or "
                          "PHR_FAUCET_KEY_FILE)", len(waiting))
                return cut
            self._cut(waiting)
            self.db.commit()
            if self._head is not None:
                self._slot_used = self._head.number
            cut += 1

    def _slot_opens(self) -> float:
        """Unix time ``batch_lead`` seconds before the next block is due: a batch sent then is in the sealers' pool
        when, on importing that block, they build the one after it."""
        return self._head.timestamp + self._period - self.batch_lead

    def _slot_open(self, oldest: BatchMember) -> bool:
        if clock.aware(oldest.queued_at) <= clock.now() - timedelta(seconds=self.batch_window):
            return True
        try:
            head = self.head()
        except ChainUnavailable:
            return False  # the window above still cuts; the batch is broadcast once the chain is back
        if self._period is None:
            return True  # only the genesis block so far: no period to time a slot by
        return head.number != self._slot_used and time.time() >= self._slot_opens()

    def _cut(self, members: list[BatchMember]) -> AnchorBatch:
        chain_id = self.chain.chain_id()
        records = {r.id: r for r in self.db.scalars(select(Record).where(Record.id.in_([m.record_id for m in members]))
                                                    .options(selectinload(Record.owner)))}
        leaves = []
        for m in members:
            r = records[m.record_id]
            fields = batchproof.LeafFields(chain_id, self.chain.address, r.anchor_id, r.sha256, r.resources_root,
                                           r.storage_key, r.owner.eth_address)
            leaves.append(batchproof.leaf(fields, r.owner_signature))
        leaves.append(batchproof.salt_leaf(secrets.token_bytes(32)))  # a fresh root, even for the same records
        root, paths = batchproof.tree(leaves)
        job = sign_and_enqueue(self.db, self.chain, self.batcher_key,
                               partial(self.chain.sign_batch, root=root, count=len(leaves)),
                               kind="batch", user_id=None, chain_id=chain_id)
        batch = AnchorBatch(root=root.hex(), count=len(leaves), job=job)
        self.db.add(batch)
        self.db.flush()
        self.db.execute(update(BatchMember), [  # one executemany, not an ORM flush of a thousand objects
            {"record_id": m.record_id, "batch_id": batch.id, "leaf_index": i,
             "merkle_path": json.dumps([h.hex() for h in siblings])} for i, (m, siblings) in enumerate(zip(members, paths))])
        for m in members:
            self.db.expire(m)  # the bulk update bypassed these objects: reload them if they are read again
        log.info("batch of %d records under root %s queued as job %s", len(leaves), root.hex(), job.id)
        return batch

    def _batch_matches(self, job: ChainJob) -> bool:
        batch = self.db.scalar(select(AnchorBatch).where(AnchorBatch.job_id == job.id))
        on_chain = self.chain.get_batch(bytes.fromhex(batch.root), job.sender)
        return (on_chain is not None and on_chain.submitter.lower() == job.sender.lower()
                and on_chain.count == batch.count and on_chain.block_number == job.block_number)

    def _release_batch(self, job: ChainJob) -> None:
        """A batch transaction that can never be mined: its records wait for the next batch instead."""
        batch = self.db.scalar(select(AnchorBatch).where(AnchorBatch.job_id == job.id))
        if batch is None:
            return
        released = list(self.db.scalars(select(BatchMember).where(BatchMember.batch_id == batch.id)))
        for m in released:
            m.batch_id, m.leaf_index, m.merkle_path = None, None, None
        self.db.delete(batch)
        log.warning("batch %s released: its %d records join the next batch", batch.root, len(released))

    # ----- one job -------------------------------------------------------------
    def _advance(self, job: ChainJob) -> None:
        if job.status == "queued" and job.kind != "anchor" and job.record_id and not self._record_anchored(job):
            return  # a grant, revoke or read of a record must not reach the chain before the record does
        receipt = self.chain.receipt(job.tx_hash)
        if receipt is None:
            if job.status == "sent" and clock.aware(job.next_attempt_at) > clock.now():
                return  # not mined yet; re-broadcast after the back-off
            if job.status == "mined":
                log.warning("job %s: tx %s left the chain (reorg); re-sending", job.id, job.tx_hash)
            self._send(job)
            return
        if receipt["status"] != 1:
            taken = job.kind == "anchor" and self._anchor_taken(job)
            self._fail(job, ID_TAKEN if taken else "the contract rejected the transaction (reverted)")
            return
        job.status, job.block_number, job.block_hash = "mined", receipt["blockNumber"], receipt["blockHash"].to_0x_hex()
        job.last_error = None
        if self.head().number < job.block_number + self.confirmations:
            return
        block = self.chain.block(job.block_number)
        if block.hash != job.block_hash:
            return  # reorged: the next round sees the new receipt or re-sends
        if job.kind == "anchor" and not self._anchor_matches(job):
            self._fail(job, ID_TAKEN)
            return
        if job.kind == "batch" and not self._batch_matches(job):
            self._fail(job, "the chain holds a different batch under this root")
            return
        job.status = "confirmed"
        job.mined_at = datetime.fromtimestamp(block.timestamp, UTC)
        log.info("job %s (%s) confirmed in block %s", job.id, job.kind, job.block_number)

    def _send(self, job: ChainJob) -> None:
        self._ensure_funded(job.sender)
        try:
            self.chain.broadcast(job.raw_tx)
        except NonceUsed:
            if self.chain.receipt(job.tx_hash) is None and not self.chain.transaction_known(job.tx_hash):
                self._fail(job, "another transaction used this nonce; sign the action again")
            return
        job.status = "sent"
        job.attempts += 1
        job.next_attempt_at = clock.now() + timedelta(seconds=min(MAX_BACKOFF, 2.0 * job.attempts))

    def _record_anchored(self, job: ChainJob) -> bool:
        """Whether the record ``job`` refers to is anchored; fails ``job`` if that anchor failed for good."""
        anchor = self.db.scalar(select(ChainJob).where(ChainJob.record_id == job.record_id, ChainJob.kind == "anchor"))
        if anchor is None or anchor.status == "confirmed":
            return True
        if anchor.status == "failed":
            self._fail(job, "the record it refers to could not be anchored")
        return False

    def _ensure_funded(self, address: str) -> None:
        if self.chain.balance(address) >= MIN_BALANCE_WEI:
            return
        if not self.faucet_key:
            raise ChainError(f"{address} has no gas money and no faucet key is configured (PHR_FAUCET_KEY_FILE)")
        self.chain.wait(self.chain.transfer(self.faucet_key, address, FUNDING_WEI), timeout=30)

    def _on_chain(self, record: Record):
        """The anchor the record's registry holds under its id and owner (a version-1 one: under its id alone)."""
        return self.chain.at(record.contract_address).get_anchor(bytes.fromhex(record.anchor_id),
                                                                 record.owner.eth_address)

    def _anchor_matches(self, job: ChainJob) -> bool:
        record = self.db.get(Record, job.record_id)
        anchor = self._on_chain(record)
        return (anchor is not None and anchor.record_hash.hex() == record.sha256
                and anchor.storage_key == record.storage_key and anchor.owner == record.owner.eth_address)

    def _anchor_taken(self, job: ChainJob) -> bool:
        """Whether ``job`` reverted because its id already holds an anchor that is not this record's."""
        return self._on_chain(self.db.get(Record, job.record_id)) is not None and not self._anchor_matches(job)

    def _retry_later(self, job: ChainJob, reason: str) -> None:
        job.last_error = reason
        job.attempts += 1
        job.next_attempt_at = clock.now() + timedelta(seconds=min(MAX_BACKOFF, 2.0 * job.attempts))

    def _fail(self, job: ChainJob, reason: str) -> None:
        job.status, job.last_error = "failed", reason
        if job.kind == "batch":
            self._release_batch(job)
        log.error("job %s (%s) failed: %s", job.id, job.kind, reason)
