"""Tests for cards.spec: CDS Hooks 2.0 members that always meet the specification."""

from __future__ import annotations

import pytest

from cards.spec import (
    action_create,
    action_delete,
    card,
    coding,
    is_relative_reference,
    link,
    source,
    suggestion,
)
from hooks.findings import Indicator

REASON = {"system": "http://example.org/reasons", "code": "r1", "display": "Reason one"}


def delete_action() -> dict:
    """Build a valid delete action."""
    return action_delete("Remove the draft order", "MedicationRequest/abc")


def minimal_card(**overrides: object) -> dict:
    """Build a card with only the required members, plus overrides."""
    members: dict = {"uuid": "card-1", "summary": "Check ALP", "indicator": "info", "source": source("ALP Guard")}
    members.update(overrides)
    return card(**members)


def test_coding_leaves_out_a_missing_display() -> None:
    assert coding("http://loinc.org", "6768-6") == {"system": "http://loinc.org", "code": "6768-6"}


def test_coding_keeps_a_display() -> None:
    assert coding("s", "c", "Shown")["display"] == "Shown"


@pytest.mark.parametrize(("system", "code"), [("", "c"), ("s", "")])
def test_coding_refuses_a_missing_system_or_code(system: str, code: str) -> None:
    with pytest.raises(ValueError):
        coding(system, code)


def test_source_carries_label_and_topic() -> None:
    topic = coding("http://example.org/topics", "t1")
    assert source("ALP Guard", topic=topic) == {"label": "ALP Guard", "topic": topic}


def test_source_without_topic_has_no_topic_member() -> None:
    assert source("ALP Guard") == {"label": "ALP Guard"}


@pytest.mark.parametrize("label", ["", "   "])
def test_source_refuses_a_blank_label(label: str) -> None:
    with pytest.raises(ValueError):
        source(label)


def test_source_refuses_a_relative_url() -> None:
    with pytest.raises(ValueError):
        source("ALP Guard", url="/about")


def test_link_is_absolute_and_has_no_app_context() -> None:
    assert link("Khan 2024", "https://doi.org/10.1007/s00198-023-06844-1") == {
        "label": "Khan 2024",
        "url": "https://doi.org/10.1007/s00198-023-06844-1",
        "type": "absolute",
    }


@pytest.mark.parametrize("url", ["doi.org/10.1/x", "/papers/x", "javascript:alert(1)", "https://", ""])
def test_link_refuses_a_url_a_browser_cannot_open_alone(url: str) -> None:
    with pytest.raises(ValueError):
        link("Paper", url)


def test_link_refuses_a_blank_label() -> None:
    with pytest.raises(ValueError):
        link(" ", "https://doi.org/10.1/x")


def test_create_action_carries_the_resource() -> None:
    resource = {"resourceType": "ServiceRequest", "status": "draft"}
    action = action_create("Order calcium", resource)
    assert action == {"type": "create", "description": "Order calcium", "resource": resource}
    assert "resourceId" not in action


def test_create_action_refuses_a_resource_without_type() -> None:
    with pytest.raises(ValueError):
        action_create("Order calcium", {"status": "draft"})


def test_delete_action_carries_a_reference_and_no_resource() -> None:
    assert delete_action() == {
        "type": "delete",
        "description": "Remove the draft order",
        "resourceId": "MedicationRequest/abc",
    }


@pytest.mark.parametrize(
    "reference",
    [
        "abc",
        "MedicationRequest/",
        "MedicationRequest/a b",
        "MedicationRequest/abc\n",
        "http://x/MedicationRequest/abc",
        "MedicationRequest/" + "a" * 65,
    ],
)
def test_delete_action_refuses_anything_but_a_relative_reference(reference: str) -> None:
    assert not is_relative_reference(reference)
    with pytest.raises(ValueError):
        action_delete("Remove", reference)


@pytest.mark.parametrize("reference", ["MedicationRequest/abc", "MedicationRequest/A-1.2", "Patient/" + "a" * 64])
def test_relative_references_are_recognised(reference: str) -> None:
    assert is_relative_reference(reference)


