"""The vitamin D and calcium check: both thresholds on both sides, units, ranges, the window, the newest value."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal

import pytest

from cards.wording import ALBUMIN_NOTE, CALCIUM_LABELS, criteria_lines, note_lines
from hooks.findings import Caveat, Check, Criterion, Indicator, Measurement, Note, Topic
from hooks.minerals import check_vitamin_d_and_calcium, range_low
from hooks.policy import Policy
from hooks.records import AgeBound, LabResult, MedicationOrder, Quantity, ReferenceRange

TODAY = date(2026, 11, 24)
POLICY = Policy()
VITAMIN_D = "62292-8"
CALCIUM = "17861-6"


def quantity(value: str | int | float | None, unit: str | None) -> Quantity | None:
    return None if value is None else Quantity(Decimal(str(value)), unit)


def vitamin_d(
    day: str | None,
    value: str | int | float | None,
    unit: str | None = "ng/mL",
    *,
    loinc: str = VITAMIN_D,
    status: str = "final",
    comparator: str | None = None,
    absent: bool = False,
    at: str | None = None,
) -> LabResult:
    """Return a 25-OH vitamin D result; `at` is a time of day in UTC."""
    return _lab(loinc, day, value, unit, (), status, comparator, absent, at)


def calcium(
    day: str | None,
    value: str | int | float | None,
    unit: str | None = "mg/dL",
    *,
    low: str | int | float | None = "8.6",
    low_unit: str | None = "mg/dL",
    ranges: tuple[ReferenceRange, ...] | None = None,
    status: str = "final",
    comparator: str | None = None,
    absent: bool = False,
    at: str | None = None,
) -> LabResult:
    """Return a calcium result with a lab range low of 8.6 mg/dL unless told otherwise."""
    if ranges is None:
        ranges = () if low is None else (ReferenceRange(quantity(low, low_unit), quantity("10.2", low_unit)),)
    return _lab(CALCIUM, day, value, unit, ranges, status, comparator, absent, at)


def _lab(loinc, day, value, unit, ranges, status, comparator, absent, at) -> LabResult:
    when = date.fromisoformat(day) if day else None
    q = None if value is None else Quantity(Decimal(str(value)), unit, comparator)
    instant = datetime.fromisoformat(f"{day}T{at}+00:00") if day and at else None
    return LabResult(f"obs-{loinc}-{day}-{at}", loinc, status, when, q, ranges, absent, instant)


def order(name: str, id: str = "mr-1") -> MedicationOrder:
    return MedicationOrder(id, "draft", (), (name,))


ALENDRONATE = order("Alendronate sodium 70 mg tablet")
DENOSUMAB = order("Prolia 60 mg/mL (denosumab)", "mr-3")
METFORMIN = order("Metformin 500 mg tablet", "mr-0")


def check(*labs: LabResult, orders=(ALENDRONATE,), policy: Policy = POLICY):
    return check_vitamin_d_and_calcium(orders, labs, "pat-1", TODAY, policy)


def is_low(*labs: LabResult, **kwargs) -> bool:
    return check(*labs, **kwargs) is not None


# --- vitamin D ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, unit, low",
    [
        ("19.9", "ng/mL", True),
        ("20", "ng/mL", False),
        ("49.9", "nmol/L", True),
        ("50", "nmol/L", False),
        ("49.92", "nmol/L", False),  # exactly 20 ng/mL: not below it
        ("19.9", "ug/L", True),
        ("20", "ug/L", False),
    ],
)
def test_vitamin_d_below_20_ng_per_ml_or_50_nmol_per_l_is_low(value, unit, low):
    assert is_low(vitamin_d("2026-09-01", value, unit)) is low


@pytest.mark.parametrize("loinc, unit", [("1989-3", "ng/mL"), ("62292-8", "ng/mL"), ("14635-7", "nmol/L")])
def test_every_25_oh_vitamin_d_code_is_read(loinc, unit):
    assert is_low(vitamin_d("2026-09-01", 10, unit, loinc=loinc))


def test_the_vitamin_d_finding_shows_the_value_in_ng_per_ml_and_the_target():
    finding = check(vitamin_d("2026-09-01", 14))
    assert finding is not None
    assert (finding.topic, finding.indicator) == (Topic.VITAMIN_D_CALCIUM_ANTIRESORPTIVE, Indicator.INFO)
    assert finding.measurements == (
        Measurement("25-OH vitamin D", VITAMIN_D, date(2026, 9, 1), Decimal(14), "ng/mL", None, "< 20 ng/mL"),
    )
    assert finding.checks == (
        Criterion(Check.LOW_VITAMIN_D, Decimal(14), Decimal(20), measurement=finding.measurements[0]),
    )
    assert criteria_lines(finding) == (
        "25-OH vitamin D 14 ng/mL is below 20 ng/mL (50 nmol/L), the level to reach before an antiresorptive",
    )
    assert finding.caveats == () and note_lines(finding) == ()


def test_a_value_in_nmol_per_l_is_shown_converted_and_never_rounded_up_to_the_limit():
    finding = check(vitamin_d("2026-09-01", "49.9", "nmol/L", loinc="14635-7"))
    assert finding is not None
    assert finding.measurements[0].value == Decimal("19.99")
    assert finding.caveats == (
        Note(Caveat.CONVERTED, values=(Decimal("49.9"),), subjects=("25-OH vitamin D", "", "nmol/L", "ng/mL")),
    )
    assert note_lines(finding) == ("25-OH vitamin D reported as 49.9 nmol/L, shown converted to ng/mL.",)


def test_a_value_in_nmol_per_l_exactly_at_the_target_is_not_low_despite_conversion_rounding():
    ten = dataclasses.replace(POLICY, vitamin_d_min_ng_per_ml=Decimal(10))
    assert not is_low(vitamin_d("2026-09-01", "24.96", "nmol/L"), policy=ten)  # 10 ng/mL exactly
    assert is_low(vitamin_d("2026-09-01", "24.95", "nmol/L"), policy=ten)


def test_the_vitamin_d_target_is_a_policy_parameter():
    higher = dataclasses.replace(POLICY, vitamin_d_min_ng_per_ml=Decimal(30))
    assert not is_low(vitamin_d("2026-09-01", 25))
    finding = check(vitamin_d("2026-09-01", 25), policy=higher)
    assert finding is not None and finding.measurements[0].limit == "< 30 ng/mL"


@pytest.mark.parametrize(
    "comparator, value, low",
    [
        ("<", "10", True),
        ("<", "20", True),
        ("<", "25", False),
        ("<=", "19", True),
        ("<=", "20", False),
        (">", "5", False),
        (">=", "15", False),
    ],
)
def test_vitamin_d_comparators_count_only_values_certainly_below(comparator, value, low):
    assert is_low(vitamin_d("2026-09-01", value, comparator=comparator)) is low


# --- calcium, against its own reference range -------------------------------------------------------------


@pytest.mark.parametrize("value, low", [("8.59", True), ("8.6", False), ("9.4", False)])
def test_calcium_below_its_range_low_is_low_and_at_it_is_not(value, low):
    assert is_low(calcium("2026-09-01", value)) is low


def test_calcium_in_mmol_per_l_is_converted_before_comparing_with_a_range_in_mg_per_dl():
    assert is_low(calcium("2026-09-01", "2.14", "mmol/L"))  # 8.58 mg/dL
    assert not is_low(calcium("2026-09-01", "2.15", "mmol/L"))  # 8.62 mg/dL


def test_a_range_in_mmol_per_l_is_converted_and_shown_with_the_lab_s_own_figure():
    assert not is_low(calcium("2026-09-01", "8.62", low="2.15", low_unit="mmol/L"))  # low is 8.617 mg/dL
    finding = check(calcium("2026-09-01", "8.61", low="2.15", low_unit="mmol/L"))
    assert finding is not None
    assert finding.measurements == (
        Measurement(
            "Calcium",
            CALCIUM,
            date(2026, 9, 1),
            Decimal("8.61"),
            "mg/dL",
            None,
            "< 8.62 mg/dL (lab range low 2.15 mmol/L)",
        ),
    )
    assert [(c.what, c.value, c.limit, c.subject) for c in finding.checks] == [
        (Check.LOW_CALCIUM, Decimal("8.61"), Decimal("8.62"), None),
        (Check.CALCIUM_LABEL, None, None, "alendronate"),
    ]
    assert criteria_lines(finding) == (
        "Calcium 8.61 mg/dL is below the lab's reference range (low 8.62 mg/dL)",
        CALCIUM_LABELS["alendronate"],
    )
    assert finding.caveats == (Note(Caveat.CALCIUM_NOT_ALBUMIN_CORRECTED),)
    assert note_lines(finding) == (ALBUMIN_NOTE,)


def test_a_converted_limit_is_shown_rounded_up_so_a_value_below_it_never_reads_as_at_it():
    finding = check(calcium("2026-09-01", "8.70", low="2.1707", low_unit="mmol/L"))  # low is 8.7002 mg/dL
    assert finding is not None
    assert finding.measurements[0].limit == "< 8.71 mg/dL (lab range low 2.1707 mmol/L)"


def test_a_value_and_range_both_in_mmol_per_l_at_the_limit_are_not_low():
    assert not is_low(calcium("2026-09-01", "2.15", "mmol/L", low="2.15", low_unit="mmol/L"))
    assert is_low(calcium("2026-09-01", "2.14", "mmol/L", low="2.15", low_unit="mmol/L"))


def test_a_calcium_in_mmol_per_l_carries_a_conversion_note():
    finding = check(calcium("2026-09-01", "2.0", "mmol/L"))
    assert finding is not None
    assert note_lines(finding) == ("Calcium reported as 2 mmol/L, shown converted to mg/dL.", ALBUMIN_NOTE)


@pytest.mark.parametrize(
    "low, low_unit",
    [(None, None), ("8.6", None), ("8.6", "mEq/L")],
    ids=["no range", "range without a unit", "range in an unconvertible unit"],
)
def test_calcium_without_a_usable_range_is_not_judged(low, low_unit):
    assert not is_low(calcium("2026-09-01", "5.0", low=low, low_unit=low_unit))


def test_a_range_with_only_a_high_end_is_not_a_range_low():
    only_high = (ReferenceRange(None, quantity("10.2", "mg/dL")),)
    assert not is_low(calcium("2026-09-01", "5.0", ranges=only_high))


@pytest.mark.parametrize("restricted_low", ["8.8", "8.2"])
def test_a_general_range_is_preferred_to_one_restricted_to_an_age_or_sex(restricted_low):
    child = ReferenceRange(quantity(restricted_low, "mg/dL"), None, age_high=AgeBound(Decimal(18), "a"))
    general = ReferenceRange(quantity("8.4", "mg/dL"), None)
    assert not is_low(calcium("2026-09-01", "8.5", ranges=(child, general)))
    assert is_low(calcium("2026-09-01", "8.3", ranges=(child, general)))
    assert range_low((child, general)).mg_per_dl == Decimal("8.4")


def test_among_restricted_ranges_only_the_lowest_low_is_used():
    female = ReferenceRange(quantity("8.5", "mg/dL"), None, applies_to=("female",))
    male = ReferenceRange(quantity("8.7", "mg/dL"), None, applies_to=("male",))
    assert not is_low(calcium("2026-09-01", "8.6", ranges=(male, female)))
    assert is_low(calcium("2026-09-01", "8.4", ranges=(male, female)))


@pytest.mark.parametrize("comparator, value, low", [("<", "8.6", True), ("<", "9", False), (">", "5", False)])
def test_calcium_comparators_count_only_values_certainly_below(comparator, value, low):
    assert is_low(calcium("2026-09-01", value, comparator=comparator)) is low


# --- both, neither, and the orders ------------------------------------------------------------------------


def test_both_low_give_one_finding_with_both_measurements():
    finding = check(calcium("2026-09-01", "8.1"), vitamin_d("2026-09-01", 14))
    assert finding is not None
    assert [m.label for m in finding.measurements] == ["25-OH vitamin D", "Calcium"]
    assert len(finding.checks) == 3 and criteria_lines(finding)[2] == CALCIUM_LABELS["alendronate"]


def test_neither_low_gives_no_finding():
    assert check(calcium("2026-09-01", "9.4"), vitamin_d("2026-09-01", 32)) is None


def test_no_results_give_no_finding():
    assert check() is None


def test_without_an_antiresorptive_order_there_is_no_finding():
    low = vitamin_d("2026-09-01", 8)
    assert check(low, orders=(METFORMIN,)) is None
    assert check(low, orders=()) is None


def test_one_finding_covers_every_antiresorptive_order():
    zoledronic = order("Zoledronic acid 5 mg", "mr-2")
    finding = check(vitamin_d("2026-09-01", 8), orders=(METFORMIN, zoledronic, DENOSUMAB, ALENDRONATE))
    assert finding is not None
    assert finding.drugs == ("zoledronic acid", "denosumab", "alendronate")
    assert finding.order == zoledronic


def test_an_ingredient_ordered_twice_is_named_once():
    finding = check(vitamin_d("2026-09-01", 8), orders=(ALENDRONATE, order("Fosamax 70 mg", "mr-9")))
    assert finding is not None and finding.drugs == ("alendronate",)


# --- window, newest value, statuses -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "make", [lambda day: vitamin_d(day, 10), lambda day: calcium(day, "7.5")], ids=["vitamin D", "calcium"]
)
def test_results_exactly_twelve_months_old_count_and_a_day_older_do_not(make):
    assert is_low(make("2025-11-24"))
    assert not is_low(make("2025-11-23"))


def test_the_window_is_a_policy_parameter():
    three_months = dataclasses.replace(POLICY, mineral_lookback_months=3)
    assert is_low(vitamin_d("2026-08-24", 10), policy=three_months)
    assert not is_low(vitamin_d("2026-08-23", 10), policy=three_months)


def test_a_result_without_a_date_is_ignored():
    assert not is_low(vitamin_d(None, 10))


@pytest.mark.parametrize(
    "newest",
    [
        vitamin_d("2026-10-01", 30, "IU/mL"),
        vitamin_d("2026-10-01", None),
        vitamin_d("2026-10-01", 30, None),
        vitamin_d("2026-10-01", 40, comparator="<"),
    ],
    ids=["unknown unit", "no value", "no unit", "undeterminable comparator"],
)
def test_an_uninterpretable_newest_vitamin_d_is_not_judged_even_when_an_older_one_is_low(newest):
    older_low = vitamin_d("2026-03-01", 10)
    assert is_low(older_low)
    assert not is_low(older_low, newest)


@pytest.mark.parametrize(
    "newest",
    [
        calcium("2026-10-01", "9.0", "mEq/L"),
        calcium("2026-10-01", None),
        calcium("2026-10-01", "9.0", low=None),
    ],
    ids=["unknown unit", "no value", "no range"],
)
def test_an_uninterpretable_newest_calcium_is_not_judged_even_when_an_older_one_is_low(newest):
    older_low = calcium("2026-03-01", "7.5")
    assert is_low(older_low)
    assert not is_low(older_low, newest)


def test_one_analyte_that_cannot_be_judged_does_not_stop_the_other():
    finding = check(calcium("2026-10-01", "9.0", low=None), vitamin_d("2026-09-01", 10))
    assert finding is not None and [m.label for m in finding.measurements] == ["25-OH vitamin D"]


def test_a_newer_normal_value_replaces_an_older_low_one():
    assert not is_low(vitamin_d("2026-03-01", 10), vitamin_d("2026-10-01", 35))
    assert not is_low(calcium("2026-03-01", "7.5"), calcium("2026-10-01", "9.2"))


def test_the_time_of_day_orders_same_day_results():
    assert not is_low(vitamin_d("2026-10-01", 10, at="08:00"), vitamin_d("2026-10-01", 35, at="15:00"))
    assert is_low(vitamin_d("2026-10-01", 35, at="08:00"), vitamin_d("2026-10-01", 10, at="15:00"))


def test_same_day_results_without_a_time_must_all_be_low():
    assert not is_low(calcium("2026-10-01", "8.0"), calcium("2026-10-01", "9.0"))
    finding = check(calcium("2026-10-01", "8.0"), calcium("2026-10-01", "8.2"))
    assert finding is not None and finding.measurements[0].value == Decimal("8.2")


@pytest.mark.parametrize(
    "status, counts",
    [
        ("final", True),
        ("amended", True),
        ("corrected", True),
        ("preliminary", False),
        ("entered-in-error", False),
    ],
)
def test_only_verified_results_count(status, counts):
    assert is_low(vitamin_d("2026-09-01", 10, status=status)) is counts
    assert is_low(calcium("2026-09-01", "7.5", status=status)) is counts


def test_an_unverified_or_absent_newer_result_does_not_hide_a_verified_older_one():
    older_low = vitamin_d("2026-03-01", 10)
    assert is_low(older_low, vitamin_d("2026-10-01", 40, status="preliminary"))
    assert is_low(older_low, vitamin_d("2026-10-01", 40, absent=True))


# --- low calcium is a warning for every antiresorptive, worded by each label ------------------------------


def dosed(name: str, mg: str | None = None, id: str = "mr-5") -> MedicationOrder:
    return MedicationOrder(id, "draft", (), (name,), dose=Quantity(Decimal(mg), "mg") if mg else None)


@pytest.mark.parametrize(
    "drug, label",
    [
        (
            ALENDRONATE,
            "Fosamax and Fosamax Plus D, alendronate, labels revised 2/2026: hypocalcaemia is a"
            " contraindication; correct it before starting.",
        ),
        (order("Alendronate 70 mg / cholecalciferol 2800 IU (Fosamax Plus D)"), "Fosamax and Fosamax Plus D"),
        (order("Risedronate 35 mg tablet"), "Actonel and Atelvia, risedronate: hypocalcaemia is a contraindication"),
        (order("Ibandronate 150 mg tablet"), "Boniva tablets and Boniva Injection, ibandronate"),
        (order("Ibandronate 3 mg/3 mL injection"), "Boniva tablets and Boniva Injection, ibandronate"),
        (
            order("Reclast 5 mg/100 mL (zoledronic acid)", "mr-4"),
            "Reclast, zoledronic acid 5 mg, label updated 2023-11-30: hypocalcaemia is a contraindication",
        ),
        (order("Zometa 4 mg/5 mL"), "Zometa, zoledronic acid 4 mg: hypocalcaemia is not a contraindication"),
        (
            order("Zoledronic acid injection"),
            "Zoledronic acid, dose not known: for Reclast, 5 mg, hypocalcaemia is a"
            " contraindication; for Zometa, 4 mg, a warning",
        ),
        (DENOSUMAB, "Prolia and its biosimilars, denosumab 60 mg: hypocalcaemia is a contraindication"),
        (order("Jubbonti (denosumab-bbdz) 60 mg/mL"), "Prolia and its biosimilars"),
        (
            order("Xgeva 120 mg/1.7 mL (denosumab)"),
            "Xgeva and its biosimilars, denosumab 120 mg, a contraindication"
            " since 2013: pre-existing hypocalcaemia must be corrected",
        ),
        (dosed("Denosumab injection", "120"), "Xgeva and its biosimilars"),
        (order("Denosumab injection"), "Denosumab, Prolia, Xgeva and their biosimilars: pre-existing"),
        (
            order("Evenity 105 mg/1.17 mL (romosozumab)"),
            "Evenity, romosozumab, US label 2019: hypocalcaemia is a contraindication",
        ),
        (order("Pamidronate 90 mg"), "Pamidronate: correct hypocalcaemia before starting"),
    ],
    ids=[
        "alendronate",
        "alendronate with cholecalciferol",
        "risedronate",
        "ibandronate oral",
        "ibandronate IV",
        "Reclast",
        "Zometa",
        "zoledronic unknown",
        "Prolia",
        "Prolia biosimilar",
        "Xgeva",
        "denosumab 120 mg dose",
        "denosumab unknown",
        "romosozumab",
        "pamidronate",
    ],
)
def test_low_calcium_is_a_warning_for_every_antiresorptive_citing_its_label(drug, label):
    finding = check(calcium("2026-10-01", "8.1"), orders=(drug,))
    assert finding.indicator is Indicator.WARNING
    assert any(c.startswith(label) for c in criteria_lines(finding)), criteria_lines(finding)


def test_xgeva_wording_never_cites_the_prolia_boxed_warning():
    finding = check(calcium("2026-10-01", "8.1"), orders=(order("Xgeva 120 mg/1.7 mL (denosumab)"),))
    assert not any("Prolia" in c or "boxed" in c for c in criteria_lines(finding))


def test_each_order_s_label_is_quoted_once():
    finding = check(calcium("2026-10-01", "8.1"), orders=(ALENDRONATE, DENOSUMAB, order("Alendronate 10 mg")))
    assert criteria_lines(finding)[1:] == (
        CALCIUM_LABELS["alendronate"],
        CALCIUM_LABELS["denosumab 60 mg (Prolia or a biosimilar)"],
    )


def test_a_normal_calcium_with_low_vitamin_d_quotes_no_calcium_label():
    finding = check(calcium("2026-10-01", "9.1"), vitamin_d("2026-10-01", "14"), orders=(DENOSUMAB,))
    assert finding.indicator is Indicator.INFO and len(finding.checks) == 1


def test_low_vitamin_d_alone_stays_info_even_with_denosumab():
    assert check(vitamin_d("2026-10-01", "14"), orders=(DENOSUMAB,)).indicator is Indicator.INFO
