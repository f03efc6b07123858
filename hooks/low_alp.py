"""The low-ALP rule: which HPP or low-ALP finding an antiresorptive order or an opened chart gets, and how urgent.

One decision for every hook (docs/evidence/alp.md):
- hypophosphatasia on record (a diagnosis, asfotase alfa) is critical;
- persistently or recurrently low ALP with an elevated ALP substrate (PLP, phosphoethanolamine) is critical;
- lows all drawn on antiresorptive therapy after a normal pre-treatment ALP are expected: info;
- lows confined to one inpatient or emergency stay are repeated after recovery: info;
- persistently low ALP is a warning, unless the HPP work-up is complete and normal (info);
- recurrently low ALP alone (not most months, or a clearly normal value since) is info; one low is info;
- beside the Wilson pattern in acute liver failure, a low-ALP finding drops to info and names Wilson disease,
  unless it rests on HPP on record or a raised substrate.
The order hooks ask `finding_for_order` per antiresorptive ordered; patient-view asks `findings_for_chart`.
"""

from __future__ import annotations

import dataclasses
from datetime import date

from hooks.alp import completed_years
from hooks.evidence import Evidence
from hooks.findings import Caveat, Check, Criterion, Finding, Indicator, Measurement, Note, Pattern, Topic
from hooks.medications import antiresorptive_ingredients
from hooks.policy import Policy
from hooks.records import MedicationOrder
from hooks.substrates import workup_complete
from hooks.therapy import in_use, shows_use

_LOW_PATTERNS = (Pattern.PERSISTENT, Pattern.RECURRENT)


def finding_for_order(order: MedicationOrder, evidence: Evidence, today: date, policy: Policy) -> Finding | None:
    """Return the HPP or low-ALP finding for one antiresorptive order, or None."""
    drugs = antiresorptive_ingredients(order)
    base = _base(evidence, drugs, order, today, policy)
    base = dataclasses.replace(base, continuing=any(given_before(evidence, drug, order) for drug in drugs))
    if evidence.hpp:
        return dataclasses.replace(
            base, topic=Topic.HPP_ANTIRESORPTIVE, indicator=Indicator.CRITICAL, hpp_evidence=evidence.hpp, alp=None
        )
    pattern = evidence.alp.pattern
    if pattern is Pattern.SINGLE_LOW:
        if evidence.alp.acute_stay is not None:
            return dataclasses.replace(base, topic=Topic.LOW_ALP_ACUTE_ILLNESS, indicator=Indicator.INFO)
        return dataclasses.replace(base, topic=Topic.SINGLE_LOW_ALP_ANTIRESORPTIVE, indicator=Indicator.INFO)
    if pattern in _LOW_PATTERNS:
        return low_alp_finding(base, evidence)
    return None


def findings_for_chart(evidence: Evidence, today: date, policy: Policy) -> list[Finding]:
    """Return the HPP and low-ALP findings of a chart being opened."""
    if not evidence.knows("medications"):
        return []  # whether an antiresorptive is in use decides every finding below
    therapies = tuple(in_use(evidence.therapies, today))
    drugs = tuple(dict.fromkeys(t.ingredient for t in therapies))
    base = dataclasses.replace(
        _base(evidence, drugs, None, today, policy), therapies=therapies, continuing=bool(therapies)
    )
    pattern = evidence.alp.pattern
    if therapies:
        if evidence.hpp:
            return [
                dataclasses.replace(
                    base,
                    topic=Topic.HPP_ANTIRESORPTIVE,
                    indicator=Indicator.CRITICAL,
                    hpp_evidence=evidence.hpp,
                    alp=None,
                )
            ]
        if pattern in _LOW_PATTERNS:
            return [low_alp_finding(base, evidence)]
        return []
    # "Not on record" and "not worked up" are claims: they need the conditions and the work-up results.
    if pattern is not Pattern.PERSISTENT or evidence.hpp or not evidence.knows("conditions", "hppWorkup"):
        return []
    if evidence.substrates:
        return [
            dataclasses.replace(
                base,
                topic=Topic.HPP_LIKELY,
                indicator=Indicator.WARNING,
                measurements=evidence.substrates,
                checks=substrate_checks(evidence.substrates),
            )
        ]
    if evidence.alp.explained_by_therapy:
        return [dataclasses.replace(base, topic=Topic.LOW_ALP_ON_THERAPY, indicator=Indicator.INFO)]
    if not evidence.workup_on_file:
        return [dataclasses.replace(base, topic=Topic.LOW_ALP_UNEVALUATED, indicator=Indicator.INFO)]
    return []


