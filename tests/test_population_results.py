"""The per-patient step both engines share: parse lines, add referenced Medications, apply the rule."""

from __future__ import annotations

import json
from decimal import Decimal

from cds_service.population.results import decimal_text, medication_ids, review_lines
from hooks.policy import Policy
from tests.conftest import TODAY, load_fhir


def test_review_lines_adds_the_referenced_medication_and_renders_the_reason():
    lines = [json.dumps(load_fhir("patient-adult-female.json"))]
    lines += [json.dumps(e["resource"]) for e in load_fhir("alp-persistent-low.json")["entry"]]
    lines.append(
        json.dumps(
            {
                "resourceType": "MedicationRequest",
                "id": "mr",
                "status": "active",
                "intent": "order",
                "subject": {"reference": "Patient/pat-hpp-1"},
                "medicationReference": {"reference": "Medication/m"},
            }
        )
    )
    medications = {
        "m": {"resourceType": "Medication", "id": "m", "code": {"text": "Actonel 35 mg"}},
        "other": {"resourceType": "Medication", "id": "other", "code": {"text": "Prolia"}},
    }
    result = review_lines("pat-hpp-1", lines, medications, TODAY, Policy())
    assert result.therapy == ("risedronate",)
    assert [(f.topic, f.indicator) for f in result.findings] == [("low-alp-antiresorptive", "warning")]
    assert result.lowest_alp_u_per_l == "28" and "risedronate" in result.findings[0].reason.lower()


def test_medication_ids_read_relative_absolute_and_versioned_references():
    resources = [
        {"medicationReference": {"reference": "Medication/a"}},
        {"medicationReference": {"reference": "https://x.org/fhir/Medication/b/_history/2"}},
        {"medicationReference": {"reference": "#contained"}},
        {"medicationCodeableConcept": {}},
    ]
    assert medication_ids(resources) == {"a", "b"}


def test_decimal_text_is_plain():
    assert decimal_text(Decimal("28.0")) == "28" and decimal_text(Decimal("1.5E+2")) == "150"
    assert decimal_text(Decimal("27.50")) == "27.5" and decimal_text(None) is None
