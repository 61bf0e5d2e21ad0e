"""Voting forms (flask-wtf: CSRF on every POST)."""
from __future__ import annotations

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
    address = StringField("Signer address", validators=[DataRequired(message="Enter the signer's address."), _address])
    vote = RadioField("Vote to", default="add", choices=[
        SelectChoice("add", "add this account as a signer"),
        SelectChoice("remove", "remove this signer"),
    ])


class DiscardForm(FlaskForm):
    address = HiddenField(validators=[DataRequired(), _address])
