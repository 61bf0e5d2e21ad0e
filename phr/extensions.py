"""Flask extensions, created unbound and bound in :func:`phr.create_app`."""
from flask_babel import lazy_gettext
from flask_login import LoginManager
from flask_wtf import CSRFProtect

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
# Flask-Login flashes this when a page needs a login; str() translates it for the request's language.
login_manager.login_message = lazy_gettext("Please log in to access this page.")
login_manager.localize_callback = str
