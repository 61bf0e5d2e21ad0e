"""Account forms (flask-wtf: every POST carries a CSRF token)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import EmailField, PasswordField, RadioField, SelectChoice, StringField
from wtforms.validators import (
    DataRequired,
    EqualTo,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

MIN_PASSWORD = 10
MIN_PASSPHRASE = 12
EMAIL_SHAPE = r"^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$"  # delivery is not checked; the address is only an identifier


def _password(label: str) -> PasswordField:
    return PasswordField(label, validators=[DataRequired(), Length(min=MIN_PASSWORD, max=256)])


class RegisterForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Regexp(EMAIL_SHAPE, message=_l("Enter a valid email address.")),
                                          Length(max=254)])
    display_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    password = _password(_l("Password"))
    confirm = PasswordField(_l("Repeat password"), validators=[EqualTo("password", _l("Passwords do not match."))])
    role = RadioField(_l("I am a"), choices=[SelectChoice("patient", _l("Patient")), SelectChoice("doctor", _l("Doctor"))], default="patient")
    country = StringField(_l("Country"), validators=[Optional(), Length(max=100)])
    institution = StringField(_l("Institution"), validators=[Optional(), Length(max=200)])
    licence_no = StringField(_l("Licence number"), validators=[Optional(), Length(max=100)])
    custody = RadioField(_l("Who keeps my private keys"), default="platform", choices=[
        SelectChoice("platform", _l("The platform, locked with my password (I get a recovery code)")),
        SelectChoice("self", _l("Me, in a key file I download and keep (the platform stores only my public keys)")),
    ])
    key_file_passphrase = PasswordField(_l("Key file passphrase"),
                                        validators=[Optional(), Length(min=MIN_PASSPHRASE, max=256)])
    key_file_confirm = PasswordField(_l("Repeat key file passphrase"),
                                     validators=[EqualTo("key_file_passphrase", _l("Passphrases do not match."))])

    def validate(self, extra_validators=None) -> bool:
        """Doctors must say who they are; self custody needs a passphrase distinct from the password."""
        ok = super().validate(extra_validators)
        if self.role.data == "doctor":
            for f in (self.country, self.institution, self.licence_no):
                if not (f.data or "").strip():
                    f.errors.append(_l("Required for doctors: patients see it when choosing whom to trust."))
                    ok = False
        if self.custody.data == "self":
            if not self.key_file_passphrase.data:
                self.key_file_passphrase.errors.append(_l("Required when you keep your own keys."))
                ok = False
            elif self.key_file_passphrase.data == self.password.data:
                self.key_file_passphrase.errors.append(_l("Use a passphrase different from your password."))
                ok = False
        return ok


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = _password(_l("New password"))
    confirm = PasswordField(_l("Repeat new password"), validators=[EqualTo("new_password", _l("Passwords do not match."))])


class KeyFilePassphraseForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    passphrase = PasswordField(_l("New key file passphrase"), validators=[DataRequired(), Length(min=MIN_PASSPHRASE, max=256)])
    confirm = PasswordField(_l("Repeat new key file passphrase"),
                            validators=[EqualTo("passphrase", _l("Passphrases do not match."))])

    def validate_passphrase(self, field) -> None:
        if field.data == self.current_password.data:
            raise ValidationError(_l("Use a passphrase different from your password."))


class RecoverForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired()])
    recovery_code = StringField(_l("Recovery code"), validators=[Optional(), Length(max=100)])
    key_file = FileField(_l("Key file"))
    passphrase = PasswordField(_l("Key file passphrase"), validators=[Optional()])
    new_password = _password(_l("New password"))
    confirm = PasswordField(_l("Repeat new password"), validators=[EqualTo("new_password", _l("Passwords do not match."))])

    def validate_recovery_code(self, field) -> None:
        if not field.data and not self.key_file.data:
            raise ValidationError(_l("Enter your recovery code, or choose your key file below."))


class UnlockForm(FlaskForm):
    key_file = FileField(_l("Key file"), validators=[FileRequired(_l("Choose your key file."))])
    passphrase = PasswordField(_l("Key file passphrase"), validators=[DataRequired()])


class EmptyForm(FlaskForm):
    """A one-button POST (logout, "I have saved my kit") that only needs the CSRF token."""
