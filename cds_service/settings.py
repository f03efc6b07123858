"""Configuration from `CDS_`-prefixed environment variables, validated at start-up."""

from __future__ import annotations

import dataclasses
import os
from typing import Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hooks.policy import Policy, PolicyError, policy_from_overrides

ENV_PREFIX = "CDS_"
POLICY_PREFIX = "CDS_POLICY_"


class Settings(BaseModel):
    """Every setting of the service; each field `x` is read from the variable `CDS_X`."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    # Default: a SQLite file in the Flask instance folder (resolved by the app factory).
    database_url: str | None = None
    auth_mode: Literal["none"] = "none"
    public_base_url: str | None = None
    cors_origins: str = "*"  # "*" or a comma-separated list of origins
    request_deadline_seconds: float = Field(2.0, gt=0, le=60)
    fhir_timeout_seconds: float = Field(1.5, gt=0, le=60)
    fhir_max_pages: int = Field(10, ge=1, le=1000)
    fhir_max_response_bytes: int = Field(20_000_000, ge=1024)
    fhir_concurrency: int = Field(8, ge=1, le=64)
    max_request_bytes: int = Field(5_000_000, ge=1024)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    policy: Policy = Policy()


class SettingsError(ValueError):
    """A configuration value is missing or wrong; the message names the variable."""


def settings_from_env(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Return Settings read from `CDS_*` variables (and `CDS_POLICY_*`), with `overrides` on top."""
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {}
    policy_values: dict[str, str] = {}
    known = set(Settings.model_fields) - {"policy"}
    for name, value in environ.items():
        if name.startswith(POLICY_PREFIX):
            policy_values[name[len(POLICY_PREFIX):].lower()] = value
        elif name.startswith(ENV_PREFIX):
            field = name[len(ENV_PREFIX):].lower()
            if field not in known:
                raise SettingsError(f"unknown setting {name}")
            values[field] = value
    try:
        values["policy"] = policy_from_overrides(policy_values)
    except PolicyError as exc:
        raise SettingsError(f"{POLICY_PREFIX}{exc.parameter.upper()}: {exc}") from None
    values.update(overrides)
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise SettingsError(f"{ENV_PREFIX}{field.upper()}: {first['msg']}") from None


def policy_parameters() -> list[str]:
    """Return the names of the policy parameters, for documentation and errors."""
    return [f.name for f in dataclasses.fields(Policy)]
