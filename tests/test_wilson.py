"""The Wilson disease check in acute liver failure: the gate, the set, the units and every threshold."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from cards.wording import claim, criteria_lines, note_lines
from hooks.findings import Caveat, Check, Finding, Indicator, Measurement, Topic
from hooks.policy import Policy, PolicyError, policy_from_overrides
from hooks.records import Code, ConditionRecord, LabResult, PatientFacts, Quantity, Unreadable
from hooks.valuesets import ICD10CM, SNOMED
from hooks.wilson import check_wilson_pattern

TODAY = date(2026, 11, 24)
DAY = date(2026, 11, 23)
ADULT = PatientFacts("pat-1", date(1996, 5, 1), "female")
POLICY = Policy()
UTC = UTC
MORNING = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

ALP, BILIRUBIN, BILIRUBIN_SI, AST, ALT, INR = "6768-6", "1975-2", "14631-6", "1920-8", "1742-6", "6301-6"


def lab(
    loinc: str,
    value: str | float,
    unit: str | None = "U/L",
    *,
    day: date = DAY,
    at: datetime | None = None,
    status: str = "final",
    comparator: str | None = None,
    absent: bool = False,
) -> LabResult:
    """Return a LabResult; `at` sets the specimen instant (and its date)."""
    when = at.date() if at else day
    quantity = Quantity(Decimal(str(value)), unit, comparator)
    return LabResult(f"{loinc}-{when}", loinc, status, when, quantity, has_data_absent_reason=absent, instant=at)


def inr(value: str | float = "3.1", unit: str | None = "{INR}", **kwargs) -> LabResult:
    return lab(INR, value, unit, **kwargs)


def panel(
    alp="20",
    tb="12",
    ast="180",
    alt="60",
    *,
    tb_unit="mg/dL",
    tb_loinc=BILIRUBIN,
    day: date = DAY,
    at: datetime | None = None,
) -> list[LabResult]:
    """Return ALP, total bilirubin, AST and ALT drawn together (a classic Wilson ALF pattern by default)."""
    return [
        lab(ALP, alp, day=day, at=at),
        lab(tb_loinc, tb, tb_unit, day=day, at=at),
        lab(AST, ast, day=day, at=at),
        lab(ALT, alt, day=day, at=at),
    ]


def check(labs, conditions=(), unreadable=(), patient=ADULT, policy=POLICY, today=TODAY) -> Finding | None:
    return check_wilson_pattern(labs, conditions, unreadable, patient, today, policy)


def indicator(labs, **kwargs) -> Indicator | None:
    finding = check(labs, **kwargs)
    return finding.indicator if finding else None


def korman(finding: Finding) -> tuple[str, ...]:
    """Return the criteria after the acute liver failure picture, which always comes first."""
    assert criteria_lines(finding)[0].startswith("Acute liver failure picture: ")
    return criteria_lines(finding)[1:]


def measured(finding: Finding, label: str) -> Measurement:
    return next(m for m in finding.measurements if m.label == label)


# --- the pattern -------------------------------------------------------------------------------------------


def met_criteria(finding):
    """Return the claims of the ratio and very-low-ALP criteria the finding met, as the card words them."""
    judged = (Check.ALP_BILIRUBIN_RATIO, Check.AST_ALT_RATIO, Check.VERY_LOW_ALP)
    return tuple(claim(c) for c in finding.checks if c.what in judged and c.met)


def test_korman_case_is_critical_with_both_criteria_stated():
    finding = check([inr(), *panel()])
    assert finding is not None
    assert (finding.topic, finding.indicator, finding.patient_id) == (Topic.WILSON_ALF, Indicator.CRITICAL, "pat-1")
    assert korman(finding) == ("ALP/bilirubin 1.7 < 4: met", "AST/ALT 3.0 > 2.2: met")
    assert met_criteria(finding) == ("ALP/bilirubin 1.7 < 4", "AST/ALT 3.0 > 2.2")


def test_the_finding_carries_inr_and_the_set_in_the_units_compared():
    finding = check([inr(), *panel()])
    assert [(m.label, m.loinc, m.value, m.unit, m.effective) for m in finding.measurements] == [
        ("INR", INR, Decimal("3.1"), "", DAY),
        ("ALP", ALP, Decimal(20), "U/L", DAY),
        ("Total bilirubin", BILIRUBIN, Decimal(12), "mg/dL", DAY),
        ("AST", AST, Decimal(180), "U/L", DAY),
        ("ALT", ALT, Decimal(60), "U/L", DAY),
    ]
    assert measured(finding, "INR").limit == "≥ 1.5"


def test_one_criterion_is_a_warning_and_says_which():
    only_ast_alt = check([inr(), *panel(alp="100", tb="2")])
    only_alp_tb = check([inr(), *panel(ast="60", alt="60")])
    assert only_ast_alt.indicator is only_alp_tb.indicator is Indicator.WARNING
    assert met_criteria(only_ast_alt) == ("AST/ALT 3.0 > 2.2",)
    assert korman(only_ast_alt)[0] == "ALP/bilirubin 50.0 < 4: not met"
    assert met_criteria(only_alp_tb) == ("ALP/bilirubin 1.7 < 4",)


def test_neither_criterion_nor_a_low_alp_gives_nothing():
    assert check([inr(), *panel(alp="120", tb="2", ast="60", alt="60")]) is None


# --- thresholds, both sides ---------------------------------------------------------------------------------


@pytest.mark.parametrize("alp, expected", [("48", None), ("47.88", Indicator.WARNING)])
def test_alp_bilirubin_must_be_strictly_below_4(alp, expected):
    # 48 / 12 = 4 exactly; 47.88 / 12 = 3.99. AST/ALT 1 and ALP above 40 keep the other criteria out.
    assert indicator([inr(), *panel(alp=alp, ast="60", alt="60")]) is expected


@pytest.mark.parametrize("ast, expected", [("132", None), ("132.6", Indicator.WARNING)])
def test_ast_alt_must_be_strictly_above_2_2(ast, expected):
    # 132 / 60 = 2.2 exactly; 132.6 / 60 = 2.21. ALP/bilirubin 60 is far from 4.
    assert indicator([inr(), *panel(alp="120", tb="2", ast=ast)]) is expected


@pytest.mark.parametrize("alp, expected", [("40", Indicator.INFO), ("40.1", None)])
def test_neither_ratio_but_alp_at_most_40_is_info(alp, expected):
    # AST = ALT = 150: injured liver (≥ 120), ratio 1.0; ALP/bilirubin ≥ 4.
    assert indicator([inr(), *panel(alp=alp, tb="1", ast="150", alt="150")]) is expected


def test_the_info_finding_states_the_low_alp_criterion():
    finding = check([inr(), *panel(alp="32", tb="1", ast="150", alt="150")])
    assert korman(finding) == (
        "ALP/bilirubin 32.0 < 4: not met",
        "AST/ALT 1.0 > 2.2: not met",
        "ALP 32 U/L ≤ 40 U/L: met",
    )
    assert met_criteria(finding) == ("ALP 32 U/L ≤ 40 U/L",)


def test_thresholds_come_from_the_policy():
    lenient = dataclasses.replace(
        POLICY,
        wilson_alp_bilirubin_ratio_max=Decimal(2),
        wilson_ast_alt_ratio_min=Decimal(4),
        wilson_low_alp_u_per_l=Decimal(10),
    )
    finding = check([inr(), *panel()], policy=lenient)
    assert finding.indicator is Indicator.WARNING
    assert korman(finding) == ("ALP/bilirubin 1.7 < 2: met", "AST/ALT 3.0 > 4: not met")


# --- the acute liver failure gate ---------------------------------------------------------------------------


@pytest.mark.parametrize("value, fires", [("1.49", False), ("1.5", True)])
def test_inr_gate_is_at_least_1_5(value, fires):
    assert (check([inr(value), *panel()]) is not None) is fires


def test_without_an_inr_the_pattern_alone_gives_nothing():
    assert check(panel()) is None


@pytest.mark.parametrize(
    "day, fires",
    [
        (TODAY - timedelta(days=7), True),
        (TODAY - timedelta(days=8), False),
        (TODAY + timedelta(days=1), True),  # the lab's date may run a day ahead of the server's
        (TODAY + timedelta(days=2), False),
    ],
)
def test_inr_must_be_within_7_days_of_today(day, fires):
    assert (check([inr(day=day), *panel()]) is not None) is fires


def test_inr_window_comes_from_the_policy():
    shorter = dataclasses.replace(POLICY, wilson_inr_window_days=3)
    assert check([inr(day=TODAY - timedelta(days=4)), *panel()], policy=shorter) is None
    assert check([inr(day=TODAY - timedelta(days=3)), *panel()], policy=shorter) is not None


@pytest.mark.parametrize(
    "status, fires",
    [
        ("final", True),
        ("amended", True),
        ("corrected", True),
        ("preliminary", False),
        ("registered", False),
        ("entered-in-error", False),
        ("cancelled", False),
    ],
)
def test_only_a_trusted_inr_opens_the_gate(status, fires):
    assert (check([inr(status=status), *panel()]) is not None) is fires


def test_an_inr_with_a_data_absent_reason_does_not_open_the_gate():
    assert check([inr(absent=True), *panel()]) is None


@pytest.mark.parametrize(
    "unit, fires", [(None, True), ("{INR}", True), ("{ratio}", True), ("1", True), ("s", False), ("%", False)]
)
def test_inr_unit_must_be_a_ratio(unit, fires):
    assert (check([inr(unit=unit), *panel()]) is not None) is fires


@pytest.mark.parametrize(
    "comparator, value, fires", [(">", "10", True), (">=", "1.5", True), ("<", "2", False), (">", "1.4", False)]
)
def test_inr_comparator_counts_only_when_surely_at_least_1_5(comparator, value, fires):
    assert (check([inr(value, comparator=comparator), *panel()]) is not None) is fires


def test_the_most_recent_gating_inr_is_shown():
    finding = check(
        [
            inr("2.4", day=TODAY - timedelta(days=5)),
            inr("3.6", day=TODAY - timedelta(days=1)),
            inr("1.2", day=TODAY),
            *panel(),
        ]
    )
    assert (measured(finding, "INR").value, measured(finding, "INR").effective) == (Decimal("3.6"), DAY)


def test_second_inr_code_is_accepted():
    assert check([lab("34714-6", "2", None), *panel()]) is not None


# --- units: the bilirubin trap ------------------------------------------------------------------------------


@pytest.mark.parametrize("unit", ["umol/L", "µmol/L", "μmol/L"])
def test_205_umol_per_l_gives_the_same_verdict_as_12_mg_per_dl(unit):
    si = check([inr(), *panel(tb="205", tb_unit=unit, tb_loinc=BILIRUBIN_SI)])
    conventional = check([inr(), *panel(tb="12")])
    assert si.indicator is conventional.indicator is Indicator.CRITICAL
    assert korman(si) == korman(conventional)
    assert measured(si, "Total bilirubin").value == Decimal("11.99")
    assert measured(si, "Total bilirubin").unit == "mg/dL"


def test_umol_per_l_is_never_used_in_the_ratio():
    # ALP 100 / 25.65 would be 3.9 (< 4, falsely met); in mg/dL it is 100 / 1.5 = 66.7 (not met).
    finding = check([inr(), *panel(alp="100", tb="25.65", tb_unit="umol/L")])
    assert finding.indicator is Indicator.WARNING
    assert korman(finding)[0] == "ALP/bilirubin 66.7 < 4: not met"


def test_a_converted_bilirubin_is_noted():
    finding = check([inr(), *panel(tb="205", tb_unit="umol/L")])
    assert "Total bilirubin 205 µmol/L was converted to 11.99 mg/dL (÷ 17.1)" in note_lines(finding)[0]
    assert not any("converted" in n for n in note_lines(check([inr(), *panel()])))


def test_activities_in_ukat_per_l_are_converted_to_u_per_l():
    labs = [
        inr(),
        lab(ALP, "0.3333", "ukat/L"),
        lab(BILIRUBIN, "12", "mg/dL"),
        lab(AST, "3", "ukat/L"),
        lab(ALT, "1", "ukat/L"),
    ]
    finding = check(labs)
    assert finding.indicator is Indicator.CRITICAL
    assert measured(finding, "AST").value == Decimal(180)


@pytest.mark.parametrize(
    "loinc, unit", [(ALP, "mg/dL"), (BILIRUBIN, "g/L"), (BILIRUBIN, None), (AST, "mmol/L"), (ALT, "")]
)
def test_a_result_in_an_unknown_unit_is_left_out(loinc, unit):
    labs = [
        r if r.loinc != loinc else dataclasses.replace(r, quantity=Quantity(r.quantity.value, unit)) for r in panel()
    ]
    assert check([inr(), *labs]) is None


def test_a_result_in_an_unknown_unit_gives_way_to_a_usable_one():
    labs = [inr(), *panel(), lab(BILIRUBIN, "999", "g/L", at=MORNING)]
    assert measured(check(labs), "Total bilirubin").value == Decimal(12)


@pytest.mark.parametrize("loinc", [BILIRUBIN, ALT])
def test_a_zero_divisor_leaves_no_set(loinc):
    labs = [
        r if r.loinc != loinc else dataclasses.replace(r, quantity=Quantity(Decimal(0), r.quantity.unit))
        for r in panel()
    ]
    assert check([inr(), *labs]) is None


def test_a_value_with_a_comparator_is_left_out():
    labs = [
        r if r.loinc != ALP else dataclasses.replace(r, quantity=Quantity(Decimal(10), "U/L", "<")) for r in panel()
    ]
    assert check([inr(), *labs]) is None


# --- statuses of the set ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["preliminary", "entered-in-error", "registered"])
@pytest.mark.parametrize("loinc", [ALP, BILIRUBIN, AST, ALT])
def test_an_untrusted_result_is_left_out_of_the_set(loinc, status):
    labs = [r if r.loinc != loinc else dataclasses.replace(r, status=status) for r in panel()]
    assert check([inr(), *labs]) is None


@pytest.mark.parametrize("status", ["amended", "corrected"])
def test_amended_and_corrected_results_are_trusted(status):
    labs = [dataclasses.replace(r, status=status) for r in panel()]
    assert check([inr(), *labs]) is not None


def test_a_result_with_a_data_absent_reason_is_left_out():
    labs = [r if r.loinc != AST else dataclasses.replace(r, has_data_absent_reason=True) for r in panel()]
    assert check([inr(), *labs]) is None


def test_an_untrusted_newer_set_gives_way_to_the_trusted_older_one():
    newer = [dataclasses.replace(r, status="preliminary") for r in panel(alp="120", tb="2", ast="60", day=DAY)]
    older = panel(day=DAY - timedelta(days=3))
    finding = check([inr(), *newer, *older])
    assert measured(finding, "ALP").value == Decimal(20)


# --- the 48-hour window -------------------------------------------------------------------------------------


def spread_apart(hours: float, *, instant_on_all: bool = True) -> list[LabResult]:
    """Return a set with ALP drawn `hours` after the other three, at 08:00 on 21 November."""
    start = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    others = [r for r in panel(at=start) if r.loinc != ALP]
    if not instant_on_all:
        others[0] = dataclasses.replace(others[0], instant=None)
    return [lab(ALP, "20", at=start + timedelta(hours=hours)), *others]


@pytest.mark.parametrize("gap, fires", [(timedelta(hours=48), True), (timedelta(hours=48, seconds=1), False)])
def test_with_instants_the_set_must_be_within_48_hours(gap, fires):
    start = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    labs = [lab(ALP, "20", at=start + gap), *[r for r in panel(at=start) if r.loinc != ALP]]
    assert (check([inr(), *labs]) is not None) is fires


def test_instants_in_other_time_zones_are_compared_as_instants():
    start = datetime(2026, 11, 21, 23, 0, tzinfo=UTC)
    tokyo = timezone(timedelta(hours=9))
    late = (start + timedelta(hours=47)).astimezone(tokyo)  # 23 November 07:00 in Tokyo, 22:00 UTC
    labs = [lab(ALP, "20", at=late), *[r for r in panel(at=start) if r.loinc != ALP]]
    assert check([inr(), *labs]) is not None


@pytest.mark.parametrize("days, fires", [(0, True), (1, True), (2, False)])
def test_with_dates_only_the_set_must_be_at_most_one_day_apart(days, fires):
    labs = [lab(ALP, "20", day=DAY), *[r for r in panel(day=DAY - timedelta(days=days)) if r.loinc != ALP]]
    assert (check([inr(), *labs]) is not None) is fires


def test_one_result_without_a_time_makes_the_whole_set_compared_by_date():
    # 47 h apart by instants, but two calendar days apart, and one result has only its date.
    assert check([inr(), *spread_apart(47)]) is not None
    assert check([inr(), *spread_apart(47, instant_on_all=False)]) is None


def test_a_narrower_window_never_accepts_dates_that_could_be_further_apart():
    narrow = dataclasses.replace(POLICY, wilson_pair_window_hours=12)
    assert check([inr(), *panel(day=DAY)], policy=narrow) is None
    assert check([inr(), *spread_apart(11)], policy=narrow) is not None
    assert check([inr(), *spread_apart(13)], policy=narrow) is None


def test_a_wider_window_accepts_dates_further_apart():
    wide = dataclasses.replace(POLICY, wilson_pair_window_hours=72)
    labs = [lab(ALP, "20", day=DAY), *[r for r in panel(day=DAY - timedelta(days=2)) if r.loinc != ALP]]
    assert check([inr(), *labs], policy=wide) is not None


# --- choosing the set ---------------------------------------------------------------------------------------


def test_the_most_recent_complete_set_is_used():
    older = panel(day=DAY - timedelta(days=10))
    newer = panel(alp="120", tb="2", ast="60", day=DAY)
    assert check([inr(), *older, *newer]) is None  # the newer set shows no pattern
    assert check([inr(), *panel(alp="120", tb="2", ast="60", day=DAY - timedelta(days=10)), *panel()]) is not None


def test_a_newest_alp_without_partners_gives_way_to_an_older_complete_set():
    lonely = lab(ALP, "300", day=DAY)
    older = panel(day=DAY - timedelta(days=4))
    finding = check([inr(), lonely, *older])
    assert measured(finding, "ALP").value == Decimal(20)


def test_for_each_analyte_the_result_nearest_the_alp_is_taken():
    alp_time = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    labs = [
        inr(),
        lab(ALP, "20", at=alp_time),
        lab(BILIRUBIN, "12", "mg/dL", at=alp_time - timedelta(hours=2)),
        lab(BILIRUBIN, "3", "mg/dL", at=alp_time + timedelta(hours=11)),  # newer, same day, but further away
        lab(AST, "180", at=alp_time),
        lab(ALT, "60", at=alp_time),
    ]
    assert measured(check(labs), "Total bilirubin").value == Decimal(12)


def test_equally_near_results_resolve_to_the_newer():
    alp_time = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    labs = [
        inr(),
        *[r for r in panel(at=alp_time) if r.loinc != ALT],
        lab(ALT, "90", at=alp_time - timedelta(hours=3)),
        lab(ALT, "60", at=alp_time + timedelta(hours=3)),
    ]
    assert measured(check(labs), "ALT").value == Decimal(60)


# --- Wilson disease on record -------------------------------------------------------------------------------


def condition(system: str, code: str, status: str | None = "confirmed") -> ConditionRecord:
    return ConditionRecord("c1", (Code(system, code),), ("Wilson disease",), status)


@pytest.mark.parametrize("system, code", [(SNOMED, "88518009"), (ICD10CM, "E83.01")])
@pytest.mark.parametrize("status", ["confirmed", "provisional", "unconfirmed", "differential", None])
def test_wilson_disease_on_record_suppresses_the_check(system, code, status):
    assert check([inr(), *panel()], conditions=[condition(system, code, status)]) is None


@pytest.mark.parametrize("status", ["refuted", "entered-in-error"])
def test_a_refuted_or_erroneous_wilson_diagnosis_does_not_suppress(status):
    assert check([inr(), *panel()], conditions=[condition(SNOMED, "88518009", status)]) is not None


@pytest.mark.parametrize(
    "system, code", [(ICD10CM, "88518009"), (SNOMED, "E83.01"), (ICD10CM, "E83.0"), (SNOMED, "360792001")]
)
def test_other_codes_or_systems_do_not_suppress(system, code):
    assert check([inr(), *panel()], conditions=[condition(system, code)]) is not None


def test_an_unreadable_wilson_condition_suppresses():
    unreadable = Unreadable("Condition", "c2", "failed validation", (Code(ICD10CM, "E83.01"),))
    assert check([inr(), *panel()], unreadable=[unreadable]) is None


def test_an_unreadable_condition_with_a_legible_refuted_status_does_not_suppress():
    unreadable = Unreadable("Condition", "c2", "failed validation", (Code(SNOMED, "88518009"),), status="refuted")
    assert check([inr(), *panel()], unreadable=[unreadable]) is not None


def test_an_unreadable_condition_with_another_code_does_not_suppress():
    unreadable = Unreadable("Condition", "c2", "failed validation", (Code(SNOMED, "360792001"),))
    assert check([inr(), *panel()], unreadable=[unreadable]) is not None


# --- notes --------------------------------------------------------------------------------------------------

CERULOPLASMIN = "Ceruloplasmin is unreliable in acute liver failure"


def test_every_finding_notes_that_ceruloplasmin_is_unreliable():
    for labs in ([inr(), *panel()], [inr(), *panel(alp="32", tb="1", ast="150", alt="150")]):
        assert any(n.startswith(CERULOPLASMIN) for n in note_lines(check(labs)))


def test_a_child_gets_the_paediatric_note():
    child = PatientFacts("pat-2", date(2014, 3, 1), "male")
    notes = note_lines(check([inr(), *panel()], patient=child))
    child_notes = [n for n in notes if n.startswith("Under 18")]
    assert len(child_notes) == 1
    assert "sensitivity 32.5%" in child_notes[0]
    assert "AST/ALT cut-off of 1.85 has been proposed (this patient: 3.0)" in child_notes[0]


@pytest.mark.parametrize("birth, child", [(date(2008, 11, 24), True), (date(2008, 11, 23), False)])
def test_the_paediatric_note_depends_on_age_when_the_set_was_drawn(birth, child):
    patient = PatientFacts("pat-2", birth, "female")
    notes = note_lines(check([inr(), *panel(day=DAY)], patient=patient))
    assert any(n.startswith("Under 18") for n in notes) is child


@pytest.mark.parametrize("patient", [ADULT, PatientFacts("pat-3")])
def test_adults_and_unknown_ages_get_no_paediatric_note(patient):
    assert not any(n.startswith("Under") for n in note_lines(check([inr(), *panel()], patient=patient)))


# --- ratio text ---------------------------------------------------------------------------------------------


def test_results_without_a_specimen_date_are_left_out():
    undated_inr = dataclasses.replace(inr(), effective=None)
    assert check([undated_inr, *panel()]) is None
    undated_alt = [r if r.loinc != ALT else dataclasses.replace(r, effective=None) for r in panel()]
    assert check([inr(), *undated_alt]) is None


def test_a_panel_from_an_earlier_episode_does_not_count_with_a_current_inr():
    # A raised INR today (warfarin, say) and a Wilson-like panel drawn weeks ago: not this liver failure.
    labs = [inr(day=TODAY), *panel(day=date(2026, 10, 1))]
    assert check_wilson_pattern(labs, [], [], ADULT, TODAY, POLICY) is None
    assert check_wilson_pattern([inr(day=TODAY), *panel(day=TODAY)], [], [], ADULT, TODAY, POLICY) is not None


# --- an INR alone is not liver failure -------------------------------------------------------------------


def test_a_raised_inr_with_a_quiet_liver_is_not_acute_liver_failure():
    # Warfarin: INR 2.5, bilirubin 0.6 mg/dL, AST 22, ALT 9 (AST/ALT 2.4 would otherwise meet a criterion).
    assert check([inr("2.5"), *panel(alp="38", tb="0.6", ast="22", alt="9")]) is None


@pytest.mark.parametrize(
    "tb, ast, alt, fires",
    [
        ("2.99", "119", "60", False),
        ("3", "119", "60", True),
        ("2.99", "120", "40", True),
        ("2.99", "60", "120", True),
    ],
)
def test_liver_injury_is_bilirubin_of_3_or_an_aminotransferase_of_120(tb, ast, alt, fires):
    assert (check([inr(), *panel(alp="20", tb=tb, ast=ast, alt=alt)]) is not None) is fires


# --- the acute liver failure picture on the finding ---------------------------------------------------------


def test_the_picture_names_the_inr_and_every_injury_found():
    both = check([inr(), *panel()])
    assert criteria_lines(both)[0] == (
        "Acute liver failure picture: INR 3.1 ≥ 1.5 with total bilirubin 12 mg/dL ≥ 3 mg/dL and AST 180 U/L"
        " ≥ 120 U/L, all within the last 7 days, and no current chronic or alcohol-related liver disease on record"
    )
    bilirubin_only = check([inr(), *panel(ast="100", alt="40")])
    assert "with total bilirubin 12 mg/dL ≥ 3 mg/dL, all within" in criteria_lines(bilirubin_only)[0]
    alt_only = check([inr(), *panel(alp="30", tb="2", ast="130", alt="400")])
    assert "with ALT 400 U/L ≥ 120 U/L, all within" in criteria_lines(alt_only)[0]


def test_the_picture_is_not_a_met_criterion_of_the_summary():
    assert all(not c.startswith("Acute liver failure") for c in met_criteria(check([inr(), *panel()])))


# --- chronic or alcohol-related liver disease on record -----------------------------------------------------

LONG_AGO = date(2015, 6, 1)


def liver_condition(
    system: str = SNOMED,
    code: str = "19943007",
    name: str = "",
    *,
    verification: str | None = "confirmed",
    clinical: str | None = "active",
    onset: date | None = None,
    recorded: date | None = LONG_AGO,
) -> ConditionRecord:
    return ConditionRecord(
        "c-liver", (Code(system, code),), (name,) if name else (), verification, clinical, onset, recorded
    )


@pytest.mark.parametrize(
    "system, code",
    [
        (SNOMED, "19943007"),  # cirrhosis of liver
        (SNOMED, "328383001"),  # chronic liver disease
        (SNOMED, "76783007"),  # chronic hepatitis
        (SNOMED, "41309000"),  # alcoholic liver damage
        (SNOMED, "420054005"),  # alcoholic cirrhosis
        (ICD10CM, "K74.60"),
        (ICD10CM, "K7460"),
        (ICD10CM, "K74.0"),
        (ICD10CM, "K74.3"),
        (ICD10CM, "K74"),
        (ICD10CM, "K70.30"),
        (ICD10CM, "K70.0"),
        (ICD10CM, "k70.9"),
        (ICD10CM, "K72.10"),
        (ICD10CM, "K72.11"),
        (ICD10CM, "K73.9"),
    ],
)
def test_chronic_or_alcoholic_liver_disease_on_record_gives_no_card(system, code):
    assert check([inr(), *panel()], conditions=[liver_condition(system, code)]) is None


@pytest.mark.parametrize(
    "system, code",
    [
        (ICD10CM, "K72.00"),  # acute and subacute hepatic failure: the illness itself
        (ICD10CM, "K72.90"),  # hepatic failure, unspecified
        (ICD10CM, "K71.6"),  # toxic liver disease
        (ICD10CM, "K75.4"),  # autoimmune hepatitis: may present as acute liver failure
        (ICD10CM, "K7"),
        (ICD10CM, ""),
        (SNOMED, "197321007"),  # steatosis of liver, not chronic hepatitis
        (SNOMED, "K74.60"),
        ("http://example.org/local", "19943007"),
    ],
)
def test_other_liver_codes_do_not_suppress(system, code):
    assert indicator([inr(), *panel()], conditions=[liver_condition(system, code)]) is Indicator.CRITICAL


@pytest.mark.parametrize(
    "name",
    [
        "Cirrhosis of liver",
        "Chronic liver disease",
        "Alcohol-related liver disease",
        "ALCOHOLIC LIVER DISEASE",
        "Chronic hepatitis C",
        "Alcohol-associated liver disease",
    ],
)
def test_a_locally_coded_condition_is_matched_by_its_text(name):
    local = liver_condition("http://example.org/local", "L-123", name)
    assert check([inr(), *panel()], conditions=[local]) is None


@pytest.mark.parametrize("name", ["Acute liver failure", "Acute hepatitis A", "Paracetamol overdose"])
def test_other_texts_do_not_suppress(name):
    local = liver_condition("http://example.org/local", "L-123", name)
    assert indicator([inr(), *panel()], conditions=[local]) is Indicator.CRITICAL


@pytest.mark.parametrize("verification", ["refuted", "entered-in-error"])
def test_a_refuted_or_erroneous_chronic_diagnosis_does_not_suppress(verification):
    assert indicator([inr(), *panel()], conditions=[liver_condition(verification=verification)]) is Indicator.CRITICAL


@pytest.mark.parametrize("verification", ["confirmed", "unconfirmed", "provisional", "differential", None])
def test_any_other_verification_status_suppresses(verification):
    assert check([inr(), *panel()], conditions=[liver_condition(verification=verification)]) is None


@pytest.mark.parametrize("clinical", ["active", "recurrence", "relapse", None, "unexpected"])
def test_a_current_or_status_less_chronic_disease_suppresses(clinical):
    assert check([inr(), *panel()], conditions=[liver_condition(clinical=clinical)]) is None


@pytest.mark.parametrize("clinical", ["inactive", "remission", "resolved"])
def test_a_past_chronic_disease_does_not_suppress_and_is_noted(clinical):
    finding = check([inr(), *panel()], conditions=[liver_condition(ICD10CM, "K73.2", clinical=clinical)])
    assert finding.indicator is Indicator.CRITICAL
    assert (
        f"A chronic or alcohol-related liver disease is on record as {clinical}: it was not taken to explain"
        " this picture."
    ) in note_lines(finding)


@pytest.mark.parametrize(
    "first, fires",
    [
        (TODAY - timedelta(weeks=26), True),  # recognised for 26 weeks at most: may be Wilson disease's own cirrhosis
        (TODAY - timedelta(weeks=26, days=1), False),
        (DAY, True),
    ],
)
def test_a_cirrhosis_first_on_record_within_26_weeks_does_not_rule_the_pattern_out(first, fires):
    finding = check([inr(), *panel()], conditions=[liver_condition(recorded=first)])
    assert (finding is not None) is fires
    if fires:
        assert finding.indicator is Indicator.CRITICAL
        assert any(
            n.startswith(
                f"Cirrhosis or chronic liver disease first on record {first.isoformat()}, within 26"
                " weeks: Wilson disease often presents"
            )
            for n in note_lines(finding)
        )


def test_the_earlier_of_onset_and_recorded_date_counts():
    old_onset = liver_condition(onset=LONG_AGO, recorded=DAY)
    recent_onset = liver_condition(onset=DAY, recorded=None)
    assert check([inr(), *panel()], conditions=[old_onset]) is None
    assert indicator([inr(), *panel()], conditions=[recent_onset]) is Indicator.CRITICAL


def test_a_chronic_disease_without_dates_is_taken_as_pre_existing():
    assert check([inr(), *panel()], conditions=[liver_condition(onset=None, recorded=None)]) is None


@pytest.mark.parametrize("code", ["K70.30", "K70.10"])
def test_alcohol_related_liver_disease_suppresses_however_recent(code):
    # Severe alcohol-associated hepatitis is acute-on-chronic liver failure even when recognised for < 26 weeks.
    assert check([inr(), *panel()], conditions=[liver_condition(ICD10CM, code, recorded=DAY)]) is None


def test_the_recency_window_comes_from_the_policy():
    recent = liver_condition(recorded=TODAY - timedelta(weeks=10))
    assert (
        check(
            [inr(), *panel()], conditions=[recent], policy=dataclasses.replace(POLICY, wilson_recent_cirrhosis_weeks=8)
        )
        is None
    )
    assert check([inr(), *panel()], conditions=[recent]) is not None


def test_one_current_chronic_disease_suppresses_among_past_ones():
    past = liver_condition(ICD10CM, "K73.9", clinical="resolved")
    assert check([inr(), *panel()], conditions=[past, liver_condition()]) is None


def test_an_unreadable_chronic_liver_condition_is_noted_but_does_not_suppress():
    unreadable = Unreadable("Condition", "c-bad", "invalid", (Code(ICD10CM, "K74.60"),), status="confirmed")
    finding = check([inr(), *panel()], unreadable=[unreadable])
    assert finding.indicator is Indicator.CRITICAL
    assert any(
        n.startswith("A Condition that could not be read carries a chronic or alcohol-related liver disease")
        for n in note_lines(finding)
    )
    refuted = Unreadable("Condition", "c-bad", "invalid", (Code(ICD10CM, "K74.60"),), status="refuted")
    assert not any("could not be read" in n for n in note_lines(check([inr(), *panel()], unreadable=[refuted])))


# --- age ----------------------------------------------------------------------------------------------------


def born_years_before_the_set(years: int, days: int = 0) -> PatientFacts:
    """Return a patient whose age on the set's date (DAY) is `years`, born `days` later than that birthday."""
    return PatientFacts("pat-age", DAY.replace(year=DAY.year - years) + timedelta(days=days), "female")


