"""Code sets are versioned data with provenance, and keep out what must stay out."""

import pytest

from hooks import valuesets
from hooks.valuesets import ALP_TOTAL, ANTIRESORPTIVE_VALUE_SET, ANTIRESORPTIVES, HPP_WORKUP, ValueSet

ALL = [v for v in vars(valuesets).values() if isinstance(v, ValueSet)]


@pytest.mark.parametrize("value_set", ALL, ids=lambda v: v.name)
def test_every_value_set_has_version_expansion_date_and_source(value_set):
    assert value_set.version and value_set.source and value_set.codes
    assert len(value_set.expansion_date) == 10 and value_set.expansion_date[4] == "-"


def test_alp_excludes_bone_specific_and_cord_blood_alp():
    assert ALP_TOTAL.codes == {"6768-6", "1783-0", "77141-0"}
    assert not {"1777-2", "17838-4", "55971-6", "1779-8", "59789-8"} & ALP_TOTAL.codes


def test_raloxifene_and_anabolics_are_not_antiresorptives():
    assert not {"72143", "32915", "1921069", "1435115", "1435117"} & ANTIRESORPTIVE_VALUE_SET.codes


def test_no_rxnorm_code_belongs_to_two_ingredients():
    seen = [code for drug in ANTIRESORPTIVES for code in drug.rxnorm]
    assert len(seen) == len(set(seen))


def test_workup_includes_substrates_and_genetics():
    assert {"62236-5", "30552-4", "77084-2"} <= HPP_WORKUP.codes
