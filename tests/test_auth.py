"""JWT verification of callers: the attack matrix answered 401, valid tokens accepted, JWKS caching and replay."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from cds_service import create_app
from cds_service.auth import JwksCache
from tests.cds_checks import error_reason
from tests.conftest import full_prefetch, hook_request, load_fhir, on_both_databases
from tests.trust_helpers import (
    ISS,
    SigningKey,
    claims,
    ec_key,
    hmac_signed,
    issuers_json,
    loopback_server,
    rsa_key,
    sign,
    tampered,
    unsigned,
)

ORDER_SIGN = "/cds-services/low-alp-order-sign"
AUD = f"http://localhost{ORDER_SIGN}"
UNAUTHORIZED = "unauthorized"


@pytest.fixture(scope="module")
def keys() -> dict[str, SigningKey]:
    """Keys for the module: the published ES384 and RSA keys, and one nobody published."""
    return {
        "es": ec_key("ec-384"),
        "rs": rsa_key("rsa-1"),
        "other": ec_key("not-published"),
        "p256": ec_key("p-256", ec.SECP256R1(), "ES256"),
    }


@pytest.fixture(scope="module")
def jwks(keys) -> Iterator[Any]:
    """Serve the issuer's JWKS on loopback, and a trap where a hostile `jku` points."""
    with loopback_server() as server:
        server.json("/jwks.json", {"keys": [keys["es"].jwk, keys["rs"].jwk]})
        server.json("/evil.json", {"keys": [keys["other"].jwk]})
        yield server


@pytest.fixture
def make_app(app_config, jwks, monkeypatch) -> Iterator[Any]:
    """Return a factory of apps in jwt mode trusting the loopback issuer; apps share the test's database."""
    for name in list(__import__("os").environ):
        if name.startswith("CDS_"):
            monkeypatch.delenv(name)
    apps = []

    def make(**overrides: Any) -> Any:
        config = {
            **app_config,
            "auth_mode": "jwt",
            "trusted_issuers": issuers_json(f"{jwks.url}/jwks.json"),
            "public_base_url": "http://localhost",
        }
        apps.append(create_app({**config, **overrides}))
        return apps[-1]

    yield make
    for app in apps:
        app.extensions["alp_guard"].executor.shutdown(wait=True)


@pytest.fixture
def client(make_app) -> Any:
    """Return a test client of an app in jwt mode."""
    return make_app().test_client()


def body() -> dict:
    # No antiresorptive drafted: the answer needs no record, so these tests exercise authentication alone.
    return hook_request(
        "order-sign", prefetch=full_prefetch(), draft_orders=load_fhir("draft-orders-atorvastatin.json")
    )


def call(client, token: str | None, path: str = ORDER_SIGN, json_body: Any = None) -> Any:
    headers = {"Origin": "https://sandbox.cds-hooks.org"}
    if token is not None:
        headers["Authorization"] = token if " " in token else f"Bearer {token}"
    return client.post(path, json=body() if json_body is None else json_body, headers=headers)


def assert_unauthorized(response) -> None:
    assert response.status_code == 401
    assert error_reason(response) == UNAUTHORIZED
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


# --- accepted ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key, alg", [("es", "ES384"), ("rs", "RS384"), ("rs", "PS384"), ("rs", "RS256")])
def test_valid_tokens_are_accepted(client, keys, key, alg):
    response = call(client, sign(keys[key], claims(AUD), alg=alg))
    assert (response.status_code, response.get_json()) == (200, {"cards": []})


def test_aud_as_a_one_element_array_is_accepted(client, keys):
    assert call(client, sign(keys["es"], claims([AUD]))).status_code == 200


def test_no_sub_and_a_five_minute_lifetime_are_accepted(client, keys):
    payload = claims(AUD, lifetime=300)
    assert "sub" not in payload and payload["exp"] - payload["iat"] == 300
    assert call(client, sign(keys["es"], payload)).status_code == 200


def test_a_jku_equal_to_the_configured_jwks_url_is_honoured(client, keys, jwks):
    assert call(client, sign(keys["es"], claims(AUD), jku=f"{jwks.url}/jwks.json")).status_code == 200


