"""Tests for settings_from_env: defaults, CDS_* variables, coercion, validation errors and policy overrides."""

from __future__ import annotations

import json
import os
from decimal import Decimal

import pytest
from pydantic import ValidationError

from cds_service.settings import SettingsError, settings_from_env
from hooks.policy import Policy


def test_defaults_from_an_empty_environment() -> None:
    settings = settings_from_env({})
    assert settings.host == "127.0.0.1"
    assert settings.port == 8080
    assert settings.auth_mode == "jwt"
    assert settings.database_url is None
    assert settings.public_base_url is None
    assert settings.cors_origins == "*"
    assert settings.request_deadline_seconds == 2.0
    assert settings.fhir_timeout_seconds == 1.5
    assert settings.fhir_max_pages == 10
    assert settings.log_level == "INFO"
    assert settings.policy == Policy()
    assert settings.policy.adult_low_limit_u_per_l == Decimal(35)


def test_variables_are_read_from_the_passed_environ_not_os_environ() -> None:
    before = dict(os.environ)
    environ = {
        "CDS_HOST": "0.0.0.0",
        "CDS_PORT": "9000",
        "CDS_DATABASE_URL": "sqlite:////var/lib/alp/alp.sqlite3",
        "CDS_PUBLIC_BASE_URL": "https://alp.example.org",
        "CDS_CORS_ORIGINS": "https://a.example.org,https://b.example.org",
        "CDS_LOG_LEVEL": "DEBUG",
    }
    settings = settings_from_env(environ)
    assert settings.host == "0.0.0.0"
    assert settings.port == 9000
    assert settings.database_url == "sqlite:////var/lib/alp/alp.sqlite3"
    assert settings.public_base_url == "https://alp.example.org"
    assert settings.cors_origins == "https://a.example.org,https://b.example.org"
    assert settings.log_level == "DEBUG"
    assert dict(os.environ) == before
    assert environ["CDS_PORT"] == "9000"  # the mapping is not modified either


def test_variables_without_the_cds_prefix_are_ignored() -> None:
    settings = settings_from_env({"PORT": "1234", "HOST": "example.org", "PATH": "/usr/bin", "XCDS_PORT": "1"})
    assert settings.port == 8080
    assert settings.host == "127.0.0.1"


def test_text_values_are_coerced_to_field_types() -> None:
    settings = settings_from_env(
        {
            "CDS_PORT": "8443",
            "CDS_REQUEST_DEADLINE_SECONDS": "0.75",
            "CDS_FHIR_TIMEOUT_SECONDS": "3",
            "CDS_FHIR_MAX_PAGES": "25",
            "CDS_FHIR_MAX_RESPONSE_BYTES": "4096",
            "CDS_FHIR_CONCURRENCY": "4",
            "CDS_MAX_REQUEST_BYTES": "2048",
        }
    )
    assert settings.port == 8443 and isinstance(settings.port, int)
    assert settings.request_deadline_seconds == 0.75 and isinstance(settings.request_deadline_seconds, float)
    assert settings.fhir_timeout_seconds == 3.0 and isinstance(settings.fhir_timeout_seconds, float)
    assert settings.fhir_max_pages == 25
    assert settings.fhir_max_response_bytes == 4096
    assert settings.fhir_concurrency == 4
    assert settings.max_request_bytes == 2048


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CDS_PORT", "eighty"),
        ("CDS_PORT", "0"),
        ("CDS_PORT", "65536"),
        ("CDS_PORT", "80.5"),
        ("CDS_REQUEST_DEADLINE_SECONDS", "0"),
        ("CDS_REQUEST_DEADLINE_SECONDS", "soon"),
        ("CDS_FHIR_TIMEOUT_SECONDS", "-1"),
        ("CDS_FHIR_MAX_PAGES", "0"),
        ("CDS_FHIR_MAX_RESPONSE_BYTES", "100"),
        ("CDS_FHIR_CONCURRENCY", "65"),
        ("CDS_MAX_REQUEST_BYTES", "lots"),
        ("CDS_FEEDBACK_ITEMS_PER_MINUTE", "-1"),
        ("CDS_FEEDBACK_ITEMS_PER_MINUTE", "many"),
        ("CDS_LOG_LEVEL", "VERBOSE"),
    ],
)
def test_invalid_value_raises_settings_error_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as info:
        settings_from_env({name: value})
    message = str(info.value)
    assert message.startswith(f"{name}:")


def test_settings_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="CDS_PORT"):
        settings_from_env({"CDS_PORT": "x"})


