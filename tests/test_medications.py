"""Recognising antiresorptives and asfotase alfa: codes first, names as a normalised fallback."""

import pytest

from hooks.medications import antiresorptive_ingredients, is_asfotase_alfa
from hooks.records import Code, MedicationOrder
from hooks.valuesets import ANTIRESORPTIVES, ATC, RXNORM


def order(*codes: Code, names=()) -> MedicationOrder:
    return MedicationOrder("d1", "draft", codes, tuple(names))


@pytest.mark.parametrize(
    "code, ingredient",
    [
        ("904431", "alendronate"),
        ("904433", "alendronate"),
        ("904419", "alendronate"),
        ("904420", "alendronate"),
        ("46041", "alendronate"),
        ("617264", "alendronate"),
        ("905024", "risedronate"),
        ("877300", "risedronate"),
        ("904932", "ibandronate"),
        ("705824", "zoledronic acid"),
        ("1114085", "zoledronic acid"),
        ("1737449", "pamidronate"),
        ("993452", "denosumab"),
        ("993456", "denosumab"),
        ("2123126", "romosozumab"),
        ("42682", "etidronate"),
        ("57230", "tiludronate"),
    ],
)
def test_rxnorm_codes_name_their_ingredient(code, ingredient):
    assert antiresorptive_ingredients(order(Code(RXNORM, code))) == (ingredient,)


@pytest.mark.parametrize(
    "code, expected",
    [
        ("M05BA04", ("alendronate",)),
        ("M05BX04", ("denosumab",)),
        ("M05BX06", ("romosozumab",)),
        ("M05BB03", ("alendronate",)),
        ("M05BA99", ("bisphosphonate",)),
        ("m05ba08", ("zoledronic acid",)),
    ],
)
def test_atc_codes_are_recognised(code, expected):
    assert antiresorptive_ingredients(order(Code(ATC, code))) == expected


@pytest.mark.parametrize(
    "code, name",
    [
        (Code(RXNORM, "72143"), "raloxifene 60 MG Oral Tablet"),
        (Code(RXNORM, "1435115"), "teriparatide 20 MCG/DOSE"),
        (Code(RXNORM, "1921069"), "abaloparatide"),
        (Code(ATC, "M05BX05"), "burosumab"),
        (Code(ATC, "H05AA02"), "Forteo"),
    ],
)
def test_drugs_that_are_not_antiresorptives_never_match(code, name):
    assert antiresorptive_ingredients(order(code, names=[name])) == ()


def test_the_same_code_in_another_system_is_not_rxnorm():
    assert antiresorptive_ingredients(order(Code("http://snomed.info/sct", "904431"))) == ()


@pytest.mark.parametrize(
    "name, ingredient",
    [
        ("Alendronic acid 70 MG Oral Tablet", "alendronate"),
        ("FOSAMAX 70mg", "alendronate"),
        ("alendronate sodium", "alendronate"),
        ("Zoledronic acid 5 mg/100 mL", "zoledronic acid"),
        ("denosumab-bbdz 60 MG/ML", "denosumab"),
        ("Jubbonti", "denosumab"),
        ("Evenity 105 mg", "romosozumab"),
        ("Risedronate\u200b sodium 35 MG", "risedronate"),
        ("ＢＯＮＩＶＡ", "ibandronate"),
        ("Aclasta\u00ad", "zoledronic acid"),
    ],
)
def test_names_are_a_fallback_after_unicode_normalisation(name, ingredient):
    assert antiresorptive_ingredients(order(names=[name])) == (ingredient,)


def test_a_stem_inside_an_unrelated_word_does_not_match():
    assert antiresorptive_ingredients(order(names=["pseudoprolia-like compound"])) == ()


def test_codes_take_precedence_over_names():
    both = order(Code(RXNORM, "993452"), names=["alendronate"])
    assert antiresorptive_ingredients(both) == ("denosumab",)


def test_every_listed_antiresorptive_has_a_stem_of_its_own_name():
    for drug in ANTIRESORPTIVES:
        assert antiresorptive_ingredients(order(names=[drug.ingredient])) == (drug.ingredient,)


@pytest.mark.parametrize(
    "medication", [order(Code(ATC, "A16AB13")), order(names=["Strensiq 40 mg/mL"]), order(names=["asfotase alfa"])]
)
def test_asfotase_alfa_is_recognised(medication):
    assert is_asfotase_alfa(medication)


def test_other_drugs_are_not_asfotase():
    assert not is_asfotase_alfa(order(Code(RXNORM, "904431"), names=["alendronate"]))
