"""The words for a record's states: each status code the services return, mapped to its text in one table.

Services decide a state and return a code with its parameters
(:class:`~phr.records.service.AnchorState`, :class:`~phr.records.service.Integrity`);
templates print ``_(msgid, **params)`` for the code and never compare English
sentences. Msgids are marked with ``N_`` so pybabel extracts them from here.
The integrity details in :data:`INTEGRITY_DETAILS_EN` are technical and stay
English in every language (pages print them with ``lang="en"``); they are also
the messages for logs and error pages.
"""
from __future__ import annotations

from ..labels import N_

ANCHOR = {
    "batch-waiting": N_("Queued for the next anchoring batch"),
    "not-queued": N_("Not queued for anchoring."),
    "anchored": N_("Anchored in block %(number)s"),
    "failed": N_("Anchoring failed: %(error)s"),
    "mined": N_("In block %(number)s, waiting for confirmation"),
    "sent": N_("Anchoring (transaction %(tx)s…)"),
    "retrying": N_("Queued for anchoring — the chain is unreachable, it will be retried"),
    "queued": N_("Queued for anchoring"),
}
"""Anchoring progress: code → msgid (parameters ``number``, ``error``, ``tx``)."""

VERDICT = {
    "verified": N_("Verified against the chain"),
    "modified": N_("MODIFIED: does not match the chain"),
    "missing": N_("MISSING: the stored object is gone"),
    "pending": N_("Not anchored yet; it cannot be verified until it is"),
    "unverifiable": N_("Cannot be verified right now"),
}
"""The integrity verdict, by :attr:`Integrity.state`."""

INTEGRITY_DETAILS = {
    "verified": N_("Verified against the chain."),
}
"""Integrity details worded for every language, by :attr:`Integrity.code`."""

INTEGRITY_DETAILS_EN = {
    # the owner's copy (records.service)
    "object-missing": "MISSING: the stored object for this record is gone.",
    "store-unreachable": "The object store is unreachable (%(error)s); try again later.",
    "chain-unreachable": "Could not reach the chain to verify this record (%(error)s).",
    "fails-authentication": "MODIFIED: the stored content fails authentication — it was altered or replaced after "
                            "upload.",
    "not-anchored": "Not anchored yet (%(state)s); it cannot be verified until it is.",
    "differs": "MODIFIED: stored content does not match the chain.",
    "database-differs": "MODIFIED: the platform's database holds a different hash or resources root for this record "
                        "than the chain and its content; no proof is issued until it is repaired.",
    "no-batch": "MODIFIED: the chain holds no batch under this record's root.",
    "leaf-differs": "MODIFIED: stored content does not match the chain (%(problems)s).",
    "verified-batch": "Verified against the chain: signed by the owner, leaf %(leaf)s of %(count)s under batch root "
                      "0x%(root)s.",
    # a doctor's redacted copy (sharing.redaction)
    "share-missing": "MISSING: the shared copy of this record is gone.",
    "share-store-unreachable": "The object store is unreachable (%(error)s).",
    "share-fails-authentication": "MODIFIED: the shared copy fails authentication.",
    "share-item-differs": "MODIFIED: shared item %(item)s does not match its anchored leaf.",
    "share-chain-unreachable": "Could not reach the chain (%(error)s).",
    "share-not-anchored": "Not anchored yet; it cannot be verified until it is.",
    "share-differs": "MODIFIED: the shared items do not match the chain.",
    "share-verified": "Verified against the chain (%(hidden)s items withheld by the patient, proven by their hashes).",
    "share-verified-batch": "Verified against the chain (%(hidden)s items withheld by the patient, proven by their "
                            "hashes; batch root 0x%(root)s).",
}
"""Integrity details kept in English, by :attr:`Integrity.code`."""


def english(msgid: str, params: dict) -> str:
    """``msgid`` with ``params`` filled in, untranslated (for logs, APIs and the English-only details)."""
    return msgid % params if params else msgid
