"""Record forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired


class UploadForm(FlaskForm):
    file = FileField(_l("My Health Bank (JSON or XML) or FHIR R4 Bundle (JSON) file"),
                     validators=[FileRequired(_l("Choose a file to upload."))])
