"""WSGI entry point: ``gunicorn gateway.wsgi:app`` (settings from SCIM_GATEWAY_* variables)."""

from gateway.app import create_app
from gateway.logconfig import configure_logging
from gateway.settings import Settings

_settings = Settings.from_env()
configure_logging(_settings.log_level)
app = create_app(_settings)
