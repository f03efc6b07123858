"""SSRF: blocked addresses are never connected to (DNS answers vetted and pinned); only allowed fhirServers are used."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import responses

from cds_service import create_app, network
from cds_service.auth import JwksCache
from cds_service.fhir_client import FhirClient, FhirError
from cds_service.network import is_blocked, is_listed, is_loopback_url, normalize_base_url
from cds_service.services import SERVICES_BY_ID
from tests.cds_checks import error_reason
from tests.conftest import FHIR_SERVER, full_prefetch, hook_request, load_fhir
from tests.trust_helpers import claims, ec_key, issuers_json, loopback_server, sign

ORDER_SIGN = "/cds-services/low-alp-order-sign"
AUD = f"http://localhost{ORDER_SIGN}"
REAL_GETADDRINFO = socket.getaddrinfo


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",
        "169.254.0.1",
        "fe80::1",
        "fe80::1%eth0",
        "fd00:ec2::254",
        "100.100.100.200",
        "168.63.129.16",
        "192.0.0.192",
        "::ffff:169.254.169.254",
        "64:ff9b::a9fe:a9fe",
        "2002:a9fe:a9fe::1",
        "0.0.0.0",
        "::",
        "0.1.2.3",
        "224.0.0.1",
        "ff02::1",
        "240.0.0.1",
    ],
)
def test_link_local_metadata_and_unroutable_addresses_are_blocked(address):
    assert is_blocked(address)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "::1",
        "::ffff:127.0.0.1",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.20",
        "100.64.0.1",
        "93.184.216.34",
        "2001:db8::10",
    ],
)
def test_loopback_private_and_public_addresses_are_not_blocked(address):
    # Hospital FHIR servers live on private networks: the allowlists, not the address check, govern those.
    assert not is_blocked(address)


def test_base_urls_are_compared_normalised():
    assert normalize_base_url("HTTPS://EHR.example.org/fhir/") == "https://ehr.example.org:443/fhir"
    assert is_listed("https://ehr.example.org:443/fhir", ["https://ehr.example.org/fhir/"])
    assert not is_listed("https://ehr.example.org/fhir2", ["https://ehr.example.org/fhir"])
    assert not is_listed("https://ehr.example.org.evil.example/fhir", ["https://ehr.example.org/fhir"])
    assert not is_listed("http://ehr.example.org/fhir", ["https://ehr.example.org/fhir"])
    assert not is_listed("https://user:pw@ehr.example.org/fhir", ["https://ehr.example.org/fhir"])
    assert not is_listed("https://ehr.example.org:99999/fhir", ["https://ehr.example.org/fhir"])
    assert (
        is_loopback_url("http://127.0.0.1:9/x")
        and is_loopback_url("http://localhost/")
        and not is_loopback_url("http://10.0.0.1/")
    )


# --- the FHIR client against real sockets on loopback -----------------------------------------------------

BUNDLE = {"resourceType": "Bundle", "type": "searchset", "entry": []}


@pytest.fixture
def fhir() -> Iterator[Any]:
    """Serve an empty searchset on loopback."""
    with loopback_server() as server:
        server.json("/fhir/Observation", BUNDLE)
        yield server


def search(base: str, client: FhirClient | None = None) -> list[dict]:
    found = (client or FhirClient()).search(base, "Observation?patient=p1", token="t", deadline=time.monotonic() + 2)
    return found.matches


def fake_dns(monkeypatch, answers: dict[str, list[str]], lookups: list[str] | None = None) -> None:
    """Resolve the given names to the given addresses; everything else (IP literals) as usual."""

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            if lookups is not None:
                lookups.append(host)
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in answers[host]
            ]
        return REAL_GETADDRINFO(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def connects(monkeypatch) -> list[tuple]:
    """Record every address the client connects to, refusing any blocked one outright."""
    seen: list[tuple] = []
    real = network.connection.create_connection

    def create_connection(address, *args, **kwargs):
        seen.append(address)
        assert not is_blocked(address[0]), "connected to a blocked address"
        return real(address, *args, **kwargs)

    monkeypatch.setattr(network.connection, "create_connection", create_connection)
    return seen


def test_a_loopback_fhir_server_is_reached(fhir, connects):
    assert search(f"{fhir.url}/fhir") == []
    assert fhir.requests[0][1]["Authorization"] == "Bearer t"
    assert connects == [("127.0.0.1", int(fhir.url.rsplit(":", 1)[1]))]


@pytest.mark.parametrize(
    "answer",
    [
        ["169.254.169.254"],
        ["fd00:ec2::254"],
        ["fe80::1"],
        ["100.100.100.200"],
        ["127.0.0.1", "169.254.169.254"],
        ["::ffff:169.254.169.254"],
    ],
)
def test_a_name_resolving_to_a_blocked_address_is_never_contacted(monkeypatch, connects, answer):
    fake_dns(monkeypatch, {"metadata.test": answer})
    with pytest.raises(FhirError, match="^FHIR server address not allowed$"):
        search("http://metadata.test/fhir")
    assert connects == []


@pytest.mark.parametrize(
    "base",
    [
        "http://169.254.169.254/latest",
        "https://169.254.169.254/latest",
        "http://[fd00:ec2::254]/latest",
        "http://[fe80::1]:8080/fhir",
        "http://0.0.0.0:8080/fhir",
    ],
)
def test_a_blocked_ip_literal_is_never_contacted(connects, base):
    with pytest.raises(FhirError, match="^FHIR server address not allowed$"):
        search(base)
    assert connects == []


def test_the_vetted_address_is_the_one_connected_to_so_dns_rebinding_cannot_slip_in(monkeypatch, fhir, connects):
    # A rebinding resolver answers loopback to the check and the metadata address to any later lookup.
    lookups: list[str] = []
    answers = iter([["127.0.0.1"]] + [["169.254.169.254"]] * 10)

    def getaddrinfo(host, port, *args, **kwargs):
        if host == "rebind.test":
            lookups.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in next(answers)]
        return REAL_GETADDRINFO(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    port = fhir.url.rsplit(":", 1)[1]
    assert search(f"http://rebind.test:{port}/fhir") == []
    assert lookups == ["rebind.test"]  # one answer, both vetted and used
    assert connects == [("127.0.0.1", int(port))]  # the literal address: no second resolution
    assert fhir.requests[0][1]["Host"] == f"rebind.test:{port}"


def test_a_proxy_from_the_environment_is_not_used(monkeypatch, fhir):
    with loopback_server() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("ALL_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "")
        assert search(f"{fhir.url}/fhir") == []
        assert proxy.count() == 0 and fhir.count() == 1


def test_cookies_set_by_a_fhir_server_are_not_sent_on_later_calls(fhir):
    body = b'{"resourceType": "Bundle", "type": "searchset"}'
    fhir.routes["/fhir/Observation"] = lambda _r: (200, {"Set-Cookie": "session=abc; Path=/"}, body)
    client = FhirClient()
    search(f"{fhir.url}/fhir", client)
    search(f"{fhir.url}/fhir", client)
    assert [h.get("Cookie") for _, h in fhir.requests] == [None, None]


def test_a_redirect_to_the_metadata_service_is_not_followed(fhir):
    fhir.routes["/fhir/Observation"] = lambda _r: (302, {"Location": "http://169.254.169.254/latest/meta-data"}, b"")
    with pytest.raises(FhirError, match="redirected"):
        search(f"{fhir.url}/fhir")


def test_the_jwks_is_not_fetched_from_a_blocked_address(monkeypatch, connects):
    fake_dns(monkeypatch, {"keys.test": ["169.254.169.254"]})
    assert JwksCache().key("https://keys.test/jwks.json", "k1") is None
    assert connects == []


# --- which fhirServer a hook call may use -----------------------------------------------------------------

OTHER_SERVER = "https://elsewhere.example.org/fhir"


@pytest.fixture(scope="module")
def key() -> Any:
    return ec_key("ec-384")


@pytest.fixture(scope="module")
def jwks(key) -> Iterator[Any]:
    with loopback_server() as server:
        server.json("/jwks.json", {"keys": [key.jwk]})
        yield server


@pytest.fixture
def make_client(app_config, jwks, monkeypatch) -> Iterator[Any]:
    """Return a factory of test clients in jwt mode; the issuer may name FHIR servers."""
    for name in list(__import__("os").environ):
        if name.startswith("CDS_"):
            monkeypatch.delenv(name)
    apps = []

    def make(issuer_servers: tuple[str, ...] = (), **overrides: Any) -> Any:
        issuers = issuers_json(f"{jwks.url}/jwks.json", fhir_servers=list(issuer_servers))
        apps.append(
            create_app(
                {
                    **app_config,
                    "auth_mode": "jwt",
                    "trusted_issuers": issuers,
                    "public_base_url": "http://localhost",
                    **overrides,
                }
            )
        )
        return apps[-1].test_client()

    yield make
    for app in apps:
        app.extensions["alp_guard"].executor.shutdown(wait=True)


def order_sign(client, key, server: str, prefetch: dict | None, token: str | None = "access-token") -> Any:
    body = hook_request(
        "order-sign",
        prefetch=prefetch,
        draft_orders=load_fhir("draft-orders-sandbox-alendronate.json"),
        fhir_server=server,
        token=token,
    )
    headers = {"Authorization": f"Bearer {sign(key, claims(AUD))}"} if key else {}
    return client.post(ORDER_SIGN, json=body, headers=headers)


def fhir_mock(**kwargs: Any) -> responses.RequestsMock:
    """Mock the FHIR servers; the JWKS on loopback stays real."""
    mock = responses.RequestsMock(**kwargs)
    mock.add_passthru("http://127.0.0.1")
    return mock


def complete_prefetch() -> dict:
    """Return a prefetch with every key the service declares (empty results for keys the fixtures lack)."""
    empty = {"resourceType": "Bundle", "type": "searchset"}
    return {key: empty for key in SERVICES_BY_ID["low-alp-order-sign"].prefetch} | full_prefetch()


def missing_alp() -> dict:
    prefetch = complete_prefetch()
    del prefetch["alp"]
    return prefetch


def test_an_unlisted_fhir_server_is_not_contacted_and_prefetch_alone_answers(make_client, key):
    with fhir_mock(assert_all_requests_are_fired=False) as mock:
        response = order_sign(make_client(), key, OTHER_SERVER, complete_prefetch())
        assert len(mock.calls) == 0
    assert response.status_code == 200 and len(response.get_json()["cards"]) == 1


def test_an_unlisted_fhir_server_is_412_when_prefetch_is_not_enough(make_client, key):
    with fhir_mock(assert_all_requests_are_fired=False) as mock:
        response = order_sign(make_client((FHIR_SERVER,)), key, OTHER_SERVER, missing_alp())
        assert len(mock.calls) == 0
    assert response.status_code == 412
    assert error_reason(response) == "prefetch 'alp' unavailable: FHIR server not allowed"


@pytest.mark.parametrize("listing", ["issuer", "setting"])
def test_a_listed_fhir_server_is_used_with_the_token(make_client, key, listing):
    client = make_client((FHIR_SERVER + "/",)) if listing == "issuer" else make_client(allowed_fhir_servers=FHIR_SERVER)
    with fhir_mock() as mock:
        mock.get(
            f"{FHIR_SERVER}/Observation",
            json=load_fhir("alp-persistent-low.json"),
            match=[responses.matchers.header_matcher({"Authorization": "Bearer access-token"})],
        )
        response = order_sign(client, key, FHIR_SERVER, missing_alp())
        assert len(mock.calls) == 1
    assert response.status_code == 200


def test_another_issuers_fhir_server_is_not_allowed(make_client, key, jwks):
    import json

    issuers = json.dumps(
        {
            "https://ehr.example.org": {"jwks_url": f"{jwks.url}/jwks.json"},
            "https://other.example.org": {"jwks_url": f"{jwks.url}/jwks.json", "fhir_servers": [FHIR_SERVER]},
        }
    )
    client = make_client(trusted_issuers=issuers)
    with fhir_mock(assert_all_requests_are_fired=False) as mock:
        response = order_sign(client, key, FHIR_SERVER, missing_alp())
        assert len(mock.calls) == 0
    assert response.status_code == 412


def test_none_mode_allows_any_server_unless_a_list_is_set(app_config):
    listed = create_app({**app_config, "auth_mode": "none", "allowed_fhir_servers": FHIR_SERVER})
    try:
        with fhir_mock(assert_all_requests_are_fired=False) as mock:
            response = order_sign(listed.test_client(), None, OTHER_SERVER, missing_alp())
            assert len(mock.calls) == 0
        assert response.status_code == 412
    finally:
        listed.extensions["alp_guard"].executor.shutdown(wait=True)


def test_a_listed_server_resolving_to_a_blocked_address_is_still_refused(app_config, monkeypatch, connects):
    fake_dns(monkeypatch, {"fhir.internal.test": ["169.254.169.254"]})
    app = create_app({**app_config, "auth_mode": "none", "allowed_fhir_servers": "http://fhir.internal.test/fhir"})
    try:
        response = order_sign(app.test_client(), None, "http://fhir.internal.test/fhir", missing_alp())
    finally:
        app.extensions["alp_guard"].executor.shutdown(wait=True)
    assert response.status_code == 412
    assert error_reason(response) == "prefetch 'alp' unavailable: FHIR server address not allowed"
    assert connects == []
