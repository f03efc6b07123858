"""The site file: prefetch templates, card types, card source; bad values named at start-up; cards as presented."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cds_service.services import SERVICES_BY_ID
from cds_service.settings import SettingsError, settings_from_env
from cds_service.site import (
    ASSOCIATED_RESOURCE,
    CONFIGURATION,
    CONFIGURATION_OPTIONS,
    DEFAULT_SITE,
    NON_ADHERENCE_SYSTEM,
    STANDARD_REASON,
    SiteError,
    site_from_document,
    switched_off,
)
from hooks.findings import Finding, Indicator, Topic
from hooks.records import MedicationOrder

SIGN = SERVICES_BY_ID["low-alp-order-sign"]
VIEW = SERVICES_BY_ID["low-alp-patient-view"]
LAB = {"prefetch_parameters": {"Observation": {"category": "laboratory", "_sort": None}}}


def test_without_a_site_file_discovery_is_the_registry_plus_the_card_type_options():
    for entry, service in zip(DEFAULT_SITE.discovery_document()["services"], SERVICES_BY_ID.values(), strict=False):
        options = entry.pop("extension")[CONFIGURATION_OPTIONS]
        assert entry == service.discovery()
        assert [o["code"] for o in options] == [t.value for t in service.topics]
        for option in options:  # Da Vinci CRD's configuration option shape
            assert set(option) == {"code", "type", "name", "description", "default"}
            assert (option["type"], option["default"]) == ("boolean", True) and option["name"] and option["description"]


def test_observation_searches_get_the_laboratory_category_and_lose_sort():
    site = site_from_document(LAB)
    for service_id, templates in site.templates.items():
        for key, template in templates.items():
            default = SERVICES_BY_ID[service_id].prefetch[key]
            if default.startswith("Observation?"):
                assert template.endswith("&category=laboratory") and "_sort" not in template
                assert template.replace("&category=laboratory", "") == default.replace("&_sort=-date", "")
            else:
                assert template == default
    assert site.discovery_document()["services"][0]["prefetch"] == site.templates["low-alp-order-sign"]


def test_a_service_section_overrides_the_site_and_can_leave_a_key_out_of_discovery():
    alp = "Observation?patient={{context.patientId}}&code=http://loinc.org|6768-6&_count=50"
    site = site_from_document(
        {
            **LAB,
            "services": {
                "low-alp-patient-view": {
                    "prefetch_parameters": {"Observation": {"category": "laboratory,vital-signs"}},
                    "prefetch": {"alp": alp, "liverPanel": None},
                }
            },
        }
    )
    view = site.templates["low-alp-patient-view"]
    assert view["alp"] == alp  # a whole template is used as written
    assert view["hppWorkup"].endswith("&category=laboratory,vital-signs")
    assert "liverPanel" in view and "liverPanel" not in site.advertised["low-alp-patient-view"]
    assert site.templates["low-alp-order-sign"]["hppWorkup"].endswith("&category=laboratory")


def test_card_types_are_switched_per_site_and_per_service():
    site = site_from_document(
        {
            "cards": {"renal-antiresorptive": False},
            "services": {"low-alp-patient-view": {"cards": {"wilson-alf": False}}},
        }
    )
    assert "renal-antiresorptive" in site.disabled_for(SIGN)
    assert "wilson-alf" in site.disabled_for(VIEW) and DEFAULT_SITE.disabled_for(VIEW) == frozenset()
    codes = [o["code"] for o in site.discovery_document()["services"][0]["extension"][CONFIGURATION_OPTIONS]]
    assert "renal-antiresorptive" not in codes  # a type the site turned off is not offered


def finding(topic: Topic, order: str | None = "request-123") -> Finding:
    drug = MedicationOrder(order, "draft", (), ("alendronate",)) if order else None
    return Finding(topic, Indicator.WARNING, "p1", ("alendronate",), drug)


def test_a_call_can_switch_card_types_off_but_not_on():
    site = site_from_document({"cards": {"vitamin-d-calcium-antiresorptive": False}})
    findings = [
        finding(Topic.LOW_ALP_ANTIRESORPTIVE),
        finding(Topic.RENAL_ANTIRESORPTIVE),
        finding(Topic.VITAMIN_D_CALCIUM_ANTIRESORPTIVE),
    ]
    extension = {
        CONFIGURATION: {"renal-antiresorptive": False, "vitamin-d-calcium-antiresorptive": True, "no-such-card": False}
    }
    assert [f.topic for f in site.wanted(SIGN, findings, extension)] == [Topic.LOW_ALP_ANTIRESORPTIVE]
    assert switched_off(None) == switched_off({"other": 1}) == frozenset()
    # A card type the service does not declare (added later to the core) is still served.
    assert site.wanted(VIEW, [finding(Topic.RENAL_ANTIRESORPTIVE)], None) == [finding(Topic.RENAL_ANTIRESORPTIVE)]


def card(**members: Any) -> dict:
    return {
        "uuid": "u1",
        "summary": "s",
        "indicator": "warning",
        "source": {"label": "ALP Guard", "topic": {"system": "t", "code": "c", "display": "d"}},
        **members,
    }


def test_cards_are_presented_with_the_site_source_the_order_and_hl7_reason_codes():
    site = site_from_document(
        {
            "source": {
                "label": "Bone safety (St Elsewhere)",
                "url": "https://intranet.example.org/alp",
                "icon": "https://intranet.example.org/alp.png?size=100",
            }
        }
    )
    reasons = [
        {
            "system": "http://alp-guard.org/fhir/CodeSystem/override-reason",
            "code": "specialist-advised",
            "display": "Benefit outweighs risk (specialist advised)",
        },
        {"system": "http://example.org/other", "code": "specialist-advised", "display": "x"},
    ]
    rendered = card(overrideReasons=reasons)
    (presented,) = site.present([rendered], [finding(Topic.LOW_ALP_ANTIRESORPTIVE)])
    assert presented["source"] == {
        **rendered["source"],
        "label": "Bone safety (St Elsewhere)",
        "url": "https://intranet.example.org/alp",
        "icon": "https://intranet.example.org/alp.png?size=100",
    }
    assert presented["extension"] == {ASSOCIATED_RESOURCE: [{"reference": "MedicationRequest/request-123"}]}
    ours, other = presented["overrideReasons"]
    assert ours["extension"][STANDARD_REASON] == {
        "system": NON_ADHERENCE_SYSTEM,
        "code": "expert-contradicts",
        "display": "Advice from expert contradicts the recommended action",
    }
    assert "extension" not in other  # another system's code is not ours to map
    assert "extension" not in rendered["overrideReasons"][0]  # the rendered card is left as it was


def test_a_card_about_no_order_names_none():
    (presented,) = DEFAULT_SITE.present([card()], [finding(Topic.LOW_ALP_UNEVALUATED, order=None)])
    assert "extension" not in presented and presented["source"]["label"] == "ALP Guard"


@pytest.mark.parametrize(
    "document, where",
    [
        ([], ""),
        ({"sorce": {}}, "sorce"),
        ({"source": {"label": ""}}, "source.label"),
        ({"source": {"url": "intranet/alp"}}, "source.url"),
        ({"source": {"icon": "ftp://x.example/icon.png"}}, "source.icon"),
        ({"source": {"colour": "red"}}, "source.colour"),
        ({"cards": {"renal": False}}, "cards.renal"),
        ({"cards": {"wilson-alf": "no"}}, "cards.wilson-alf"),
        (
            {"services": {"low-alp-order-sign": {"cards": {"wilson-alf": False}}}},
            "services.low-alp-order-sign.cards.wilson-alf",
        ),
        ({"services": {"low-alp-nope": {}}}, "services.low-alp-nope"),
        (
            {"services": {"low-alp-order-sign": {"prefetch": {"labs": None}}}},
            "services.low-alp-order-sign.prefetch.labs",
        ),
        (
            {"services": {"low-alp-order-sign": {"prefetch": {"alp": "Condition?patient={{context.patientId}}"}}}},
            "services.low-alp-order-sign.prefetch.alp",
        ),
        (
            {"services": {"low-alp-order-sign": {"prefetch": {"alp": "Observation?code=http://loinc.org|6768-6"}}}},
            "services.low-alp-order-sign.prefetch.alp",
        ),
        (
            {"services": {"low-alp-order-sign": {"prefetch": {"patient": "Patient/{{context.userId}}"}}}},
            "services.low-alp-order-sign.prefetch.patient",
        ),
        (
            {"services": {"low-alp-order-sign": {"prefetch": {"alp": "Observation?patient={{today()}}"}}}},
            "services.low-alp-order-sign.prefetch.alp",
        ),
        ({"prefetch_parameters": {"Observation": {"patient": None}}}, "prefetch_parameters.Observation.patient"),
        ({"prefetch_parameters": {"Observation": {"category": "a b"}}}, "prefetch_parameters.Observation.category"),
        ({"prefetch_parameters": {"observation": {"category": "laboratory"}}}, "prefetch_parameters.observation"),
    ],
)
def test_a_bad_value_is_refused_naming_its_key(document, where):
    with pytest.raises(SiteError) as raised:
        site_from_document(document)
    assert raised.value.where == where


def test_a_bad_site_file_stops_start_up_naming_the_setting_and_key(tmp_path: Path):
    path = tmp_path / "site.json"
    path.write_text(json.dumps({"cards": {"renal": False}}))
    with pytest.raises(SettingsError, match=r"^CDS_SITE_FILE: cards\.renal: no such card type"):
        settings_from_env({"CDS_SITE_FILE": str(path)})
    path.write_text("{not json")
    with pytest.raises(SettingsError, match=r"^CDS_SITE_FILE: cannot read"):
        settings_from_env({"CDS_SITE_FILE": str(path)})
    with pytest.raises(SettingsError, match=r"^CDS_SITE_FILE: cannot read"):
        settings_from_env({"CDS_SITE_FILE": str(tmp_path / "missing.json")})


def test_a_good_site_file_is_loaded(tmp_path: Path):
    path = tmp_path / "site.json"
    path.write_text(json.dumps(LAB))
    assert settings_from_env({"CDS_SITE_FILE": str(path)}).site == site_from_document(LAB)
    assert settings_from_env({}).site == DEFAULT_SITE
