"""The prefilter is wider than the rule: it never drops a patient the rule could flag."""

from __future__ import annotations

import re

import duckdb

from cds_service.population import prefilter as pf
from hooks.policy import Policy, policy_from_document


def test_antiresorptive_codes_names_atc_groups_and_odd_text_all_match():
    pattern = re.compile(pf.ANTIRESORPTIVE)
    assert pattern.search('"code": "904431"') and pattern.search('"code":"M05BA99"')
    assert pattern.search('"text":"Alendronic acid"') and pattern.search('"display":"denosumab-bbdz"')
    assert pattern.search('"text":"ａｌｅｎｄｒｏｎａｔｅ"') and pattern.search(r'"text":"\u0061lendronate"')
    assert not pattern.search('"code":"83367","text":"atorvastatin"')
    assert not pattern.search('"code":"9046"')


def test_asfotase_alfa_matches_by_atc_code_and_name():
    pattern = re.compile(pf.ASFOTASE)
    assert pattern.search('"code":"A16AB13"') and pattern.search('"text":"Strensiq 40 mg/mL"')
    assert pattern.search('"text":"asfotase alfa"') and not pattern.search('"text":"alendronate"')


def test_the_patterns_read_the_same_in_duckdb():
    line = '{"medicationCodeableConcept":{"text":"Prolia 60 mg"}}'
    assert duckdb.sql(f"SELECT regexp_matches('{line}', '{pf.ANTIRESORPTIVE}')").fetchall() == [(True,)]
    assert duckdb.sql(f"""SELECT regexp_matches('"code": "6768-6"', '{pf.ALP_CODE}')""").fetchall() == [(True,)]


def test_unit_factors_are_those_of_the_rule():
    rows = duckdb.sql(
        "SELECT u, " + pf.unit_factor_sql("u") + " FROM (VALUES ('U/L'), ('[iU]/L'), "
        "(' µkat/L'), ('nkat/L'), ('mg/dL')) t(u)"
    ).fetchall()
    assert {u: None if f is None else float(f) for u, f in rows} == {
        "U/L": 1.0,
        "[iU]/L": 1.0,
        " µkat/L": 60.0,
        "nkat/L": 0.06,
        "mg/dL": None,
    }


def test_thresholds_follow_the_policy():
    limits = pf.thresholds(Policy())
    assert limits.adult_alp_u_per_l == 40.0 and limits.child_alp_u_per_l == 142.0 and limits.inr == 1.5
    assert limits.adult_age_years == 18
    wider = pf.thresholds(policy_from_document({"adult_lab_limit_cap_u_per_l": 45}))
    assert wider.adult_alp_u_per_l == 45.0


def test_a_hypophosphatasia_condition_matches_by_code_or_by_text():
    pattern = re.compile(pf.HPP_CODE)
    assert pattern.search('"code":"360792001"') and pattern.search('"code":"E83.39"')
    assert pattern.search('"code":"L-123","text":"Adult Hypophosphatasia"')
    assert not pattern.search('"code":"38341003","text":"Hypertensive disorder"')
