"""The paper's cast (a patient in Taiwan, doctors in the Philippines and Thailand) and sharing actions."""
from __future__ import annotations

from dataclasses import dataclass

from web_helpers import Patient, all_confirmed, drive_worker

from phr import db
from phr.models import User


@dataclass
class Cast:
    app: object
    patient: Patient
    patient_id: int
    record_id: str
    ph: Patient  # the Philippine doctor
    ph_id: int
    th: Patient  # the Thai doctor
    th_id: int

    def settle(self):
        """Let the anchoring worker confirm everything queued so far."""
        drive_worker(self.app, all_confirmed(self.app), timeout=90)


def user_id(app, email: str) -> int:
    with app.app_context():
        return db.session().query(User).filter_by(email=email).one().id


def grant(cast: Cast, doctor_id: int, **form):
    return cast.patient.post("/sharing/", {"doctor_id": str(doctor_id), "scope": "all", **form},
                             action="/sharing/grant")