def test_times_within_the_leeway_are_accepted(client, keys):
    now = int(time.time())
    assert call(client, sign(keys["es"], claims(AUD, iat=now + 30, exp=now + 300))).status_code == 200
    assert call(client, sign(keys["es"], claims(AUD, iat=now - 400, exp=now - 30))).status_code == 200


def test_aud_is_the_public_url_behind_a_proxy(make_app, keys):
    client = make_app(public_base_url="https://alp.example.org/guard/").test_client()
    assert_unauthorized(call(client, sign(keys["es"], claims(AUD))))
    public = f"https://alp.example.org/guard{ORDER_SIGN}"
    assert call(client, sign(keys["es"], claims(public))).status_code == 200


# --- the attack matrix ------------------------------------------------------------------------------------


# name: (the reason category logged, the Authorization value or bare token)
def _expired(keys):
    now = int(time.time())
    return sign(keys["es"], claims(AUD, iat=now - 600, exp=now - 120))


def _iat_in_future(keys):
    now = int(time.time())
    return sign(keys["es"], claims(AUD, iat=now + 600, exp=now + 900))


ATTACKS = {
    "missing header": ("no token", lambda keys: None),
    "empty bearer": ("malformed token", lambda keys: "Bearer "),
    "basic scheme": ("malformed token", lambda keys: "Basic dXNlcjpwYXNz"),
    "malformed token": ("malformed token", lambda keys: "not-a-jwt"),
    "garbage segments": ("malformed token", lambda keys: "eyJhbGciOi.eyJpc3Mi.c2ln"),
    "alg none": ("algorithm not allowed", lambda keys: unsigned(claims(AUD))),
    "alg none without signature dot": ("malformed token", lambda keys: unsigned(claims(AUD)).rstrip(".")),
    "HS256 with the public key PEM": (
        "algorithm not allowed",
        lambda keys: hmac_signed(claims(AUD), keys["es"].public_pem(), "ec-384"),
    ),
    "HS256 with the public JWK": (
        "algorithm not allowed",
        lambda keys: hmac_signed(claims(AUD), json.dumps(keys["es"].jwk).encode(), "ec-384"),
    ),
    "unknown kid": ("unknown key", lambda keys: sign(keys["other"], claims(AUD))),
    "no kid": ("no key id", lambda keys: sign(keys["es"], claims(AUD), kid=None)),
    "another key under a published kid": ("bad signature", lambda keys: sign(keys["other"], claims(AUD), kid="ec-384")),
    "RSA token under the EC kid": (
        "key does not fit the algorithm",
        lambda keys: sign(keys["rs"], claims(AUD), kid="ec-384"),
    ),
    "ES256 under an ES384 JWK": (
        "key does not fit the algorithm",
        lambda keys: sign(keys["p256"], claims(AUD), kid="ec-384"),
    ),
    "wrong aud (other service)": (
        "wrong audience",
        lambda keys: sign(keys["es"], claims("http://localhost/cds-services/low-alp-patient-view")),
    ),
    "wrong aud (discovery)": ("wrong audience", lambda keys: sign(keys["es"], claims("http://localhost/cds-services"))),
    "wrong aud (trailing slash)": ("wrong audience", lambda keys: sign(keys["es"], claims(AUD + "/"))),
    "wrong aud (https)": ("wrong audience", lambda keys: sign(keys["es"], claims(AUD.replace("http:", "https:")))),
    "aud array without us": ("wrong audience", lambda keys: sign(keys["es"], claims(["https://other.example/x"]))),
    "expired": ("expired token", _expired),
    "iat in the future": ("token not yet valid", _iat_in_future),
    "missing jti": ("missing claim", lambda keys: sign(keys["es"], claims(AUD, jti=None))),
    "empty jti": ("missing claim", lambda keys: sign(keys["es"], claims(AUD, jti=""))),
    "numeric jti": ("missing claim", lambda keys: sign(keys["es"], claims(AUD, jti=12345))),
    "missing exp": ("missing claim", lambda keys: sign(keys["es"], claims(AUD, exp=None))),
    "missing iat": ("missing claim", lambda keys: sign(keys["es"], claims(AUD, iat=None))),
    "missing aud": ("missing claim", lambda keys: sign(keys["es"], claims(None))),
    "missing iss": ("untrusted issuer", lambda keys: sign(keys["es"], claims(AUD, iss=None))),
    "unknown iss": ("untrusted issuer", lambda keys: sign(keys["es"], claims(AUD, iss="https://evil.example.org"))),
    "iss differing by a slash": ("untrusted issuer", lambda keys: sign(keys["es"], claims(AUD, iss=ISS + "/"))),
    "tampered payload": ("bad signature", lambda keys: tampered(sign(keys["es"], claims(AUD)), jti="fresh-jti-1")),
    "tampered iss": (
        "unknown key",
        lambda keys: tampered(sign(keys["other"], claims(AUD, iss="https://evil.example.org")), iss=ISS),
    ),
    "lifetime of a year": ("lifetime too long", lambda keys: sign(keys["es"], claims(AUD, lifetime=365 * 86400))),
}