def low_alp_finding(base: Finding, evidence: Evidence) -> Finding:
    """Grade a persistently or recurrently low ALP for an antiresorptive ordered or in use."""
    alp = evidence.alp
    substrates = evidence.substrates
    if substrates:
        # An elevated substrate is not explained by therapy or acute illness: HPP is likely.
        return dataclasses.replace(
            base,
            topic=Topic.LOW_ALP_ANTIRESORPTIVE,
            indicator=Indicator.CRITICAL,
            measurements=substrates,
            checks=substrate_checks(substrates),
        )
    if alp.explained_by_therapy:
        return dataclasses.replace(base, topic=Topic.LOW_ALP_ON_THERAPY, indicator=Indicator.INFO)
    if alp.acute_stay is not None:
        return dataclasses.replace(base, topic=Topic.LOW_ALP_ACUTE_ILLNESS, indicator=Indicator.INFO)
    complete = workup_complete(evidence.normal_workup)
    warning = alp.pattern is Pattern.PERSISTENT and not complete
    return dataclasses.replace(
        base, topic=Topic.LOW_ALP_ANTIRESORPTIVE, indicator=Indicator.WARNING if warning else Indicator.INFO
    )


def _base(
    evidence: Evidence, drugs: tuple[str, ...], order: MedicationOrder | None, today: date, policy: Policy
) -> Finding:
    """Return the evidence every HPP and low-ALP finding carries; the topic and indicator are set by the rule."""
    born = evidence.patient.birth_date
    paediatric = born is not None and completed_years(born, today) < policy.adult_age_years
    alp = evidence.alp
    variant_figure = (
        not paediatric
        and alp.pattern is Pattern.PERSISTENT
        and not evidence.secondary_causes
        and not alp.explained_by_therapy
        and alp.later_normal is None
        and not any(r.clearly_normal for r in alp.results)
    )
    return Finding(
        Topic.LOW_ALP_ANTIRESORPTIVE,
        Indicator.INFO,
        evidence.patient.id,
        drugs,
        order,
        alp,
        caveats=unchecked(evidence),
        prior_denosumab=given_before(evidence, "denosumab", order),
        therapies=tuple(t for t in in_use(evidence.therapies, today) if t.ingredient in drugs),
        normal_workup=evidence.normal_workup,
        tests_done=evidence.tests_done,
        secondary_causes=evidence.secondary_causes,
        paediatric=paediatric,
        variant_figure_applies=variant_figure,
    )


def given_before(evidence: Evidence, ingredient: str, order: MedicationOrder | None) -> bool:
    """Tell whether any record other than the order shows the drug given or taken, dated or not."""
    return any(
        shows_use(record)
        and ingredient in antiresorptive_ingredients(record)
        and not (order is not None and order.id and record.id == order.id)
        for record in evidence.medications
    )


# The data that could have made a low-ALP finding more severe, had it been read.
_SEVERITY_KEYS = ("conditions", "medications", "hppWorkup")
# Low ALP read as hypophosphatasia; Wilson disease in liver failure explains it better.
_LOW_ALP_TOPICS = frozenset({Topic.LOW_ALP_ANTIRESORPTIVE, Topic.LOW_ALP_UNEVALUATED, Topic.LOW_ALP_ON_THERAPY})


def unchecked(evidence: Evidence) -> tuple[Note, ...]:
    """Name what could not be read in time, since it could have made the finding more severe."""
    missing = tuple(key for key in _SEVERITY_KEYS if not evidence.knows(key))
    return (Note(Caveat.NOT_CHECKED, subjects=missing),) if missing else ()


def substrate_checks(substrates: tuple[Measurement, ...]) -> tuple[Criterion, ...]:
    """Return one criterion per elevated ALP substrate."""
    return tuple(Criterion(Check.SUBSTRATE_HIGH, m.value, measurement=m) for m in substrates)


def defer_to_wilson(finding: Finding) -> Finding:
    """Drop a low-ALP finding to info and name Wilson disease; a critical finding keeps its urgency."""
    if finding.topic not in _LOW_ALP_TOPICS:
        return finding  # an HPP diagnosis, or a raised substrate (hpp-likely), is not explained by liver failure
    # A critical low-ALP finding rests on an elevated substrate too, which liver failure does not explain.
    indicator = finding.indicator if finding.indicator is Indicator.CRITICAL else Indicator.INFO
    return dataclasses.replace(finding, indicator=indicator, caveats=(*finding.caveats, Note(Caveat.WILSON_LIKELIER)))