@pytest.mark.parametrize(
    "years, days, expected",
    [
        (2, 0, Indicator.WARNING),
        (3, 0, Indicator.CRITICAL),  # 3rd birthday on the day of the set
        (3, 1, Indicator.WARNING),  # 3rd birthday the day after: still 2
        (55, 0, Indicator.CRITICAL),
        (56, 1, Indicator.CRITICAL),  # 56th birthday tomorrow: still 55
        (56, 0, Indicator.WARNING),
        (60, 0, Indicator.WARNING),
        (85, 0, Indicator.WARNING),
    ],
)
def test_outside_ages_3_to_55_the_classic_pattern_is_a_warning(years, days, expected):
    assert indicator([inr(), *panel()], patient=born_years_before_the_set(years, days)) is expected


@pytest.mark.parametrize(
    "years, expected", [(2, Indicator.INFO), (3, Indicator.WARNING), (55, Indicator.WARNING), (56, Indicator.INFO)]
)
def test_outside_ages_3_to_55_one_criterion_is_info(years, expected):
    one = [inr(), *panel(alp="100", tb="2")]
    assert indicator(one, patient=born_years_before_the_set(years)) is expected


@pytest.mark.parametrize("years, fires", [(55, True), (56, False)])
def test_outside_ages_3_to_55_a_low_alp_alone_gives_no_card(years, fires):
    low_alp_only = [inr(), *panel(alp="32", tb="1", ast="150", alt="150")]
    assert (check(low_alp_only, patient=born_years_before_the_set(years)) is not None) is fires