@pytest.mark.parametrize("attack", ATTACKS, ids=list(ATTACKS))
def test_attacks_are_401_without_detail(client, keys, attack, caplog):
    caplog.set_level("INFO", logger="alp_guard")
    reason, make_token = ATTACKS[attack]
    token = make_token(keys)
    response = call(client, token)
    assert_unauthorized(response)
    # Refused by the check meant for it; the category is logged, never shown.
    assert [r.fields["reason"] for r in caplog.records if r.getMessage() == "unauthorized"] == [reason]
    if token:
        assert token.split()[-1] not in caplog.text


def test_a_jku_elsewhere_is_401_and_never_fetched(client, keys, jwks):
    before = jwks.count("/evil.json")
    # Signed by the key the attacker's JWKS publishes, under a kid the trusted JWKS lacks.
    response = call(client, sign(keys["other"], claims(AUD), jku=f"{jwks.url}/evil.json"))
    assert_unauthorized(response)
    response = call(client, sign(keys["es"], claims(AUD), jku=f"{jwks.url}/evil.json"))
    assert_unauthorized(response)
    assert jwks.count("/evil.json") == before


@on_both_databases  # jti_seen is shared through the database
def test_a_replayed_jti_is_401(client, keys):
    token = sign(keys["es"], claims(AUD))
    assert call(client, token).status_code == 200
    assert_unauthorized(call(client, token))
    # A new token reusing the jti is a replay too.
    first = claims(AUD)
    assert call(client, sign(keys["es"], first)).status_code == 200
    assert_unauthorized(call(client, sign(keys["es"], {**first, "exp": first["exp"] + 10})))


@on_both_databases  # jti_seen is shared through the database
def test_a_replay_is_caught_by_another_app_instance_on_the_same_database(make_app, keys):
    first, second = make_app().test_client(), make_app().test_client()
    token = sign(keys["es"], claims(AUD))
    assert call(first, token).status_code == 200
    assert_unauthorized(call(second, token))


@on_both_databases  # jti_seen is shared through the database
def test_the_same_jti_from_another_issuer_is_not_a_replay(make_app, keys, jwks):
    both = json.dumps(
        {
            ISS: {"jwks_url": f"{jwks.url}/jwks.json"},
            "https://other-ehr.example.org": {"jwks_url": f"{jwks.url}/jwks.json"},
        }
    )
    client = make_app(trusted_issuers=both).test_client()
    payload = claims(AUD)
    assert call(client, sign(keys["es"], payload)).status_code == 200
    assert call(client, sign(keys["es"], {**payload, "iss": "https://other-ehr.example.org"})).status_code == 200


@on_both_databases  # jti_seen is shared through the database
def test_a_rejected_token_does_not_burn_its_jti(client, keys):
    payload = claims(AUD)
    assert_unauthorized(call(client, tampered(sign(keys["es"], payload), aud="x")))
    assert call(client, sign(keys["es"], payload)).status_code == 200


