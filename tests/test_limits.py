"""Input limits: JSON nesting depth (400), prefetch resources and draft orders (413), and nothing stored past them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_service import create_app
from cds_service.limits import LimitExceeded, TokenBuckets, check_counts, load_json, nesting_depth
from tests.cds_checks import error_reason
from tests.conftest import full_prefetch, hook_request, load_fhir
from tests.store_reads import feedback_for

ORDER_SIGN = "/cds-services/low-alp-order-sign"


@pytest.mark.parametrize(
    "text, depth",
    [
        ("1", 0),
        ("[]", 1),
        ('{"a": [{}]}', 3),
        ('"[[[{{"', 0),
        (r'["\"[", [1]]', 2),
        (r'{"a\\": "]]}}{{["}', 1),
        ("[" * 300 + "]" * 300, 300),
    ],
)
def test_nesting_depth_counts_brackets_outside_strings(text, depth):
    json.loads(text)
    assert nesting_depth(text.encode()) == depth


def reference_depth(value: Any) -> int:
    """Nesting depth of a decoded JSON value, computed the obvious (recursive) way."""
    if isinstance(value, dict):
        return 1 + max(map(reference_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(reference_depth, value), default=0)
    return 0


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab\u00e9\n:,'),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(alphabet='[]{}"\\a:,'), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES, st.booleans())
def test_nesting_depth_agrees_with_the_decoded_document(value, ascii_only):
    raw = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert nesting_depth(raw) == reference_depth(value)


def test_nesting_depth_stops_counting_past_the_cap():
    raw = b"[" * 500 + b"]" * 500
    assert nesting_depth(raw, cap=64) == 65
    assert nesting_depth(raw, cap=499) == 500
    assert nesting_depth(raw, cap=500) == 500


def test_load_json_checks_depth_in_utf16_bodies_too():
    deep = ("[" * 65 + "]" * 65).encode("utf-16")
    with pytest.raises(LimitExceeded):
        load_json(deep, 64)
    assert load_json('{"a": ["é"]}'.encode("utf-16"), 64) == {"a": ["é"]}


def test_load_json_refuses_deep_nesting_without_recursing():
    for raw in (b"[" * 65 + b"]" * 65, b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 70 + b"1" + b"}" * 70):
        with pytest.raises(LimitExceeded) as info:
            load_json(raw, 64)
        assert (info.value.status, info.value.reason) == (400, "the request body is nested too deeply")
    assert load_json(b"[" * 64 + b"]" * 64, 64)


def test_load_json_reads_utf8_with_or_without_bom_and_rejects_junk():
    assert load_json(b'\xef\xbb\xbf{"a": "\xc3\xa9"}', 64) == {"a": "é"}
    for raw in (b"", b"{", b'{"a": "\xe9"}'):
        with pytest.raises(ValueError):
            load_json(raw, 64)


def bundle(n: int) -> dict:
    return {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Observation"}} for _ in range(n)]}


def test_counts_within_the_limits_pass():
    check_counts(
        {
            "prefetch": {"a": bundle(3), "b": {"resourceType": "Patient"}, "c": None},
            "context": {"draftOrders": bundle(2)},
        },
        4,
        2,
    )
    check_counts({"prefetch": "junk", "context": "junk"}, 1, 1)  # shape errors are the parser's to report


@pytest.mark.parametrize(
    "body, reason",
    [
        (
            {"prefetch": {"a": bundle(3), "b": {"resourceType": "Patient"}, "c": bundle(1)}},
            "too many prefetch resources",
        ),
        ({"context": {"draftOrders": bundle(3)}}, "too many draft orders"),
    ],
)
def test_counts_past_the_limits_are_413(body, reason):
    with pytest.raises(LimitExceeded) as info:
        check_counts(body, 4, 2)
    assert (info.value.status, info.value.reason) == (413, reason)


# --- through the API --------------------------------------------------------------------------------------


@pytest.fixture
def limited(app_config) -> Iterator[Any]:
    app = create_app({**app_config, "max_json_depth": 16, "max_prefetch_resources": 6, "max_draft_orders": 1})
    yield app
    app.extensions["alp_guard"].executor.shutdown(wait=True)


def order_sign_body(drafts: int = 1, extra_alp: int = 0) -> dict:
    prefetch = full_prefetch()
    prefetch["conditions"] = prefetch["medications"] = None
    draft_orders = load_fhir("draft-orders-sandbox-alendronate.json")
    draft_orders["entry"] = draft_orders["entry"][:1] * drafts
    prefetch["alp"]["entry"] += prefetch["alp"]["entry"][:1] * extra_alp
    return hook_request("order-sign", prefetch=prefetch, draft_orders=draft_orders)


def served_cards(app) -> int:
    with app.extensions["alp_guard"].store.engine.connect() as conn:
        return conn.exec_driver_sql("SELECT count(*) FROM cards_served").scalar()


def test_a_request_within_the_limits_is_answered(limited):
    body = order_sign_body()
    body["context"]["draftOrders"] = load_fhir("draft-orders-atorvastatin.json")  # answered without the record
    assert limited.test_client().post(ORDER_SIGN, json=body).get_json() == {"cards": []}


@pytest.mark.parametrize(
    "body, status, reason",
    [
        (order_sign_body(drafts=2), 413, "too many draft orders"),
        (order_sign_body(extra_alp=5), 413, "too many prefetch resources"),
        (
            {**order_sign_body(), "extension": {"x": json.loads("[" * 20 + "]" * 20)}},
            400,
            "the request body is nested too deeply",
        ),
    ],
)
def test_past_a_limit_the_answer_says_why_and_nothing_is_stored(limited, body, status, reason):
    response = limited.test_client().post(ORDER_SIGN, json=body)
    assert (response.status_code, error_reason(response)) == (status, reason)
    assert served_cards(limited) == 0


def test_a_refill_with_more_prescriptions_than_draft_orders_allowed_is_413(limited):
    body = order_sign_body(drafts=2)
    body.update(hook="medication-refill")
    body["context"]["medications"] = body["context"].pop("draftOrders")
    response = limited.test_client().post("/cds-services/low-alp-medication-refill", json=body)
    assert (response.status_code, error_reason(response)) == (413, "too many draft orders")
    assert served_cards(limited) == 0


def test_deep_feedback_is_400_and_not_stored(limited):
    item = {
        "card": "c1",
        "outcome": "overridden",
        "outcomeTimestamp": "2026-11-24T12:01:00Z",
        "overrideReason": {"userComment": "x", "extension": json.loads("[" * 20 + "]" * 20)},
    }
    response = limited.test_client().post(f"{ORDER_SIGN}/feedback", json={"feedback": [item]})
    assert (response.status_code, error_reason(response)) == (400, "the request body is nested too deeply")
    assert feedback_for(limited.extensions["alp_guard"].store, "c1") == []


@pytest.mark.parametrize(
    "text, depth",
    [
        ('["\\u0022[[", 1]', 1),  # an escaped quote written as \u0022 neither opens nor closes a string
        ('{"\\u005c": [[]]}', 3),  # nor does an escaped backslash written as \u005c
        ('{"a\\\\": "\\\\", "b": [{"c": "]\\"["}]}', 3),
        ('\n [ \t{ "k" : [ ] } ,\r\n "x" ]  ', 3),
    ],
)
def test_nesting_depth_reads_unicode_escapes_and_whitespace(text, depth):
    assert reference_depth(json.loads(text)) == depth
    assert nesting_depth(text.encode()) == depth


@settings(max_examples=150, deadline=None)
@given(JSON_VALUES)
def test_nesting_depth_agrees_on_indented_documents(value):
    assert nesting_depth(json.dumps(value, indent=2).encode()) == reference_depth(value)


def test_nesting_depth_of_a_wide_body_nested_deep_is_its_true_depth():
    raw = b"[" + b",".join([b"[" * 60 + b"]" * 60] * 20_000) + b"]"
    assert nesting_depth(raw, cap=500) == 61


# --- text no database can store (issue 14) -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, unstorable",
    [
        (r'"\ud800"', True),
        (r'"\udfff x"', True),
        (r'"a\u0000"', True),
        (r'"\ud83d\ude00"', False),
        (r'"\\ud800"', False),
        (r'"\u00e9\u20ac"', False),
        ('"\ud800"', True),
        ('"plain"', False),
        (r'"\ud83d\ud83d\ude00"', True),
    ],
)
def test_nul_and_unpaired_surrogates_are_found_raw_or_escaped(text, unstorable):
    from cds_service.limits import has_unstorable_text

    assert has_unstorable_text(text) is unstorable


def test_load_json_refuses_unstorable_text_with_400():
    with pytest.raises(LimitExceeded) as info:
        load_json(b'{"a": "\\ud800"}', 10)
    assert info.value.status == 400
    with pytest.raises(LimitExceeded):
        load_json('{"a": "\ud800"}'.encode("utf-8", "surrogatepass"), 10)  # raw, not escaped


def test_read_body_refuses_a_stream_past_the_limit_instead_of_cutting_it():
    import io

    from cds_service.limits import read_body

    assert read_body(io.BytesIO(b"x" * 100), None, 100) == b"x" * 100
    with pytest.raises(LimitExceeded) as info:
        read_body(io.BytesIO(b"x" * 101), None, 100)
    assert info.value.status == 413
    with pytest.raises(LimitExceeded):
        read_body(io.BytesIO(b"x" * 10), 101, 100)


# --- feedback rate limit (issue 14) -----------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_admits_a_minutes_worth_then_refills_at_its_rate():
    clock = FakeClock()
    buckets = TokenBuckets(60, clock=clock)  # one a second, 60 saved up
    assert [buckets.admit("a") for _ in range(60)] == [0] * 60
    assert buckets.admit("a") == 1
    assert buckets.admit("b") == 0  # another caller has its own bucket
    clock.now += 1
    assert buckets.admit("a") == 0
    assert buckets.admit("a") == 1


def test_a_charge_past_the_tokens_left_is_debt_that_says_how_long_to_wait():
    clock = FakeClock()
    buckets = TokenBuckets(60, clock=clock)
    assert buckets.admit("a") == 0
    buckets.charge("a", 99)  # a 100-item post: 40 tokens of debt
    assert buckets.admit("a") == 41
    clock.now += 40.5
    assert buckets.admit("a") == 1
    clock.now += 0.5
    assert buckets.admit("a") == 0
    clock.now += 3600
    assert [buckets.admit("a") for _ in range(61)][-2:] == [0, 1]  # never more than a minute's worth saved


def test_buckets_forget_idle_callers_past_their_bound():
    clock = FakeClock()
    buckets = TokenBuckets(60, clock=clock, max_callers=10)
    for i in range(10):
        buckets.admit(f"caller-{i}")
    buckets.charge("caller-0", 100)
    clock.now += 2  # everyone but caller-0 is full again
    buckets.admit("new")
    assert buckets.admit("caller-0") > 0  # the debtor is remembered
    assert len(buckets._buckets) <= 10


def rate_limited(app_config, per_minute: int) -> Any:
    return create_app({**app_config, "feedback_items_per_minute": per_minute})


def issue_cards(client, count: int) -> list[str]:
    cards: list[str] = []
    for _ in range(count):
        cards += [card["uuid"] for card in client.post(ORDER_SIGN, json=order_sign_body()).get_json()["cards"]]
    return cards


def overrides(cards: list[str]) -> dict:
    return {
        "feedback": [
            {"card": card, "outcome": "overridden", "outcomeTimestamp": "2026-11-24T12:01:00Z"} for card in cards
        ]
    }


def stored_feedback(app) -> int:
    with app.extensions["alp_guard"].store.engine.connect() as conn:
        return conn.exec_driver_sql("SELECT count(*) FROM feedback").scalar()


def test_feedback_within_the_rate_limit_is_all_stored(app_config):
    app = rate_limited(app_config, 6)
    client = app.test_client()
    cards = issue_cards(client, 6)
    for part in (cards[:2], cards[2:5], cards[5:]):
        assert client.post(f"{ORDER_SIGN}/feedback", json=overrides(part)).get_json()["stored"] == len(part)
    assert stored_feedback(app) == 6
    app.extensions["alp_guard"].executor.shutdown(wait=True)


def test_feedback_past_the_rate_limit_is_429_with_retry_after_and_other_callers_go_on(app_config):
    app = rate_limited(app_config, 3)
    client = app.test_client()
    cards = issue_cards(client, 4)
    first = client.post(f"{ORDER_SIGN}/feedback", json=overrides(cards[:3]))
    assert first.get_json() == {"received": 3, "stored": 3}
    refused = client.post(f"{ORDER_SIGN}/feedback", json=overrides(cards[3:]))
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 20  # one token at 3 a minute
    assert refused.get_json()["resourceType"] == "OperationOutcome"
    assert error_reason(refused).startswith("too much feedback from this caller; retry after")
    assert stored_feedback(app) == 3
    other = client.post(f"{ORDER_SIGN}/feedback", json=overrides(cards[3:]), environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.get_json() == {"received": 1, "stored": 1}
    assert client.post(ORDER_SIGN, json=order_sign_body()).status_code == 200  # hook calls are not limited
    app.extensions["alp_guard"].executor.shutdown(wait=True)


def test_a_large_post_leaves_its_sender_in_debt_until_the_items_are_paid_for(app_config):
    app = rate_limited(app_config, 3)
    client = app.test_client()
    cards = issue_cards(client, 10)
    assert client.post(f"{ORDER_SIGN}/feedback", json=overrides(cards)).get_json()["stored"] == 10
    refused = client.post(f"{ORDER_SIGN}/feedback", json=overrides(cards[:1]))
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 60  # 7 tokens of debt at 3 a minute
    app.extensions["alp_guard"].executor.shutdown(wait=True)


def test_a_zero_rate_turns_the_feedback_limit_off(app_config):
    app = rate_limited(app_config, 0)
    client = app.test_client()
    (card,) = issue_cards(client, 1)
    for _ in range(5):
        assert client.post(f"{ORDER_SIGN}/feedback", json=overrides([card])).status_code == 200
    app.extensions["alp_guard"].executor.shutdown(wait=True)


def test_in_jwt_mode_each_issuer_has_its_own_feedback_limit(app_config, monkeypatch):
    from tests.trust_helpers import ISS, claims, ec_key, loopback_server, sign

    for name in list(__import__("os").environ):
        if name.startswith("CDS_"):
            monkeypatch.delenv(name)
    key = ec_key()
    other = "https://other-ehr.example.org"
    path = f"{ORDER_SIGN}/feedback"
    with loopback_server() as jwks:
        jwks.json("/jwks.json", {"keys": [key.jwk]})
        issuers = {iss: {"jwks_url": f"{jwks.url}/jwks.json"} for iss in (ISS, other)}
        app = create_app(
            {
                **app_config,
                "auth_mode": "jwt",
                "trusted_issuers": json.dumps(issuers),
                "public_base_url": "http://localhost",
                "feedback_items_per_minute": 1,
            }
        )

        def post(iss: str) -> Any:
            token = sign(key, claims(f"http://localhost{path}", iss=iss))
            return app.test_client().post(path, json=overrides(["c1"]), headers={"Authorization": f"Bearer {token}"})

        assert post(ISS).status_code == 200
        assert post(ISS).status_code == 429
        assert post(other).status_code == 200  # the same address, another issuer
        app.extensions["alp_guard"].executor.shutdown(wait=True)
