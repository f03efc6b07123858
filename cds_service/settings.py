"""Configuration from `CDS_`-prefixed environment variables, validated at start-up."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cds_service.network import is_loopback_url, normalize_base_url
from cds_service.site import DEFAULT_SITE, Site, SiteError, site_from_document
from hooks.policy import Policy, PolicyError, policy_from_document, policy_from_overrides

ENV_PREFIX = "CDS_"
POLICY_PREFIX = "CDS_POLICY_"


class TrustedIssuer(BaseModel):
    """A CDS client trusted to call the service: where its keys are, which FHIR servers and tenant it may name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    jwks_url: str  # where the keys are fetched from, whatever jku a token names
    fhir_servers: tuple[str, ...] = ()
    tenant: str | None = None
    # The jku header values accepted (compared exactly, never fetched); empty: only jwks_url itself.
    jku: tuple[str, ...] = ()
    # The `sub` values (client ids) accepted; None: any sub, or none.
    subjects: tuple[str, ...] | None = None

    @property
    def accepted_jku(self) -> tuple[str, ...]:
        """Return the jku header values a token of this issuer may carry."""
        return self.jku or (self.jwks_url,)

    @field_validator("jku")
    @classmethod
    def _absolute_jku(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        """Require absolute http(s) URLs, as a jku header holds."""
        for url in urls:
            try:
                normalize_base_url(url)
            except ValueError:
                raise ValueError("every jku must be an absolute http(s) URL") from None
        return urls

    @field_validator("subjects")
    @classmethod
    def _non_blank_subjects(cls, subjects: tuple[str, ...] | None) -> tuple[str, ...] | None:
        """Refuse an empty list (it would lock every caller out) and blank values."""
        if subjects is not None and (not subjects or not all(s.strip() for s in subjects)):
            raise ValueError("subjects must list at least one non-blank sub (leave it out to accept any)")
        return subjects

    @field_validator("jwks_url")
    @classmethod
    def _keys_over_tls(cls, url: str) -> str:
        """Require https, or http to a loopback host (tests, local development)."""
        try:
            normalize_base_url(url)
        except ValueError:
            raise ValueError("jwks_url must be an absolute https URL") from None
        if not (url.lower().startswith("https://") or is_loopback_url(url)):
            raise ValueError("jwks_url must use https (http only for a loopback host)")
        return url

    @field_validator("fhir_servers")
    @classmethod
    def _base_urls(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        """Require absolute http(s) base URLs."""
        return _base_urls(urls)


class Settings(BaseModel):
    """Every setting of the service; each field `x` is read from the variable `CDS_X`."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    # Default: a SQLite file in the Flask instance folder (resolved by the app factory).
    database_url: str | None = None
    auth_mode: Literal["none", "jwt"] = "jwt"
    # JSON object: iss -> {"jwks_url": ..., "fhir_servers": [...], "tenant": ...}
    trusted_issuers: dict[str, TrustedIssuer] = {}
    trusted_issuers_file: str | None = None  # a JSON file holding the same object
    jwt_leeway_seconds: int = Field(60, ge=0, le=600)
    protect_discovery: bool = False
    allowed_fhir_servers: tuple[str, ...] = ()  # comma-separated base URLs
    public_base_url: str | None = None
    cors_origins: str = "*"  # "*" or a comma-separated list of origins
    request_deadline_seconds: float = Field(2.0, gt=0, le=60)
    fhir_timeout_seconds: float = Field(1.5, gt=0, le=60)
    fhir_max_pages: int = Field(10, ge=1, le=1000)
    fhir_max_response_bytes: int = Field(20_000_000, ge=1024)
    fhir_concurrency: int = Field(16, ge=1, le=64)  # one concurrent round of a hook's 10-12 queries
    max_request_bytes: int = Field(5_000_000, ge=1024)
    max_json_depth: int = Field(64, ge=16, le=500)
    max_prefetch_resources: int = Field(5000, ge=1)
    max_draft_orders: int = Field(100, ge=1)
    # Feedback items one caller may send a minute, per worker (429 with Retry-After beyond; 0: no limit).
    feedback_items_per_minute: int = Field(600, ge=0, le=1_000_000)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    site_file: str | None = None  # JSON: prefetch templates, card types on or off, card source (cds_service/site.py)
    policy: Policy = Policy()
    site: Site = DEFAULT_SITE

    @field_validator("trusted_issuers", mode="before")
    @classmethod
    def _issuers_from_json(cls, value: Any) -> Any:
        """Read the issuers from JSON text; every issuer must be a non-empty string."""
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else {}
            except ValueError:
                raise ValueError("must be a JSON object") from None
        if not isinstance(value, Mapping):
            raise ValueError("must be a JSON object mapping each iss to its settings")
        if not all(isinstance(iss, str) and iss.strip() for iss in value):
            raise ValueError("every iss must be a non-empty string")
        return value

    @field_validator("allowed_fhir_servers", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        """Split a comma-separated list."""
        return tuple(v.strip() for v in value.split(",") if v.strip()) if isinstance(value, str) else value

    @field_validator("allowed_fhir_servers")
    @classmethod
    def _allowed_base_urls(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        """Require absolute http(s) base URLs."""
        return _base_urls(urls)


class SettingsError(ValueError):
    """A configuration value is missing or wrong; the message names the variable."""


def _base_urls(urls: tuple[str, ...]) -> tuple[str, ...]:
    """Return the URLs without trailing slashes, or raise ValueError naming what is wrong."""
    for url in urls:
        try:
            normalize_base_url(url)
        except ValueError:
            raise ValueError("FHIR server base URLs must be absolute http(s) URLs") from None
    return tuple(url.strip().rstrip("/") for url in urls)


def require_trust(settings: Settings) -> None:
    """Refuse to start in jwt mode with no trusted issuer, or with no public base URL to check `aud` against."""
    if settings.auth_mode != "jwt":
        return
    if not settings.trusted_issuers:
        raise SettingsError(
            f"{ENV_PREFIX}TRUSTED_ISSUERS: no trusted issuer while {ENV_PREFIX}AUTH_MODE is jwt "
            f"(set {ENV_PREFIX}TRUSTED_ISSUERS or {ENV_PREFIX}TRUSTED_ISSUERS_FILE, "
            f"or {ENV_PREFIX}AUTH_MODE=none for local use)"
        )
    if not settings.public_base_url:
        # Taken from the request instead, `aud` would trust the Host header: a token minted for another
        # deployment could be replayed here.
        raise SettingsError(
            f"{ENV_PREFIX}PUBLIC_BASE_URL: required when {ENV_PREFIX}AUTH_MODE is jwt, to check each token's aud "
            "(the service's external base URL, e.g. https://cds.example.org)"
        )


def settings_from_env(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Return Settings read from `CDS_*` variables (and `CDS_POLICY_*`), with `overrides` on top."""
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {}
    policy_values: dict[str, str] = {}
    known = set(Settings.model_fields) - {"policy", "site"}
    for name, value in environ.items():
        if name.startswith(POLICY_PREFIX):
            policy_values[name[len(POLICY_PREFIX) :].lower()] = value
        elif name.startswith(ENV_PREFIX):
            field = name[len(ENV_PREFIX) :].lower()
            if field not in known:
                raise SettingsError(f"unknown setting {name}")
            values[field] = value
    values["policy"] = _policy(policy_values)
    values.update(overrides)
    if "site" not in overrides:
        values["site"] = _site(values.get("site_file"))
    from_file = _read_issuers_file(values)
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field, *where = [str(part) for part in first["loc"]] or ["settings"]
        if field == "trusted_issuers" and from_file:
            field = "trusted_issuers_file"
        detail = f"{'.'.join(where)}: " if where else ""
        raise SettingsError(f"{ENV_PREFIX}{field.upper()}: {detail}{first['msg']}") from None


def _read_issuers_file(values: dict[str, object]) -> bool:
    """Put the text of CDS_TRUSTED_ISSUERS_FILE in place of CDS_TRUSTED_ISSUERS; return whether there was one."""
    path = values.get("trusted_issuers_file")
    if not path:
        return False
    if values.get("trusted_issuers"):
        raise SettingsError(f"{ENV_PREFIX}TRUSTED_ISSUERS_FILE: set it or {ENV_PREFIX}TRUSTED_ISSUERS, not both")
    try:
        with open(str(path), encoding="utf-8") as file:
            values["trusted_issuers"] = file.read()
    except OSError:
        raise SettingsError(f"{ENV_PREFIX}TRUSTED_ISSUERS_FILE: cannot read {path}") from None
    return True


def _site(path: object) -> Site:
    """Return the site configuration of CDS_SITE_FILE, or the defaults without one."""
    if not path:
        return DEFAULT_SITE
    try:
        with open(str(path), encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, ValueError) as exc:
        raise SettingsError(f"{ENV_PREFIX}SITE_FILE: cannot read a JSON site file ({type(exc).__name__})") from None
    try:
        return site_from_document(document)
    except SiteError as exc:
        raise SettingsError(f"{ENV_PREFIX}SITE_FILE: {exc}") from None


def _policy(variables: dict[str, str]) -> Policy:
    """Return the policy: CDS_POLICY_PRESET, then CDS_POLICY_FILE, then single CDS_POLICY_<NAME> values."""
    preset = variables.pop("preset", None)
    path = variables.pop("file", None)
    document: object = {}
    if path:
        try:
            with open(path, encoding="utf-8") as handle:
                document = json.load(handle)
        except (OSError, ValueError) as exc:
            raise SettingsError(f"{POLICY_PREFIX}FILE: cannot read a JSON policy ({type(exc).__name__})") from None
    try:
        base = policy_from_document(document, preset)
    except PolicyError as exc:
        where = f"{POLICY_PREFIX}PRESET" if exc.parameter == "preset" and preset else f"{POLICY_PREFIX}FILE"
        raise SettingsError(f"{where}: {exc}") from None
    try:
        return policy_from_overrides(variables, base)
    except PolicyError as exc:
        raise SettingsError(f"{POLICY_PREFIX}{exc.parameter.upper()}: {exc}") from None
