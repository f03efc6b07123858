"""The policy: every parameter has a source, and overrides are parsed or refused by name."""

import dataclasses
from decimal import Decimal

import pytest

from hooks.policy import CHILD_LOWER_LIMITS, POLICY_SOURCES, Policy, policy_from_overrides


def test_every_parameter_cites_its_source():
    assert set(POLICY_SOURCES) == {f.name for f in dataclasses.fields(Policy)}
    assert all(len(source) > 20 for source in POLICY_SOURCES.values())


def test_defaults_are_the_documented_ones():
    policy = Policy()
    assert (policy.adult_low_limit_u_per_l, policy.adult_lab_limit_cap_u_per_l, policy.adult_age_years) == (35, 40, 18)
    assert (policy.min_low_results, policy.min_days_between_lows, policy.lookback_years) == (2, 30, 5)
    assert policy.trusted_statuses == {"final", "amended", "corrected"}


def test_overrides_are_parsed_by_type():
    policy = policy_from_overrides(
        {"adult_low_limit_u_per_l": "30", "lookback_years": "10", "trusted_statuses": "final, preliminary"}
    )
    assert (policy.adult_low_limit_u_per_l, policy.lookback_years) == (Decimal(30), 10)
    assert policy.trusted_statuses == {"final", "preliminary"}


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"adult_low": "30"}, "policy parameter 'adult_low' is unknown"),
        ({"lookback_years": "five"}, "'lookback_years' has an invalid value"),
        ({"adult_low_limit_u_per_l": "x"}, "invalid value"),
        ({"adult_low_limit_u_per_l": "-5"}, "must be between 1 and 200"),
        ({"adult_low_limit_u_per_l": "NaN"}, "must be between"),
        ({"low_month_fraction": "1"}, "must be between 0 and 0.99"),
        ({"lookback_years": "0"}, "must be between 1 and 100"),
    ],
)
def test_bad_overrides_are_refused_by_name(overrides, message):
    with pytest.raises(ValueError, match=message):
        policy_from_overrides(overrides)


def test_child_bands_are_contiguous_from_birth_to_19_years():
    bands = CHILD_LOWER_LIMITS
    assert bands[0].from_years == 0 and bands[-1].to_years == 19
    assert all(a.to_years == b.from_years for a, b in zip(bands, bands[1:], strict=False))


def test_the_safety_parameters_have_their_label_defaults_and_cite_the_evidence_note():
    policy = Policy()
    assert (
        policy.zometa_full_dose_above_crcl,
        policy.zometa_step_1_min_crcl,
        policy.zometa_step_2_min_crcl,
        policy.renal_limit_zoledronic_acid_oncology,
    ) == (60, 50, 40, 30)
    assert (
        policy.zometa_full_dose_mg,
        policy.zometa_step_1_dose_mg,
        policy.zometa_step_2_dose_mg,
        policy.zometa_step_3_dose_mg,
    ) == (4, Decimal("3.5"), Decimal("3.3"), Decimal("3.0"))
    assert (policy.renal_limit_romosozumab, policy.romosozumab_renal_floor) == (30, 15)
    assert (policy.romosozumab_cv_event_window_days, policy.weight_max_age_days) == (365, 90)
    for name in (
        "weight_max_age_days",
        "zometa_step_1_dose_mg",
        "renal_limit_romosozumab",
        "romosozumab_cv_event_window_days",
    ):
        assert "docs/evidence/antiresorptive-safety.md" in POLICY_SOURCES[name]


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"weight_max_age_days": "0"}, "must be between 1 and 3650"),
        ({"romosozumab_cv_event_window_days": "0"}, "must be between 1 and 3650"),
        ({"zometa_step_2_dose_mg": "11"}, "must be between 0 and 10"),
        ({"renal_limit_romosozumab": "-1"}, "must be between 0 and 200"),
    ],
)
def test_the_safety_parameters_are_bounded(overrides, message):
    with pytest.raises(ValueError, match=message):
        policy_from_overrides(overrides)
