"""Tests for cards.vocabulary: ALP Guard's codes, override reasons and literature."""

from __future__ import annotations

import pytest

from cards.vocabulary import (
    HPP_EXCLUDED,
    INCORRECT_DATA,
    KHAN_2024,
    MCKIERNAN_2014,
    NG_2023,
    REPEAT_NORMAL,
    RIANCHO_2023,
    SECONDARY_CAUSE,
    SPECIALIST_ADVISED,
    alp_guard_source,
    literature,
    override_reasons,
)
from hooks.findings import Topic


@pytest.mark.parametrize("topic", list(Topic))
def test_source_names_alp_guard_and_codes_the_topic(topic: Topic) -> None:
    built = alp_guard_source(topic)
    assert built["label"] == "ALP Guard"
    assert built["topic"]["system"] == "http://alp-guard.org/fhir/CodeSystem/card-topic"
    assert built["topic"]["code"] == topic.value
    assert type(built["topic"]["code"]) is str
    assert built["topic"]["display"]


def test_override_reasons_are_displayable_codings_in_the_alp_guard_system() -> None:
    reasons = override_reasons(HPP_EXCLUDED, SECONDARY_CAUSE, SPECIALIST_ADVISED, REPEAT_NORMAL, INCORRECT_DATA)
    assert [r["code"] for r in reasons] == [
        "hpp-excluded",
        "secondary-cause",
        "specialist-advised",
        "repeat-normal",
        "incorrect-data",
    ]
    assert {r["system"] for r in reasons} == {"http://alp-guard.org/fhir/CodeSystem/override-reason"}
    assert all(r["display"] for r in reasons)
    assert len({r["display"] for r in reasons}) == len(reasons)


def test_literature_links_open_the_papers_by_doi() -> None:
    links = literature(KHAN_2024, NG_2023, RIANCHO_2023, MCKIERNAN_2014)
    assert [link["url"] for link in links] == [
        "https://doi.org/10.1007/s00198-023-06844-1",
        "https://doi.org/10.1007/s00198-022-06597-3",
        "https://doi.org/10.1007/s00223-022-01039-y",
        "https://doi.org/10.1002/jbmr.2178",
    ]
    assert all(link["type"] == "absolute" and link["label"] for link in links)
