"""ALP Guard's own codes, override reasons and literature, kept in one place."""

from __future__ import annotations

from dataclasses import dataclass

from cards.spec import Json, coding, link, source
from hooks.findings import Topic

SOURCE_LABEL = "ALP Guard"
TOPIC_SYSTEM = "http://alp-guard.org/fhir/CodeSystem/card-topic"
OVERRIDE_REASON_SYSTEM = "http://alp-guard.org/fhir/CodeSystem/override-reason"

TOPIC_DISPLAYS: dict[Topic, str] = {
    Topic.HPP_ANTIRESORPTIVE: "Antiresorptive ordered with hypophosphatasia on record",
    Topic.LOW_ALP_ANTIRESORPTIVE: "Antiresorptive ordered with persistently or recurrently low ALP",
    Topic.SINGLE_LOW_ALP_ANTIRESORPTIVE: "Antiresorptive ordered after a single low ALP",
    Topic.LOW_ALP_UNEVALUATED: "Persistently low ALP not evaluated",
    Topic.HPP_LIKELY: "Persistently low ALP with an elevated ALP substrate: hypophosphatasia likely",
    Topic.RENAL_ANTIRESORPTIVE: "Antiresorptive ordered with renal function below its labelled limit",
    Topic.VITAMIN_D_CALCIUM_ANTIRESORPTIVE: "Antiresorptive ordered with low vitamin D or calcium",
    Topic.WILSON_ALF: "Acute liver failure with the Wilson disease pattern",
    Topic.LOW_ALP_ON_THERAPY: "Low ALP drawn on antiresorptive therapy after a normal pre-treatment ALP",
    Topic.LOW_ALP_ACUTE_ILLNESS: "Low ALP confined to one acute hospital stay",
}


@dataclass(frozen=True)
class OverrideReason:
    """A reason a prescriber may give for dismissing a card."""

    code: str
    display: str


HPP_EXCLUDED = OverrideReason("hpp-excluded", "Hypophosphatasia excluded by a specialist")
SECONDARY_CAUSE = OverrideReason("secondary-cause", "Low ALP explained by a secondary cause")
SPECIALIST_ADVISED = OverrideReason("specialist-advised", "Benefit outweighs risk (specialist advised)")
REPEAT_NORMAL = OverrideReason("repeat-normal", "Repeat ALP was normal")
INCORRECT_DATA = OverrideReason("incorrect-data", "Data incorrect or not applicable")


@dataclass(frozen=True)
class Reference:
    """A paper a card cites, with the label shown on its link."""

    label: str
    url: str


KHAN_2024 = Reference(
    "Khan 2024: hypophosphatasia diagnostic criteria (International HPP Working Group)",
    "https://doi.org/10.1007/s00198-023-06844-1",
)
NG_2023 = Reference(
    "Ng 2023: low ALP may signal hypophosphatasia in osteoporosis clinic patients",
    "https://doi.org/10.1007/s00198-022-06597-3",
)
RIANCHO_2023 = Reference(
    "Riancho 2023: diagnostic approach to patients with low serum ALP",
    "https://doi.org/10.1007/s00223-022-01039-y",
)
TSOURDI_2021 = Reference(
    "Tsourdi 2021: managing discontinuation of denosumab (ECTS position statement, JCEM 106:264)",
    "https://doi.org/10.1210/clinem/dgaa756",
)
MCKIERNAN_2014 = Reference(
    "McKiernan 2014: clinical findings in adults with persistent hypophosphatasemia",
    "https://doi.org/10.1002/jbmr.2178",
)


def alp_guard_source(topic: Topic) -> Json:
    """Name ALP Guard as the card's source and the topic as its category."""
    return source(SOURCE_LABEL, topic=coding(TOPIC_SYSTEM, topic.value, TOPIC_DISPLAYS[topic]))


def override_reasons(*reasons: OverrideReason) -> list[Json]:
    """Offer these reasons for dismissing a card, as Codings a client can display."""
    return [coding(OVERRIDE_REASON_SYSTEM, r.code, r.display) for r in reasons]


def literature(*references: Reference) -> list[Json]:
    """Link to these papers."""
    return [link(r.label, r.url) for r in references]