def test_unknown_cds_variable_is_rejected_by_name() -> None:
    with pytest.raises(SettingsError, match="CDS_PROT") as info:
        settings_from_env({"CDS_PROT": "9000"})
    assert "unknown" in str(info.value)


def test_auth_mode_none_is_accepted() -> None:
    assert settings_from_env({"CDS_AUTH_MODE": "none"}).auth_mode == "none"


@pytest.mark.parametrize("mode", ["JWT", "NONE", "", "basic"])
def test_other_auth_modes_are_rejected(mode: str) -> None:
    with pytest.raises(SettingsError, match="^CDS_AUTH_MODE:"):
        settings_from_env({"CDS_AUTH_MODE": mode})


def test_policy_variable_changes_the_policy() -> None:
    settings = settings_from_env({"CDS_POLICY_ADULT_LOW_LIMIT_U_PER_L": "30"})
    assert settings.policy.adult_low_limit_u_per_l == Decimal(30)
    assert settings.policy != Policy()
    # The other parameters keep their defaults.
    assert settings.policy.adult_lab_limit_cap_u_per_l == Policy().adult_lab_limit_cap_u_per_l
    assert settings.policy.min_low_results == Policy().min_low_results


def test_policy_variables_of_each_type_are_parsed() -> None:
    settings = settings_from_env(
        {
            "CDS_POLICY_MIN_LOW_RESULTS": "3",
            "CDS_POLICY_LOW_MONTH_FRACTION": "0.75",
            "CDS_POLICY_TRUSTED_STATUSES": "final, amended",
        }
    )
    assert settings.policy.min_low_results == 3
    assert settings.policy.low_month_fraction == Decimal("0.75")
    assert settings.policy.trusted_statuses == frozenset({"final", "amended"})


def test_unknown_policy_variable_is_rejected_by_name() -> None:
    with pytest.raises(SettingsError) as info:
        settings_from_env({"CDS_POLICY_ADULT_LOW_LIMIT": "30"})
    message = str(info.value)
    assert message.startswith("CDS_POLICY_ADULT_LOW_LIMIT:")
    assert "unknown" in message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CDS_POLICY_ADULT_LOW_LIMIT_U_PER_L", "thirty"),
        ("CDS_POLICY_MIN_LOW_RESULTS", "2.5"),
        ("CDS_POLICY_LOOKBACK_YEARS", "five"),
    ],
)
def test_non_numeric_policy_value_is_rejected_naming_the_parameter(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as info:
        settings_from_env({name: value})
    assert str(info.value).startswith(f"{name}:")


def test_out_of_range_policy_value_is_rejected_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match=r"^CDS_POLICY_ADULT_LOW_LIMIT_U_PER_L: .*between 1 and 200"):
        settings_from_env({"CDS_POLICY_ADULT_LOW_LIMIT_U_PER_L": "-5"})


def test_keyword_overrides_win_over_environ() -> None:
    settings = settings_from_env({"CDS_PORT": "9000", "CDS_HOST": "0.0.0.0"}, port=9100)
    assert settings.port == 9100
    assert settings.host == "0.0.0.0"  # environ still applies where nothing overrides it


def test_policy_keyword_override_wins_over_policy_variables() -> None:
    policy = Policy(min_low_results=4)
    settings = settings_from_env({"CDS_POLICY_MIN_LOW_RESULTS": "3"}, policy=policy)
    assert settings.policy is policy
    assert settings.policy.min_low_results == 4


def test_keyword_overrides_are_validated_too() -> None:
    with pytest.raises(SettingsError, match="^CDS_PORT:"):
        settings_from_env({}, port=0)
    with pytest.raises(SettingsError, match="^CDS_NO_SUCH_SETTING:"):
        settings_from_env({}, no_such_setting="x")


def test_settings_are_frozen() -> None:
    settings = settings_from_env({})
    with pytest.raises(ValidationError):
        settings.port = 1  # type: ignore[misc]


# --- trust: issuers, FHIR server allowlist, limits ------------------------------------------------------

ISSUERS = (
    '{"https://ehr.example.org": {"jwks_url": "https://ehr.example.org/jwks.json", '
    '"fhir_servers": ["https://ehr.example.org/fhir/"], "tenant": "t1"}}'
)


def test_trusted_issuers_are_read_from_json() -> None:
    settings = settings_from_env({"CDS_TRUSTED_ISSUERS": ISSUERS})
    issuer = settings.trusted_issuers["https://ehr.example.org"]
    assert (issuer.jwks_url, issuer.fhir_servers, issuer.tenant) == (
        "https://ehr.example.org/jwks.json",
        ("https://ehr.example.org/fhir",),
        "t1",
    )


