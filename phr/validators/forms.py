"""Voting forms (flask-wtf: CSRF on every POST)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectChoice, StringField
from wtforms.validators import DataRequired, ValidationError

from .service import checksum_address


def _address(_form, field) -> None:
    try:
        field.data = checksum_address(field.data)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


class ProposeForm(FlaskForm):
    address = StringField(_l("Signer address"), validators=[DataRequired(message=_l("Enter the signer's address.")), _address])
    vote = RadioField(_l("Vote to"), default="add", choices=[
        SelectChoice("add", _l("add this account as a signer")),
        SelectChoice("remove", _l("remove this signer")),
    ])


class DiscardForm(FlaskForm):
    address = HiddenField(validators=[DataRequired(), _address])
