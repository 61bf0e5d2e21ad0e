"""Record states are codes with parameters; the words for them live in one table (phr/records/words.py)."""
from pathlib import Path
from types import SimpleNamespace as NS

from phr.records import words
from phr.records.service import Integrity, anchor_state

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _record(job=None, batched=False):
    member = NS(batch=NS(job=job) if job else None) if batched else None
    return NS(batch_member=member, anchor_job=None if batched else job)


def _job(status, **kw):
    return NS(**{"status": status, "block_number": None, "last_error": None, "tx_hash": None} | kw)


def test_anchor_states_are_codes_with_parameters_and_english_for_logs():
    cases = [
        (_record(batched=True), "batch-waiting", "Queued for the next anchoring batch"),
        (_record(), "not-queued", "Not queued for anchoring."),
        (_record(_job("confirmed", block_number=17)), "anchored", "Anchored in block 17"),
        (_record(_job("failed", last_error="out of gas")), "failed", "Anchoring failed: out of gas"),
        (_record(_job("mined", block_number=5)), "mined", "In block 5, waiting for confirmation"),
        (_record(_job("sent", tx_hash="0x0123456789abcdef")), "sent", "Anchoring (transaction 0x0123456789…)"),
        (_record(_job("queued", last_error="down")), "retrying",
         "Queued for anchoring — the chain is unreachable, it will be retried"),
        (_record(_job("queued")), "queued", "Queued for anchoring"),
    ]
    for record, code, english in cases:
        state = anchor_state(record)
        assert (state.code, state.label) == (code, english)
        assert state.msgid in words.ANCHOR.values()


def test_integrity_details_are_worded_once_and_only_the_plain_verdict_is_translated():
    plain = Integrity("verified", "verified")
    assert plain.translated and plain.message == "Verified against the chain." and plain.verdict == words.VERDICT["verified"]
    detail = Integrity("unverifiable", "chain-unreachable", params={"error": "timeout"})
    assert not detail.translated and detail.message == "Could not reach the chain to verify this record (timeout)."
    assert not set(words.INTEGRITY_DETAILS) & set(words.INTEGRITY_DETAILS_EN)


def test_templates_never_compare_english_sentences():
    for path in (TEMPLATES / "records").glob("*.html"):
        text = path.read_text()
        assert "PLAIN_VERIFIED" not in text and ".message ==" not in text and ".label ==" not in text, path
