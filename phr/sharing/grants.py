"""Live grants, who reads every record of a patient, and the error sharing operations raise."""
from __future__ import annotations

from sqlalchemy import select

from .. import clock, db
from ..models import User
from ..records import service as records
from .models import Grant


class SharingError(records.RecordError):
    """A sharing operation was refused; the message says why."""


def active_grants(patient: User) -> list[Grant]:
    """The patient's grants that are neither revoked nor expired, newest first."""
    now = clock.now()
    return [g for g in db.session().scalars(
        select(Grant).where(Grant.patient_id == patient.id, Grant.revoked_at.is_(None)).order_by(Grant.created_at.desc()))
        if g.expires_at is None or clock.aware(g.expires_at) > now]


def all_records_readers(patient: User) -> list[User]:
    """Doctors whose live grant covers all of ``patient``'s records (new records are sealed for them too)."""
    return [g.doctor for g in active_grants(patient) if g.scope == "all"]