def test_trusted_issuers_can_come_from_a_file(tmp_path) -> None:
    path = tmp_path / "issuers.json"
    path.write_text(ISSUERS)
    settings = settings_from_env({"CDS_TRUSTED_ISSUERS_FILE": str(path)})
    assert list(settings.trusted_issuers) == ["https://ehr.example.org"]


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"CDS_TRUSTED_ISSUERS": "{not json"}, "CDS_TRUSTED_ISSUERS"),
        ({"CDS_TRUSTED_ISSUERS": '["https://ehr.example.org"]'}, "CDS_TRUSTED_ISSUERS"),
        ({"CDS_TRUSTED_ISSUERS": '{"https://ehr.example.org": {}}'}, "CDS_TRUSTED_ISSUERS"),
        ({"CDS_TRUSTED_ISSUERS": '{"https://e": {"jwks_url": "http://e/jwks.json"}}'}, "CDS_TRUSTED_ISSUERS"),
        ({"CDS_TRUSTED_ISSUERS": '{"https://e": {"jwks_url": "ftp://e/jwks.json"}}'}, "CDS_TRUSTED_ISSUERS"),
        (
            {"CDS_TRUSTED_ISSUERS": '{"https://e": {"jwks_url": "https://e/j", "fhir_servers": ["e/fhir"]}}'},
            "CDS_TRUSTED_ISSUERS",
        ),
        ({"CDS_TRUSTED_ISSUERS": '{"https://e": {"jwks_url": "https://e/j", "typo": 1}}'}, "CDS_TRUSTED_ISSUERS"),
        ({"CDS_TRUSTED_ISSUERS_FILE": "/no/such/issuers.json"}, "CDS_TRUSTED_ISSUERS_FILE"),
        ({"CDS_TRUSTED_ISSUERS_FILE": "/x.json", "CDS_TRUSTED_ISSUERS": ISSUERS}, "CDS_TRUSTED_ISSUERS_FILE"),
        ({"CDS_ALLOWED_FHIR_SERVERS": "https://ok.example/fhir, not-a-url"}, "CDS_ALLOWED_FHIR_SERVERS"),
        ({"CDS_JWT_LEEWAY_SECONDS": "-1"}, "CDS_JWT_LEEWAY_SECONDS"),
        ({"CDS_MAX_JSON_DEPTH": "2"}, "CDS_MAX_JSON_DEPTH"),
        ({"CDS_MAX_DRAFT_ORDERS": "0"}, "CDS_MAX_DRAFT_ORDERS"),
    ],
)
def test_bad_trust_settings_name_their_variable(env, name) -> None:
    with pytest.raises(SettingsError) as info:
        settings_from_env(env)
    assert str(info.value).startswith(f"{name}:")


def test_a_bad_issuers_file_is_reported_under_the_file_variable(tmp_path) -> None:
    path = tmp_path / "issuers.json"
    path.write_text('{"https://e": {"jwks_url": "http://e.example/jwks.json"}}')
    with pytest.raises(SettingsError, match="^CDS_TRUSTED_ISSUERS_FILE: https://e.jwks_url"):
        settings_from_env({"CDS_TRUSTED_ISSUERS_FILE": str(path)})


def test_jwks_over_http_is_allowed_only_on_loopback() -> None:
    for url in ("http://127.0.0.1:8000/jwks.json", "http://localhost/jwks.json", "http://[::1]:9/jwks"):
        settings = settings_from_env({"CDS_TRUSTED_ISSUERS": f'{{"https://e": {{"jwks_url": "{url}"}}}}'})
        assert settings.trusted_issuers["https://e"].jwks_url == url


def test_allowed_fhir_servers_are_a_comma_separated_list() -> None:
    settings = settings_from_env({"CDS_ALLOWED_FHIR_SERVERS": " https://a.example/fhir/ ,http://127.0.0.1:8090/r4,"})
    assert settings.allowed_fhir_servers == ("https://a.example/fhir", "http://127.0.0.1:8090/r4")


def test_trust_defaults() -> None:
    settings = settings_from_env({})
    assert (settings.trusted_issuers, settings.allowed_fhir_servers, settings.protect_discovery) == ({}, (), False)
    assert (settings.jwt_leeway_seconds, settings.max_json_depth) == (60, 64)
    assert (settings.max_prefetch_resources, settings.max_draft_orders) == (5000, 100)


def test_jwt_mode_without_a_trusted_issuer_cannot_start() -> None:
    from cds_service.settings import require_trust

    with pytest.raises(SettingsError, match="^CDS_TRUSTED_ISSUERS: no trusted issuer"):
        require_trust(settings_from_env({}))
    require_trust(settings_from_env({"CDS_AUTH_MODE": "none"}))
    require_trust(settings_from_env({"CDS_TRUSTED_ISSUERS": ISSUERS, "CDS_PUBLIC_BASE_URL": "https://cds.example.org"}))


