"""Sharing forms."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)
from wtforms.widgets import CheckboxInput, ListWidget

ICD10CM = r"^[A-TV-Z][0-9][0-9AB](\.[0-9A-TV-Z]{1,4})?$"


class MultiCheckbox(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class GrantForm(FlaskForm):
    doctor_id = HiddenField(validators=[DataRequired(), Regexp(r"^\d+$")])
    scope = RadioField(_l("Share"), default="all", choices=[
        SelectChoice("all", _l("All my records, now and future (the doctor may also add records)")),
        SelectChoice("records", _l("Only the records I choose (read only)")),
    ])
    records = MultiCheckbox(_l("Records"), choices=[], validate_choice=True)
    expires = DateField(_l("Access ends on (optional)"), validators=[Optional()])


class PrivacyForm(FlaskForm):
    hidden = MultiCheckbox(_l("Do not reveal to doctors"), choices=[], validate_choice=True)


class HideForm(FlaskForm):
    """One item of one record, and how to hide it: the visit, the diagnosis, the drug or the item alone."""

    record_id = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9a-f]{64}$")])
    item = HiddenField(validators=[DataRequired(), Length(max=200)])
    kind = HiddenField(validators=[DataRequired(), AnyOf(("visit", "diagnosis", "drug", "item"))])


class UnhideForm(FlaskForm):
    rule = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9a-f]{16}$")])


class VisitForm(FlaskForm):
    code = StringField(_l("Diagnosis code (ICD-10-CM)"), validators=[
        DataRequired(), Regexp(ICD10CM, message=_l("Enter an ICD-10-CM code such as E11.9."))])
    diagnosis = StringField(_l("Diagnosis"), validators=[DataRequired(), Length(max=300)])
    med1_name = StringField(_l("Medication"), validators=[Optional(), Length(max=200)])
    med1_dose = StringField(_l("Dose"), validators=[Optional(), Length(max=200)])
    med1_days = IntegerField(_l("Days"), validators=[Optional(), NumberRange(1, 365)])
    med2_name = StringField(_l("Medication"), validators=[Optional(), Length(max=200)])
    med2_dose = StringField(_l("Dose"), validators=[Optional(), Length(max=200)])
    med2_days = IntegerField(_l("Days"), validators=[Optional(), NumberRange(1, 365)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=4000)])

    def medications(self) -> list[dict]:
        """The medication rows that were filled in."""
        rows = [(self.med1_name, self.med1_dose, self.med1_days), (self.med2_name, self.med2_dose, self.med2_days)]
        return [{"name": n.data.strip(), "dose": (d.data or "").strip(), "days": days.data}
                for n, d, days in rows if n.data and n.data.strip()]
