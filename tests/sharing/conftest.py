"""The paper's cast: a patient in Taiwan, doctors in the Philippines and Thailand, on the real stack."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from auth_helpers import DOCTOR
from web_helpers import DATA, Patient, all_confirmed, drive_worker

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


def _user_id(app, email: str) -> int:
    with app.app_context():
        return db.session().query(User).filter_by(email=email).one().id


@pytest.fixture
def cast(live_app) -> Cast:
    patient = Patient(live_app.test_client(), live_app)
    patient.register_patient("mei@example.tw", name="Chen Mei")
    record_id = patient.upload_and_confirm(DATA / "mhb" / "scenario.xml")
    ph = Patient(live_app.test_client(), live_app)
    ph.register_patient("santos@example.ph", role="doctor", name="Dr Maria Santos",
                        **(DOCTOR | {"country": "Philippines", "institution": "Philippine General Hospital"}))
    th = Patient(live_app.test_client(), live_app)
    th.register_patient("somchai@example.th", role="doctor", name="Dr Somchai",
                        **(DOCTOR | {"country": "Thailand", "institution": "Siriraj Hospital"}))
    c = Cast(live_app, patient, _user_id(live_app, "mei@example.tw"), record_id,
             ph, _user_id(live_app, "santos@example.ph"), th, _user_id(live_app, "somchai@example.th"))
    c.settle()
    return c


def grant(cast: Cast, doctor_id: int, **form):
    return cast.patient.post("/sharing/", {"doctor_id": str(doctor_id), "scope": "all", **form},
                             action="/sharing/grant")