@pytest.mark.parametrize("description", ["", "  "])
def test_actions_refuse_a_blank_description(description: str) -> None:
    with pytest.raises(ValueError):
        action_delete(description, "MedicationRequest/abc")
    with pytest.raises(ValueError):
        action_create(description, {"resourceType": "ServiceRequest"})


def test_suggestion_marks_only_recommended_ones() -> None:
    plain = suggestion("Remove", [delete_action()], uuid="s1")
    recommended = suggestion("Remove", [delete_action()], uuid="s2", recommended=True)
    assert "isRecommended" not in plain
    assert recommended["isRecommended"] is True


def test_suggestion_refuses_no_actions_or_no_uuid() -> None:
    with pytest.raises(ValueError):
        suggestion("Remove", [], uuid="s1")
    with pytest.raises(ValueError):
        suggestion("Remove", [delete_action()], uuid="")


def test_card_with_only_required_members_has_no_empty_optional_members() -> None:
    assert minimal_card(detail="  ") == {
        "uuid": "card-1",
        "summary": "Check ALP",
        "indicator": "info",
        "source": {"label": "ALP Guard"},
    }


def test_card_shortens_a_long_summary_below_140_characters() -> None:
    summary = minimal_card(summary="Low ALP " + "x" * 300)["summary"]
    assert len(summary) < 140
    assert summary.startswith("Low ALP x")
    assert summary.endswith("…")


def test_card_keeps_a_summary_of_139_characters() -> None:
    assert minimal_card(summary="y" * 139)["summary"] == "y" * 139


def test_card_summary_is_one_line() -> None:
    assert minimal_card(summary="Low ALP\non record")["summary"] == "Low ALP on record"


def test_card_sends_the_indicator_as_a_plain_string() -> None:
    indicator = minimal_card(indicator=Indicator.CRITICAL)["indicator"]
    assert indicator == "critical"
    assert type(indicator) is str


@pytest.mark.parametrize("indicator", ["hard-stop", "", "Info"])
def test_card_refuses_an_unknown_indicator(indicator: str) -> None:
    with pytest.raises(ValueError):
        minimal_card(indicator=indicator)


def test_card_refuses_a_source_without_label() -> None:
    with pytest.raises(ValueError):
        minimal_card(source={"topic": coding("s", "c")})


def test_card_with_suggestions_lets_any_of_them_be_chosen() -> None:
    built = minimal_card(suggestions=[suggestion("Remove", [delete_action()], uuid="s1")])
    assert built["selectionBehavior"] == "any"
    assert built["suggestions"][0]["uuid"] == "s1"


def test_card_refuses_a_suggestion_without_uuid() -> None:
    with pytest.raises(ValueError):
        minimal_card(suggestions=[{"label": "Remove", "actions": [delete_action()]}])


def test_card_refuses_a_uuid_used_twice() -> None:
    with pytest.raises(ValueError):
        minimal_card(suggestions=[suggestion("Remove", [delete_action()], uuid="card-1")])


def test_card_refuses_several_recommendations_when_only_one_may_be_chosen() -> None:
    both = [suggestion(label, [delete_action()], uuid=label, recommended=True) for label in ("a", "b")]
    with pytest.raises(ValueError):
        minimal_card(suggestions=both, selection_behavior="at-most-one")


def test_card_refuses_an_unknown_selection_behaviour() -> None:
    with pytest.raises(ValueError):
        minimal_card(suggestions=[suggestion("a", [delete_action()], uuid="s1")], selection_behavior="all")


def test_card_keeps_override_reasons_with_display() -> None:
    assert minimal_card(override_reasons=[REASON])["overrideReasons"] == [REASON]


@pytest.mark.parametrize("missing", ["system", "code", "display"])
def test_card_refuses_an_override_reason_a_client_cannot_show(missing: str) -> None:
    reason = {k: v for k, v in REASON.items() if k != missing}
    with pytest.raises(ValueError):
        minimal_card(override_reasons=[reason])


def test_card_keeps_detail_and_links() -> None:
    paper = link("Paper", "https://doi.org/10.1/x")
    built = minimal_card(detail="**Why**\n- because", links=[paper])
    assert built["detail"] == "**Why**\n- because"
    assert built["links"] == [paper]