def test_age_is_taken_on_the_day_of_the_set_not_today():
    # 56 today (24 Nov) but 55 when the set was drawn (23 Nov).
    patient = PatientFacts("pat-age", date(1970, 11, 24), "female")
    assert indicator([inr(), *panel()], patient=patient) is Indicator.CRITICAL


def test_unknown_age_changes_nothing():
    assert indicator([inr(), *panel()], patient=PatientFacts("pat-x")) is Indicator.CRITICAL


def test_a_lowered_finding_keeps_its_criteria_and_says_why():
    finding = check([inr(), *panel()], patient=born_years_before_the_set(60))
    assert korman(finding) == ("ALP/bilirubin 1.7 < 4: met", "AST/ALT 3.0 > 2.2: met")
    assert note_lines(finding)[0] == (
        "Age 60, outside 3-55 years, where most Wilson disease presents (AASLD 2008; EASL 2012: mostly 5-35, about"
        " 3% after the fourth decade): this card is one level lower than the pattern alone. Age alone does not"
        " exclude Wilson disease."
    )
    assert not any(n.startswith("Age") for n in note_lines(check([inr(), *panel()])))


def test_a_toddler_gets_the_age_note_and_the_paediatric_note():
    notes = note_lines(check([inr(), *panel()], patient=born_years_before_the_set(2)))
    assert notes[0].startswith("Age 2, outside 3-55 years")
    assert any(n.startswith("Under 18") for n in notes)