@on_both_databases  # jti_seen is shared through the database
def test_expired_jtis_are_purged(make_app, keys):
    app = make_app()
    now = int(time.time())
    assert call(app.test_client(), sign(keys["es"], claims(AUD, iat=now - 200, exp=now - 50))).status_code == 200
    assert call(app.test_client(), sign(keys["es"], claims(AUD))).status_code == 200
    with app.extensions["alp_guard"].store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM jti_seen").scalar() == 2
    # Past exp + leeway the first row goes at the next insert.
    verifier = app.extensions["alp_guard.auth"]
    verifier._now = lambda: time.time() + 20
    assert call(app.test_client(), sign(keys["es"], claims(AUD))).status_code == 200
    with app.extensions["alp_guard"].store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM jti_seen").scalar() == 2


def test_the_tenant_is_checked_when_the_issuer_has_one(make_app, keys, jwks):
    client = make_app(trusted_issuers=issuers_json(f"{jwks.url}/jwks.json", tenant="hospital-a")).test_client()
    assert_unauthorized(call(client, sign(keys["es"], claims(AUD))))
    assert_unauthorized(call(client, sign(keys["es"], claims(AUD, tenant="hospital-b"))))
    assert call(client, sign(keys["es"], claims(AUD, tenant="hospital-a"))).status_code == 200


# --- which endpoints need a token -------------------------------------------------------------------------


@on_both_databases  # the feedback is stored, and its jti recorded
def test_feedback_needs_a_token_for_its_own_url(client, keys):
    path = f"{ORDER_SIGN}/feedback"
    feedback = {"feedback": [{"card": "c1", "outcome": "overridden", "outcomeTimestamp": "2026-11-24T12:01:00Z"}]}
    assert_unauthorized(call(client, None, path, feedback))
    assert_unauthorized(call(client, sign(keys["es"], claims(AUD)), path, feedback))
    response = call(client, sign(keys["es"], claims(f"http://localhost{path}")), path, feedback)
    # Accepted; the card is no card this service issued, so the item is ignored (tests/test_api.py).
    assert (response.status_code, response.get_json()) == (200, {"received": 1, "stored": 0, "ignored": 1})


def test_an_unknown_service_is_401_before_404(client):
    assert_unauthorized(call(client, None, "/cds-services/no-such-service"))


def test_discovery_and_health_stay_public_by_default(client):
    assert client.get("/cds-services").status_code == 200
    assert client.get("/healthz").status_code == 200


