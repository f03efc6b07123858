"""Tests for parse_feedback: the spec and Sandbox shapes, and each invalid item (spec §7, §14.38-40)."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_service.feedback import BadFeedback, parse_feedback, plainly_valid
from cds_service.schema_check import first_error
from cds_service.schemas import COMPONENTS, ref
from cds_service.store import FeedbackEvent

CARD = "9368d37b-283f-44a0-93ea-547cebab93ed"
CARD_2 = "0c5a4c6e-9a2c-4a11-8a8f-5b6b1f2a4e11"
SUGGESTION = "e56e1945-20b3-4393-8503-a1a20fd73152"
SUGGESTION_2 = "1ad3b4c1-6b7e-4a52-9f37-7c9bd5f1a0b2"

# The example of the CDS Hooks 2.0 feedback section.
SPEC_ACCEPTED = {
    "card": CARD,
    "outcome": "accepted",
    "acceptedSuggestions": [{"id": SUGGESTION}],
    "outcomeTimestamp": "2021-12-11T10:05:31Z",
}
# What the CDS Hooks Sandbox sends when a reason is picked: a Coding without display.
SANDBOX_OVERRIDE = {
    "card": CARD,
    "outcome": "overridden",
    "outcomeTimestamp": "2026-11-24T20:16:41.449Z",
    "overrideReason": {"reason": {"code": "x", "system": "http://example.org/override"}},
}


def item(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """Return a copy of `base` with `changes`; a change to the value `...` removes the member."""
    result = copy.deepcopy(base)
    for name, value in changes.items():
        if value is ...:
            result.pop(name, None)
        else:
            result[name] = value
    return result


def assert_bad(body: Any, message: str) -> None:
    with pytest.raises(BadFeedback) as info:
        parse_feedback(body)
    assert str(info.value) == message


# --- accepted shapes ------------------------------------------------------------------------------------------


def test_spec_example_accepted_with_suggestion() -> None:
    events = parse_feedback({"feedback": [SPEC_ACCEPTED]})
    assert events == [FeedbackEvent(CARD, "accepted", "2021-12-11T10:05:31Z", (SUGGESTION,), None, None, None)]
    assert events[0].accepted_suggestions == (SUGGESTION,)
    assert isinstance(events[0].accepted_suggestions, tuple)


def test_sandbox_override_with_coding_without_display() -> None:
    [event] = parse_feedback({"feedback": [SANDBOX_OVERRIDE]})
    assert event.card_uuid == CARD
    assert event.outcome == "overridden"
    assert event.outcome_timestamp == "2026-11-24T20:16:41.449Z"
    assert event.accepted_suggestions == ()
    assert event.override_code == "x"
    assert event.override_system == "http://example.org/override"
    assert event.user_comment is None


def test_override_with_only_a_user_comment() -> None:
    body = {"feedback": [item(SANDBOX_OVERRIDE, overrideReason={"userComment": "Patient already on a bisphosphonate"})]}
    [event] = parse_feedback(body)
    assert event.outcome == "overridden"
    assert (event.override_code, event.override_system) == (None, None)
    assert event.user_comment == "Patient already on a bisphosphonate"


def test_override_with_reason_and_comment() -> None:
    reason = {
        "reason": {"code": "already-evaluated", "system": "http://example.org/override", "display": "Done"},
        "userComment": "seen by endocrinology",
    }
    [event] = parse_feedback({"feedback": [item(SANDBOX_OVERRIDE, overrideReason=reason)]})
    assert (event.override_code, event.override_system, event.user_comment) == (
        "already-evaluated",
        "http://example.org/override",
        "seen by endocrinology",
    )


def test_override_reason_without_system_keeps_the_code() -> None:
    [event] = parse_feedback({"feedback": [item(SANDBOX_OVERRIDE, overrideReason={"reason": {"code": "c"}})]})
    assert (event.override_code, event.override_system) == ("c", None)


def test_override_without_override_reason() -> None:
    [event] = parse_feedback({"feedback": [item(SANDBOX_OVERRIDE, overrideReason=...)]})
    assert event == FeedbackEvent(CARD, "overridden", "2026-11-24T20:16:41.449Z")


def test_several_items_keep_their_order_and_suggestions() -> None:
    second = item(SPEC_ACCEPTED, card=CARD_2, acceptedSuggestions=[{"id": SUGGESTION}, {"id": SUGGESTION_2}])
    events = parse_feedback({"feedback": [SANDBOX_OVERRIDE, second]})
    assert [e.card_uuid for e in events] == [CARD, CARD_2]
    assert [e.outcome for e in events] == ["overridden", "accepted"]
    assert events[1].accepted_suggestions == (SUGGESTION, SUGGESTION_2)


@pytest.mark.parametrize(
    "timestamp",
    [
        "1985-04-12T23:20:50.52Z",
        "2021-12-11T10:05:31Z",
        "2021-12-11T10:05:31+01:00",
        "2021-12-11T10:05:31z",
        "2021-12-11 10:05:31Z",
    ],
)
def test_rfc_3339_timestamps_are_accepted_and_kept_verbatim(timestamp: str) -> None:
    [event] = parse_feedback({"feedback": [item(SPEC_ACCEPTED, outcomeTimestamp=timestamp)]})
    assert event.outcome_timestamp == timestamp


def test_lower_case_t_separator_is_accepted_per_rfc_3339() -> None:
    timestamp = "2021-12-11t10:05:31z"
    # RFC 3339 §5.6 NOTE: "T" and "Z" may alternatively be lower case; a lower-case "z" is already accepted.
    [event] = parse_feedback({"feedback": [item(SPEC_ACCEPTED, outcomeTimestamp=timestamp)]})
    assert event.outcome_timestamp == timestamp


def test_unknown_members_are_ignored() -> None:
    body = {"feedback": [item(SPEC_ACCEPTED, extension={"x": 1})], "extension": {"y": 2}}
    [event] = parse_feedback(body)
    assert event.card_uuid == CARD


# --- rejected shapes --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        [SPEC_ACCEPTED],
        {},
        {"feedback": None},
        {"feedback": SPEC_ACCEPTED},
        {"feedback": "x"},
        {"feedback": []},
    ],
)
def test_feedback_not_a_non_empty_list(body: Any) -> None:
    assert_bad(body, "feedback must be a non-empty list")


@pytest.mark.parametrize("bad", [None, "card", 3, [SPEC_ACCEPTED]])
def test_item_not_an_object(bad: Any) -> None:
    assert_bad({"feedback": [bad]}, "feedback[0] must be an object")


def test_the_index_of_the_first_bad_item_is_named() -> None:
    assert_bad({"feedback": [SPEC_ACCEPTED, SANDBOX_OVERRIDE, "bad"]}, "feedback[2] must be an object")
    assert_bad({"feedback": [SPEC_ACCEPTED, item(SANDBOX_OVERRIDE, card=...)]}, "feedback[1].card is required")


@pytest.mark.parametrize("card", [..., None, "", 42, {"uuid": CARD}])
def test_missing_card(card: Any) -> None:
    assert_bad({"feedback": [item(SPEC_ACCEPTED, card=card)]}, "feedback[0].card is required")


@pytest.mark.parametrize(
    "outcome", [..., None, "", "ignored", "Accepted", "rejected", 1, ["accepted"], {"code": "accepted"}]
)
def test_outcome_not_accepted_or_overridden(outcome: Any) -> None:
    assert_bad(
        {"feedback": [item(SPEC_ACCEPTED, outcome=outcome)]}, "feedback[0].outcome must be accepted or overridden"
    )


@pytest.mark.parametrize("suggestions", [..., None, []])
def test_accepted_without_accepted_suggestions(suggestions: Any) -> None:
    assert_bad(
        {"feedback": [item(SPEC_ACCEPTED, acceptedSuggestions=suggestions)]},
        "feedback[0].acceptedSuggestions is required for accepted outcomes",
    )


@pytest.mark.parametrize(
    "suggestions",
    [SUGGESTION, {"id": SUGGESTION}, [SUGGESTION], [{"uuid": SUGGESTION}], [{"id": 5}], [{"id": SUGGESTION}, None]],
)
def test_malformed_accepted_suggestions(suggestions: Any) -> None:
    assert_bad(
        {"feedback": [item(SPEC_ACCEPTED, acceptedSuggestions=suggestions)]},
        "feedback[0].acceptedSuggestions must be a list of objects with an id",
    )


def test_malformed_accepted_suggestions_rejected_on_overrides_too() -> None:
    assert_bad(
        {"feedback": [item(SANDBOX_OVERRIDE, acceptedSuggestions=[{"x": 1}])]},
        "feedback[0].acceptedSuggestions must be a list of objects with an id",
    )


@pytest.mark.parametrize(
    "timestamp",
    [..., None, "", 1639217131, "yesterday", "2021-12-11", "10:05:31", "2021-13-11T10:05:31Z", "11/12/2021 10:05"],
)
def test_missing_or_non_iso_outcome_timestamp(timestamp: Any) -> None:
    assert_bad(
        {"feedback": [item(SPEC_ACCEPTED, outcomeTimestamp=timestamp)]},
        "feedback[0].outcomeTimestamp must be an RFC 3339 date-time with a time zone",
    )


@pytest.mark.parametrize("reason", [{}, {"userComment": ""}, {"userComment": None}, {"reason": None}])
def test_override_reason_without_reason_or_comment(reason: Any) -> None:
    assert_bad(
        {"feedback": [item(SANDBOX_OVERRIDE, overrideReason=reason)]},
        "feedback[0].overrideReason needs a reason or a userComment",
    )


@pytest.mark.parametrize("reason", [{}, {"system": "http://example.org/override"}, {"code": 3}, "x", ["x"]])
def test_override_reason_coding_without_code(reason: Any) -> None:
    assert_bad(
        {"feedback": [item(SANDBOX_OVERRIDE, overrideReason={"reason": reason})]},
        "feedback[0].overrideReason.reason must be a Coding with a code",
    )


@pytest.mark.parametrize("reason", ["x", ["x"], 1])
def test_override_reason_not_an_object(reason: Any) -> None:
    assert_bad(
        {"feedback": [item(SANDBOX_OVERRIDE, overrideReason=reason)]}, "feedback[0].overrideReason must be an object"
    )


def test_user_comment_not_a_string() -> None:
    assert_bad(
        {"feedback": [item(SANDBOX_OVERRIDE, overrideReason={"userComment": 7})]},
        "feedback[0].overrideReason.userComment must be a string",
    )


def test_bad_feedback_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_feedback({"feedback": []})


@pytest.mark.parametrize("timestamp", ["2021-12-11T10:05:31", "2021-12-11 10:05:31.52"])
def test_timestamps_without_a_time_zone_are_refused(timestamp: str) -> None:
    item = {"card": "c1", "outcome": "overridden", "outcomeTimestamp": timestamp}
    assert_bad({"feedback": [item]}, "feedback[0].outcomeTimestamp must be an RFC 3339 date-time with a time zone")


@pytest.mark.parametrize(
    "change, message",
    [
        ({"card": "c" * 101}, "feedback[0].card is longer than 100 characters"),
        ({"overrideReason": {"reason": {"code": "x" * 101}}}, "feedback[0].overrideReason.reason is too long"),
        (
            {"overrideReason": {"reason": {"code": "x", "system": "s" * 301}}},
            "feedback[0].overrideReason.reason is too long",
        ),
        ({"outcomeTimestamp": "2021-12-11T10:05:31" + "0" * 30 + "Z"}, "outcomeTimestamp must be an RFC 3339"),
    ],
)
def test_values_wider_than_their_columns_are_refused(change: dict, message: str) -> None:
    item = {"card": "c1", "outcome": "overridden", "outcomeTimestamp": "2021-12-11T10:05:31Z", **change}
    with pytest.raises(BadFeedback, match=re.escape(message)):
        parse_feedback({"feedback": [item]})


# --- the fast path agrees with the schema ------------------------------------------------------------------------

STRINGS = st.sampled_from(
    [
        "",
        " ",
        "x",
        "x" * 100,
        "x" * 101,
        "x" * 300,
        "x" * 301,
        "x" * 2000,
        "x" * 2001,
        "accepted",
        "overridden",
        "2026-11-24T12:01:00Z",
        "2026-11-24t12:01:00.5+01:00",
        "2026-11-24T12:01:00",
        "2026-11-24",
        "2026-11-24T12:01:00Z" + " " * 21,
    ]
)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), STRINGS)


def mostly(valid: st.SearchStrategy) -> st.SearchStrategy:
    """Draw a valid value three times in four, else any JSON scalar."""
    return st.integers(0, 3).flatmap(lambda pick: SCALARS if pick == 0 else valid)


SUGGESTIONS = mostly(st.lists(mostly(st.fixed_dictionaries({"id": mostly(st.just("s1"))})), max_size=3))
CODINGS = mostly(
    st.fixed_dictionaries(
        {"code": mostly(st.sampled_from(["x", "x" * 100]))},
        optional={"system": mostly(st.sampled_from(["x", "x" * 300])), "display": SCALARS},
    )
)
COMMENTS = mostly(st.sampled_from(["x", "x" * 2000]))
OVERRIDES = mostly(st.fixed_dictionaries({}, optional={"reason": CODINGS, "userComment": COMMENTS}))
ITEMS = mostly(
    st.fixed_dictionaries(
        {
            "card": mostly(st.sampled_from(["c", "x" * 100])),
            "outcome": mostly(st.sampled_from(["accepted", "overridden"])),
            "outcomeTimestamp": mostly(st.one_of(st.sampled_from(["2026-11-24T12:01:00Z", "2026-11-24"]), STRINGS)),
        },
        optional={"acceptedSuggestions": SUGGESTIONS, "overrideReason": OVERRIDES, "extension": SCALARS},
    )
)


@settings(max_examples=3000, deadline=None)
@given(ITEMS)
def test_the_fast_check_never_passes_an_item_the_schema_refuses(candidate) -> None:
    if plainly_valid(candidate):
        assert first_error(ref("Feedback"), candidate, COMPONENTS) is None


@pytest.mark.parametrize(
    "usual",
    [
        SPEC_ACCEPTED,
        SANDBOX_OVERRIDE,
        item(SANDBOX_OVERRIDE, overrideReason={"userComment": "x" * 2000}),
        item(SANDBOX_OVERRIDE, overrideReason={"reason": {"code": "x", "display": "X"}, "userComment": None}),
        item(SPEC_ACCEPTED, overrideReason=None, extension={"a": 1}),
    ],
)
def test_the_usual_shapes_take_the_fast_path(usual) -> None:
    assert plainly_valid(usual)
    assert first_error(ref("Feedback"), usual, COMPONENTS) is None
