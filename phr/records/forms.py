"""Record forms."""
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired


class UploadForm(FlaskForm):
    file = FileField("My Health Bank (JSON or XML) or FHIR R4 Bundle (JSON) file",
                     validators=[FileRequired("Choose a file to upload.")])
