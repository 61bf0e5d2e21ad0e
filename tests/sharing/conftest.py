"""The paper's cast on the real stack."""
from __future__ import annotations

import pytest
from auth_helpers import DOCTOR
from sharing_helpers import Cast, user_id
from web_helpers import DATA, Patient


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
    c = Cast(live_app, patient, user_id(live_app, "mei@example.tw"), record_id,
             ph, user_id(live_app, "santos@example.ph"), th, user_id(live_app, "somchai@example.th"))
    c.settle()
    return c