def test_jwt_mode_without_a_public_base_url_cannot_start() -> None:
    from cds_service.settings import require_trust

    with pytest.raises(SettingsError, match="^CDS_PUBLIC_BASE_URL: required when CDS_AUTH_MODE is jwt"):
        require_trust(settings_from_env({"CDS_TRUSTED_ISSUERS": ISSUERS}))


def write_policy(tmp_path, document) -> str:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(document))
    return str(path)


@pytest.mark.parametrize("preset, limit", [("default", 35), ("strict", 30), ("sensitive", 40)])
def test_a_preset_sets_the_adult_limit(preset: str, limit: int) -> None:
    assert settings_from_env({"CDS_POLICY_PRESET": preset}).policy.adult_low_limit_u_per_l == limit


def test_the_strict_preset_needs_every_month_low_and_no_value_above_45() -> None:
    policy = settings_from_env({"CDS_POLICY_PRESET": "strict"}).policy
    assert (policy.all_months_low, policy.max_any_alp_u_per_l) == (True, Decimal(45))


def test_an_unknown_preset_is_refused_by_name() -> None:
    with pytest.raises(SettingsError, match=r"^CDS_POLICY_PRESET: .*default, strict, sensitive"):
        settings_from_env({"CDS_POLICY_PRESET": "lenient"})


def test_a_site_policy_file_extends_a_preset_and_single_variables_win(tmp_path) -> None:
    path = write_policy(
        tmp_path,
        {
            "preset": "strict",
            "version": "site-7",
            "lookback_years": 10,
            "low_month_fraction": 0.6,
            "renal_limit_denosumab": "25",
        },
    )
    policy = settings_from_env({"CDS_POLICY_FILE": path, "CDS_POLICY_LOOKBACK_YEARS": "3"}).policy
    assert (policy.version, policy.adult_low_limit_u_per_l, policy.lookback_years) == ("site-7", 30, 3)
    assert (policy.low_month_fraction, policy.renal_limit_denosumab) == (Decimal("0.6"), Decimal(25))


@pytest.mark.parametrize(
    "document, message",
    [
        ({"adult_low_limit": 30}, "policy parameter 'adult_low_limit' is unknown"),
        ({"lookback_years": "ten"}, "policy parameter 'lookback_years' has an invalid value"),
        ({"adult_low_limit_u_per_l": -1}, "policy parameter 'adult_low_limit_u_per_l' must be between 1 and 200"),
        ({"all_months_low": "sometimes"}, "policy parameter 'all_months_low' has an invalid value"),
        ([1, 2], "must be a JSON object"),
    ],
)
def test_a_bad_policy_file_stops_start_up_naming_the_key(tmp_path, document, message: str) -> None:
    with pytest.raises(SettingsError, match=r"^CDS_POLICY_FILE: ") as info:
        settings_from_env({"CDS_POLICY_FILE": write_policy(tmp_path, document)})
    assert message in str(info.value)


def test_an_unreadable_policy_file_stops_start_up(tmp_path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    for path in (str(tmp_path / "bad.json"), str(tmp_path / "missing.json")):
        with pytest.raises(SettingsError, match=r"^CDS_POLICY_FILE: cannot read a JSON policy"):
            settings_from_env({"CDS_POLICY_FILE": path})


@pytest.mark.parametrize(
    "issuer, reason",
    [
        ({"jwks_url": "https://a.example/jwks", "jku": ["not a url"]}, "jku"),
        ({"jwks_url": "https://a.example/jwks", "subjects": []}, "subjects"),
        ({"jwks_url": "https://a.example/jwks", "subjects": [" "]}, "subjects"),
        ({"jwks_url": "https://a.example/jwks", "sub": ["x"]}, "sub"),
    ],
)
def test_bad_issuer_settings_stop_start_up_naming_the_key(issuer, reason):
    with pytest.raises(SettingsError, match=f"CDS_TRUSTED_ISSUERS: .*{reason}"):
        settings_from_env({}, trusted_issuers=json.dumps({"https://ehr.example.org": issuer}))


def test_the_feedback_rate_limit_defaults_to_600_items_a_minute_and_0_turns_it_off() -> None:
    assert settings_from_env({}).feedback_items_per_minute == 600
    assert settings_from_env({"CDS_FEEDBACK_ITEMS_PER_MINUTE": "0"}).feedback_items_per_minute == 0