def test_the_age_range_comes_from_the_policy():
    wide = dataclasses.replace(POLICY, wilson_typical_age_min_years=0, wilson_typical_age_max_years=70)
    assert indicator([inr(), *panel()], patient=born_years_before_the_set(60), policy=wide) is Indicator.CRITICAL
    assert indicator([inr(), *panel()], patient=born_years_before_the_set(2), policy=wide) is Indicator.CRITICAL


@pytest.mark.parametrize(
    "name, value",
    [
        ("wilson_typical_age_min_years", "-1"),
        ("wilson_typical_age_max_years", "121"),
        ("wilson_recent_cirrhosis_weeks", "521"),
    ],
)
def test_the_new_parameters_are_bounded(name, value):
    with pytest.raises(PolicyError, match=name):
        policy_from_overrides({name: value})


def test_the_criteria_carry_what_was_compared_its_value_limit_and_verdict():
    finding = check([inr(), *panel(ast="100", alt="50")])
    assert finding is not None
    assert [(c.what, c.value, c.limit, c.met) for c in finding.checks] == [
        (Check.INR_HIGH, Decimal("3.1"), POLICY.wilson_inr_min, True),
        (Check.BILIRUBIN_HIGH, Decimal(12), POLICY.wilson_min_bilirubin_mg_per_dl, True),
        (Check.AST_HIGH, Decimal(100), POLICY.wilson_min_aminotransferase_u_per_l, False),
        (Check.ALP_BILIRUBIN_RATIO, Decimal(20) / Decimal(12), POLICY.wilson_alp_bilirubin_ratio_max, True),
        (Check.AST_ALT_RATIO, Decimal(2), POLICY.wilson_ast_alt_ratio_min, False),
    ]
    assert finding.checks[0].days == POLICY.wilson_inr_window_days
    assert [n.caveat for n in finding.caveats] == [Caveat.CERULOPLASMIN_UNRELIABLE]


def test_of_two_gating_inrs_drawn_at_the_same_unknown_time_the_choice_does_not_depend_on_their_order():
    first = dataclasses.replace(inr("3.1"), id="inr-a")
    second = dataclasses.replace(inr("4.2"), id="inr-b")
    shown = set()
    for labs in ([first, second, *panel()], [second, first, *panel()]):
        finding = check(labs)
        assert finding is not None
        shown.add(measured(finding, "INR").value)
    assert len(shown) == 1