def test_discovery_can_be_protected(make_app, keys):
    client = make_app(protect_discovery=True).test_client()
    response = client.get("/cds-services")
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"
    token = sign(keys["es"], claims("http://localhost/cds-services"))
    response = client.get("/cds-services", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-cache"  # never kept by a shared cache
    # A 304 needs a valid token too: the tag is not served to an unauthenticated caller.
    assert client.get("/cds-services", headers={"If-None-Match": response.headers["ETag"]}).status_code == 401


def test_preflight_needs_no_token(client):
    response = client.options(
        ORDER_SIGN,
        headers={
            "Origin": "https://sandbox.cds-hooks.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()


def test_the_body_of_an_unauthenticated_request_is_not_read(client):
    response = client.post(ORDER_SIGN, data=b"{not json", content_type="application/json")
    assert_unauthorized(response)


def test_none_mode_needs_no_token_and_warns_at_start_up(app_config, caplog):
    caplog.set_level("WARNING", logger="alp_guard")
    app = create_app({**app_config, "auth_mode": "none"})
    try:
        assert call(app.test_client(), None).status_code == 200
    finally:
        app.extensions["alp_guard"].executor.shutdown(wait=True)
    assert any(r.levelname == "WARNING" and "AUTHENTICATION IS OFF" in r.getMessage() for r in caplog.records)


def test_jwt_mode_without_issuers_refuses_to_start(app_config):
    from cds_service.settings import SettingsError

    with pytest.raises(SettingsError, match="CDS_TRUSTED_ISSUERS"):
        create_app({**app_config, "auth_mode": "jwt"})


# --- the JWKS: fetched once, refreshed at most once a minute ----------------------------------------------


def test_the_jwks_is_fetched_once_for_many_calls(keys):
    with loopback_server() as server:
        server.json("/jwks.json", {"keys": [keys["es"].jwk]})
        cache = JwksCache()
        for _ in range(5):
            assert cache.key(f"{server.url}/jwks.json", "ec-384")["kid"] == "ec-384"
        assert server.count("/jwks.json") == 1


def test_unknown_kids_refetch_at_most_once_a_minute_per_issuer(make_app, keys, jwks):
    client = make_app().test_client()
    assert call(client, sign(keys["es"], claims(AUD))).status_code == 200
    before = jwks.count("/jwks.json")
    for _ in range(3):
        assert_unauthorized(call(client, sign(keys["other"], claims(AUD))))
    assert jwks.count("/jwks.json") - before <= 1


class FakeJwks:
    """A JWKS source whose keys and availability the test controls."""

    def __init__(self, *kids: str) -> None:
        self.kids, self.calls, self.fail = list(kids), 0, False

    def __call__(self, url: str) -> dict:
        self.calls += 1
        if self.fail:
            raise ValueError("down")
        return {"keys": [{"kty": "EC", "kid": k} for k in self.kids]}


def test_a_rotated_key_is_found_after_the_refresh_interval():
    source, now = FakeJwks("k1"), [1000.0]
    cache = JwksCache(source, clock=lambda: now[0])
    assert cache.key("u", "k1") and source.calls == 1
    source.kids.append("k2")
    now[0] += 30
    assert cache.key("u", "k2") is None and source.calls == 1  # within a minute of the last fetch: no fetch
    now[0] += 31
    assert cache.key("u", "k2") is not None and source.calls == 2
    assert cache.key("u", "k3") is None and source.calls == 2
    now[0] += 61
    assert cache.key("u", "k3") is None and source.calls == 3


def test_a_stale_set_is_refreshed_and_kept_when_the_refresh_fails():
    source, now = FakeJwks("k1"), [1000.0]
    cache = JwksCache(source, clock=lambda: now[0], max_age_seconds=300)
    assert cache.key("u", "k1") and source.calls == 1
    now[0] += 301
    source.fail = True
    assert cache.key("u", "k1") is not None and source.calls == 2
    assert cache.key("u", "k1") is not None and source.calls == 2


def test_a_removed_key_stops_working_after_the_refresh():
    source, now = FakeJwks("k1", "k2"), [1000.0]
    cache = JwksCache(source, clock=lambda: now[0], max_age_seconds=300)
    assert cache.key("u", "k2")
    source.kids = ["k1"]
    now[0] += 301
    assert cache.key("u", "k2") is None


def test_concurrent_misses_cause_one_fetch():
    calls = []

    def slow_fetch(url: str) -> dict:
        calls.append(url)
        time.sleep(0.05)
        return {"keys": [{"kty": "EC", "kid": "k1"}]}

    cache = JwksCache(slow_fetch)
    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.key("u", "nope"))) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and results == [None] * 10


def test_jwks_entries_that_cannot_be_signature_keys_are_ignored():
    cache = JwksCache(
        lambda url: {
            "keys": [
                {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
                {"kty": "EC", "kid": "enc", "use": "enc"},
                {"kty": "EC"},
                "junk",
                {"kty": "RSA", "kid": "ok"},
            ]
        }
    )
    assert [cache.key("u", kid) for kid in ("hmac", "enc")] == [None, None]
    assert cache.key("u", "ok") is not None


def test_an_oct_key_in_the_jwks_cannot_enable_hmac(make_app, tmp_path: Path):
    secret = b"shared-secret-0123456789abcdef01"
    import base64

    jwk = {"kty": "oct", "kid": "hmac", "k": base64.urlsafe_b64encode(secret).rstrip(b"=").decode()}
    with loopback_server() as server:
        server.json("/jwks.json", {"keys": [jwk]})
        client = make_app(trusted_issuers=issuers_json(f"{server.url}/jwks.json")).test_client()
        assert_unauthorized(call(client, hmac_signed(claims(AUD), secret, "hmac")))


# --- identity and keys as EHRs send them ------------------------------------------------------------------

SANDBOX = "https://sandbox.cds-hooks.org"
SANDBOX_JKU = "https://sandbox.cds-hooks.org/.well-known/jwks.json"


def sandbox_token(key, **extra) -> str:
    """Return a token shaped as the CDS Hooks Sandbox signs it: ES384, its public jku, no sub, no tenant."""
    return sign(key, claims(AUD, iss=SANDBOX, **extra), jku=SANDBOX_JKU)


def test_a_mirrored_jwks_accepts_the_sandbox_jku_and_fetches_only_the_mirror(make_app, keys, jwks):
    mirror = json.dumps({SANDBOX: {"jwks_url": f"{jwks.url}/jwks.json", "jku": [SANDBOX_JKU]}})
    client = make_app(trusted_issuers=mirror).test_client()
    before = jwks.count("/jwks.json")
    assert call(client, sandbox_token(keys["es"])).status_code == 200
    assert jwks.count("/jwks.json") == before + 1  # the keys came from the mirror; the jku was only compared
    assert_unauthorized(call(client, sign(keys["es"], claims(AUD, iss=SANDBOX), jku=f"{jwks.url}/evil.json")))


def test_without_a_jku_list_only_the_jwks_url_is_accepted_as_jku(make_app, keys, jwks):
    client = make_app(trusted_issuers=issuers_json(f"{jwks.url}/jwks.json", iss=SANDBOX)).test_client()
    assert_unauthorized(call(client, sandbox_token(keys["es"])))
    assert call(client, sign(keys["es"], claims(AUD, iss=SANDBOX), jku=f"{jwks.url}/jwks.json")).status_code == 200


def test_several_published_jku_urls_are_each_accepted(make_app, keys, jwks):
    urls = ["https://ehr.example.org/jwks/1", "https://ehr.example.org/jwks/2"]
    client = make_app(trusted_issuers=issuers_json(f"{jwks.url}/jwks.json", jku=urls)).test_client()
    for url in urls:
        assert call(client, sign(keys["rs"], claims(AUD), jku=url)).status_code == 200
    assert call(client, sign(keys["rs"], claims(AUD))).status_code == 200  # no jku: the configured keys
    assert_unauthorized(call(client, sign(keys["rs"], claims(AUD), jku="https://ehr.example.org/jwks/3")))


def test_the_sub_allow_list_is_enforced_when_configured(make_app, keys, jwks):
    client = make_app(trusted_issuers=issuers_json(f"{jwks.url}/jwks.json", subjects=["epic-client-1"])).test_client()
    assert call(client, sign(keys["rs"], claims(AUD, sub="epic-client-1"))).status_code == 200
    assert_unauthorized(call(client, sign(keys["rs"], claims(AUD, sub="someone-else"))))
    assert_unauthorized(call(client, sign(keys["rs"], claims(AUD))))  # a sub is then required


def test_nbf_is_honoured_with_the_leeway(client, keys):
    now = int(time.time())
    # Epic sets nbf about five minutes before iat.
    assert call(client, sign(keys["rs"], claims(AUD, nbf=now - 300))).status_code == 200
    assert call(client, sign(keys["rs"], claims(AUD, nbf=now + 30))).status_code == 200  # within 60 s of skew
    assert_unauthorized(call(client, sign(keys["rs"], claims(AUD, nbf=now + 600, exp=now + 900))))


def test_an_epic_style_rs384_token_is_accepted(make_app, keys, jwks):
    fhir = "https://fhir.hospital.example.org/api/FHIR/R4"
    epic = json.dumps(
        {
            fhir: {
                "jwks_url": f"{jwks.url}/jwks.json",
                "jku": ["https://fhir.hospital.example.org/jwks"],
                "subjects": ["a1b2c3-client"],
                "fhir_servers": [fhir],
            }
        }
    )
    client = make_app(trusted_issuers=epic).test_client()
    now = int(time.time())
    token = sign(
        keys["rs"],
        claims(AUD, iss=fhir, sub="a1b2c3-client", nbf=now - 300),
        jku="https://fhir.hospital.example.org/jwks",
    )
    assert jwt_header(token)["alg"] == "RS384"
    assert call(client, token).status_code == 200


def jwt_header(token: str) -> dict:
    import jwt

    return jwt.get_unverified_header(token)
