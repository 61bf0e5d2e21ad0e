"""The viewer: a canonical FHIR R4 Bundle → a ready-to-render view model, one module per section.

Plain functions, no Flask. :func:`build_view` turns one stored record (the ``collection`` Bundle made by
``phr.importer``) into frozen dataclasses whose fields are display strings, ISO dates and flags, so the
Jinja partials in ``templates/records/`` only loop and print. :func:`merge_views` joins the views of
several records into one patient timeline; :func:`item_keys` lists what a patient can tag as "do not
reveal" and :func:`item_facts` what a hide rule (``phr.sharing.hiding``) matches in each entry.

``fhir`` reads the bundle safely; ``patient``, ``visits``, ``medications``, ``labs``, ``programmes``,
``allergies``, ``immunizations`` and ``consents`` each map one section; ``record`` assembles and merges
them; ``items`` serves the privacy tags and hide rules.
"""
from .allergies import Allergy
from .consents import Consent
from .immunizations import Immunization
from .items import ItemFacts, item_facts, item_keys
from .labs import FLAG_LABELS, Lab, Report
from .medications import Medication
from .patient import PatientSummary
from .programmes import FollowUp, Programme
from .record import RecordView, build_view, merge_views
from .visits import KIND_LABELS, Diagnosis, Procedure, Visit

__all__ = [
    "FLAG_LABELS", "KIND_LABELS", "Allergy", "Consent", "Diagnosis", "FollowUp", "Immunization", "ItemFacts", "Lab",
    "Medication", "PatientSummary", "Procedure", "Programme", "RecordView", "Report", "Visit", "build_view",
    "item_facts", "item_keys", "merge_views",
]  # fmt: skip
