"""ALP Guard's shell: the Flask app factory, HTTP routes, FHIR access, storage and settings."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from cds_service.auth import Verifier
from cds_service.fhir_client import FhirClient
from cds_service.logs import configure_logging, get_logger
from cds_service.metrics import observe_fhir_call
from cds_service.runtime import Runtime
from cds_service.settings import Settings, require_trust, settings_from_env
from cds_service.store import Store

# Injectable in tests: a fixed clock, a monotonic clock and a deterministic UUID source.
_RUNTIME_HOOKS = ("clock", "monotonic", "new_uuid")


def create_app(config: Mapping[str, Any] | Settings | None = None) -> Flask:
    """Create and configure an instance of the ALP Guard application."""
    app = Flask(__name__, instance_relative_config=True)
    overrides = dict(config) if isinstance(config, Mapping) else {}
    hooks = {name: overrides.pop(name) for name in _RUNTIME_HOOKS if name in overrides}
    testing = bool(overrides.pop("TESTING", False))
    settings = config if isinstance(config, Settings) else settings_from_env(**overrides)
    require_trust(settings)
    configure_logging(settings.log_level)
    app.config.update(TESTING=testing, MAX_CONTENT_LENGTH=settings.max_request_bytes, JSON_SORT_KEYS=False)
    if isinstance(app.json, DefaultJSONProvider):
        app.json.sort_keys = False
    app.extensions["alp_guard"] = Runtime(
        settings=settings,
        store=Store(settings.database_url or _default_database(app.instance_path)),
        fhir=FhirClient(
            timeout_seconds=settings.fhir_timeout_seconds,
            max_pages=settings.fhir_max_pages,
            max_response_bytes=settings.fhir_max_response_bytes,
            observer=observe_fhir_call,
            clock=hooks.get("monotonic", time.monotonic),
        ),
        executor=ThreadPoolExecutor(max_workers=settings.fhir_concurrency, thread_name_prefix="fhir"),
        **hooks,
    )
    from cds_service.api import bp

    runtime = app.extensions["alp_guard"]
    app.extensions["alp_guard.auth"] = Verifier(
        settings.trusted_issuers, runtime.store, leeway_seconds=settings.jwt_leeway_seconds
    )
    app.register_blueprint(bp)
    get_logger("app").info("started", extra={"fields": {"auth_mode": settings.auth_mode}})
    if settings.auth_mode == "none":
        get_logger("app").warning(
            "AUTHENTICATION IS OFF (CDS_AUTH_MODE=none): every caller is trusted; use only for local development",
            extra={"fields": {"auth_mode": "none"}},
        )
    return app


def _default_database(instance_path: str) -> str:
    """Return the URL of the SQLite file in the instance folder, creating the folder."""
    os.makedirs(instance_path, exist_ok=True)
    return f"sqlite:///{os.path.join(instance_path, 'alp_guard.sqlite3')}"
