"""Verify a CDS client's JWT (CDS Hooks 2.0 "Trusting CDS Clients"): trusted issuer, its key, audience, time, replay."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jwt
import requests

from cds_service.logs import get_logger
from cds_service.network import GuardedAdapter
from cds_service.settings import TrustedIssuer
from cds_service.store import Store

# Asymmetric only: the spec forbids `none` and every symmetric (HMAC) algorithm.
ALGORITHMS = ("ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
_KEY_TYPES = {"ES": "EC", "RS": "RSA", "PS": "RSA"}
_REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "jti"]
_MAX_TOKEN_CHARS = 16_384
_MAX_JTI_CHARS = 255
_JWKS_MAX_BYTES = 1_000_000
# The spec sets no maximum lifetime; a day bounds how long a jti must be remembered (clients use minutes).
_MAX_LIFETIME_SECONDS = 86_400

log = get_logger("auth")


class Unauthorized(Exception):
    """The caller is not authenticated; the reason is a fixed category for the log, never shown to the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Caller:
    """A verified caller: its issuer and that issuer's settings."""

    iss: str
    issuer: TrustedIssuer
    tenant: str | None = None


@dataclass
class _KeySet:
    """One issuer's keys as last fetched, by kid."""

    keys: dict[str, dict] = field(default_factory=dict)
    fetched_at: float | None = None
    attempted_at: float | None = None


