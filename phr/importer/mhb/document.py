"""What parsing and mapping a My Health Bank download produce: the document, notes, skipped rows."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Self


class Note(str):
    """A note or skip reason: the English sentence (what the command line prints) that keeps its ``N_``-marked
    msgid and parameters, so a page can show it as ``gettext(msgid, **params)`` in the reader's language."""

    msgid: str
    params: dict[str, object]

    def __new__(cls, msgid: str, **params: object) -> Self:
        note = super().__new__(cls, msgid % params if params else msgid)
        note.msgid, note.params = msgid, params
        return note


@dataclass(frozen=True)
class SkippedRow:
    """A source row (or child row) that produced no clinical resource, and why."""

    section: str
    row_index: int
    reason: Note


@dataclass
class MhbDocument:
    """A parsed download: ``sections`` holds present sections (no-data ones as ``[]``)."""

    masked_id: str | None
    application_date: str | None
    sections: dict[str, list[dict]]
    no_data: set[str] = field(default_factory=set)
    notes: list[Note] = field(default_factory=list)


@dataclass(frozen=True)
class MhbConversion:
    """Result of ``to_bundle``: the collection Bundle, rows left out, and notes for the report."""

    bundle: dict
    skipped: list[SkippedRow]
    notes: list[Note]