class JwksCache:
    """Each trusted issuer's JWK Set: fetched on demand, kept a while, re-fetched at most once a minute."""

    def __init__(
        self,
        fetch: Callable[[str], Mapping[str, Any]] | None = None,
        *,
        min_refresh_seconds: float = 60.0,
        max_age_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch or fetch_jwks
        self._min_refresh = min_refresh_seconds
        self._max_age = max_age_seconds
        self._clock = clock
        self._sets: dict[str, _KeySet] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def key(self, jwks_url: str, kid: str) -> dict | None:
        """Return the JWK with this kid from the set at jwks_url, fetching the set when it is stale or lacks the kid."""
        entry = self._sets.get(jwks_url)
        if entry is not None and kid in entry.keys and not self._stale(entry):
            return entry.keys[kid]
        with self._lock(jwks_url):
            entry = self._sets.setdefault(jwks_url, _KeySet())
            if (kid not in entry.keys or self._stale(entry)) and self._may_fetch(entry):
                self._refresh(jwks_url, entry)
            # A stale set still serves when a refresh failed: an outage of the JWKS host does not lock callers out.
            return entry.keys.get(kid)

    def _stale(self, entry: _KeySet) -> bool:
        """Tell whether a set is older than its maximum age."""
        return entry.fetched_at is None or self._clock() - entry.fetched_at >= self._max_age

    def _may_fetch(self, entry: _KeySet) -> bool:
        """Tell whether the last attempt is long enough ago to try again."""
        return entry.attempted_at is None or self._clock() - entry.attempted_at >= self._min_refresh

    def _refresh(self, jwks_url: str, entry: _KeySet) -> None:
        """Fetch the set and replace the keys; keep the old keys when the fetch fails."""
        entry.attempted_at = self._clock()
        try:
            document = self._fetch(jwks_url)
        except (requests.RequestException, ValueError):
            log.warning("jwks fetch failed", extra={"fields": {"jwks_url": jwks_url}})
            return
        entry.keys = _keys_by_kid(document)
        entry.fetched_at = entry.attempted_at

    def _lock(self, jwks_url: str) -> threading.Lock:
        """Return the lock of one JWKS URL, so one unknown kid causes one fetch however many threads ask."""
        with self._guard:
            return self._locks.setdefault(jwks_url, threading.Lock())


_jwks_session = threading.local()


def fetch_jwks(url: str) -> Mapping[str, Any]:
    """GET a JWK Set with timeouts, no redirects and a size cap; raise ValueError or RequestException on failure."""
    session = getattr(_jwks_session, "session", None)
    if session is None:
        session = _jwks_session.session = requests.Session()
        session.mount("https://", GuardedAdapter(max_retries=0))
        session.mount("http://", GuardedAdapter(max_retries=0))
    with session.get(
        url, timeout=(2.0, 3.0), allow_redirects=False, stream=True, headers={"Accept": "application/json"}
    ) as response:
        if response.status_code != 200:
            raise ValueError("JWKS fetch failed")
        body = response.raw.read(_JWKS_MAX_BYTES + 1, decode_content=True)
    if len(body) > _JWKS_MAX_BYTES:
        raise ValueError("JWKS too large")
    document = json.loads(body)
    if not isinstance(document, dict):
        raise ValueError("JWKS is not an object")
    return document


def _keys_by_kid(document: Mapping[str, Any]) -> dict[str, dict]:
    """Return the signature keys of a JWK Set by kid, skipping what cannot be one."""
    keys = document.get("keys")
    if not isinstance(keys, list):
        return {}
    return {
        k["kid"]: k
        for k in keys
        if isinstance(k, dict)
        and isinstance(k.get("kid"), str)
        and k.get("kty") in ("EC", "RSA")
        and k.get("use", "sig") == "sig"
    }


class Verifier:
    """Check an `Authorization: Bearer <JWT>` header against the trusted issuers and record its jti."""

    def __init__(
        self,
        issuers: Mapping[str, TrustedIssuer],
        store: Store,
        *,
        leeway_seconds: int = 60,
        jwks: JwksCache | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.issuers = dict(issuers)
        self.store = store
        self.leeway = leeway_seconds
        self.jwks = jwks or JwksCache()
        self._now = now

    def verify(self, authorization: str | None, audience: str) -> Caller:
        """Return the verified caller, or raise Unauthorized with a reason category."""
        token = _bearer_token(authorization)
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise Unauthorized("malformed token") from None
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ALGORITHMS:
            raise Unauthorized("algorithm not allowed")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("no key id")
        iss = unverified.get("iss")
        issuer = self.issuers.get(iss) if isinstance(iss, str) else None
        if issuer is None or not isinstance(iss, str):
            raise Unauthorized("untrusted issuer")
        # A jku is only compared with the issuer's list, never fetched: keys come from the configured jwks_url, so a
        # token can choose neither the key nor where we connect (a local mirror may stand for the URL it names).
        if "jku" in header and header["jku"] not in issuer.accepted_jku:
            raise Unauthorized("untrusted jku")
        claims = self._decode(token, alg, kid, iss, issuer, audience)
        if issuer.tenant is not None and claims.get("tenant") != issuer.tenant:
            raise Unauthorized("wrong tenant")
        if issuer.subjects is not None and claims.get("sub") not in issuer.subjects:
            raise Unauthorized("subject not allowed")
        now = self._now()
        if int(claims["exp"]) > now + _MAX_LIFETIME_SECONDS:
            raise Unauthorized("lifetime too long")
        expires_at = datetime.fromtimestamp(int(claims["exp"]) + self.leeway, UTC)
        if not self.store.remember_jti(iss, claims["jti"], expires_at, datetime.fromtimestamp(now, UTC)):
            raise Unauthorized("replayed token")
        tenant = claims.get("tenant")
        return Caller(iss, issuer, tenant if isinstance(tenant, str) else None)

    def _decode(self, token: str, alg: str, kid: str, iss: str, issuer: TrustedIssuer, audience: str) -> dict:
        """Verify the signature with the issuer's key for kid, then the registered claims."""
        jwk = self.jwks.key(issuer.jwks_url, kid)
        if jwk is None:
            raise Unauthorized("unknown key")
        if jwk.get("alg", alg) != alg or jwk.get("kty") != _KEY_TYPES[alg[:2]]:
            raise Unauthorized("key does not fit the algorithm")
        try:
            key = jwt.PyJWK(jwk, algorithm=alg)
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=audience,
                issuer=iss,
                leeway=self.leeway,
                # nbf, when sent (Epic sends it), is honoured with the same leeway as exp and iat.
                options={
                    "require": _REQUIRED_CLAIMS,
                    "verify_iat": True,
                    "verify_nbf": True,
                    "verify_sub": False,
                    "verify_jti": False,
                },
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("expired token") from None
        except jwt.ImmatureSignatureError:
            raise Unauthorized("token not yet valid") from None
        except jwt.InvalidAudienceError:
            raise Unauthorized("wrong audience") from None
        except jwt.MissingRequiredClaimError:
            raise Unauthorized("missing claim") from None
        except jwt.InvalidSignatureError:
            raise Unauthorized("bad signature") from None
        except jwt.PyJWTError:
            raise Unauthorized("invalid token") from None
        jti = claims["jti"]
        if not isinstance(jti, str) or not jti or len(jti) > _MAX_JTI_CHARS:
            raise Unauthorized("missing claim")
        return claims


def _bearer_token(authorization: str | None) -> str:
    """Return the token of a Bearer Authorization header, or raise Unauthorized."""
    if not authorization:
        raise Unauthorized("no token")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > _MAX_TOKEN_CHARS:
        raise Unauthorized("malformed token")
    return token
