"""The audit's outputs: CSV worklist, a valid FHIR List, counts, and a self-contained HTML summary with charts."""

from __future__ import annotations

import csv
import io
import json
import re

from fhir.resources.R4B.list import List as FhirList

from cds_service.population import outputs
from cds_service.population.ndjson import MalformedLine
from cds_service.population.results import AuditRun, FindingRow, PatientResult, ScanStats
from tests.population_helpers import AUDIT_DATE

REASON = "Low ALP (3 of 3 results, lowest 28 U/L) with alendronate: consider HPP before continuing"


def sample_run() -> AuditRun:
    stats = ScanStats(
        files=2,
        resources={"Observation": 9, "Patient": 3},
        patients=3,
        candidates=2,
        malformed_count=1,
        malformed=[MalformedLine("Observation.ndjson", 4, "not valid JSON")],
    )
    return AuditRun(
        stats,
        [
            PatientResult("p-1", (FindingRow("low-alp-antiresorptive", "warning", REASON),), "28", ("alendronate",)),
            PatientResult("p-2", (), "71", ("denosumab",)),
        ],
    )


def test_the_csv_has_one_row_per_finding_with_its_reason():
    rows = list(csv.DictReader(io.StringIO(outputs.worklist_csv(sample_run()))))
    assert rows == [
        {
            "patient_id": "p-1",
            "topic": "low-alp-antiresorptive",
            "indicator": "warning",
            "reason": REASON,
            "lowest_alp_u_per_l": "28",
            "therapy": "alendronate",
        }
    ]


def test_the_list_is_a_valid_fhir_list_of_the_flagged_patients_with_reasons():
    document = outputs.worklist_list(sample_run(), AUDIT_DATE)
    model = FhirList.model_validate(document)
    assert [e.item.reference for e in model.entry] == ["Patient/p-1"]
    flag = document["entry"][0]["flag"]
    assert flag["coding"][0]["code"] == "low-alp-antiresorptive" and flag["text"] == f"warning: {REASON}"
    assert document["date"] == "2026-11-24"


def test_an_empty_worklist_is_still_a_valid_list():
    empty = AuditRun(ScanStats(), [])
    document = outputs.worklist_list(empty, AUDIT_DATE)
    FhirList.model_validate(document)
    assert "entry" not in document and document["emptyReason"]["coding"][0]["code"] == "nilknown"


def test_counts_by_finding_indicator_and_therapy_and_the_named_malformed_lines():
    counts = outputs.count(sample_run())
    assert counts["findings"] == {"low-alp-antiresorptive": {"warning": 1}}
    assert counts["flagged_patients"] == 1 and counts["candidates"] == 2
    assert counts["therapy"] == {"flagged": {"alendronate": 1}, "all_candidates": {"alendronate": 1, "denosumab": 1}}
    assert counts["malformed_lines"] == {
        "count": 1,
        "named": [{"file": "Observation.ndjson", "line": 4, "reason": "not valid JSON"}],
    }


def test_the_summary_is_self_contained_with_three_charts_and_the_same_bytes_each_time(tmp_path):
    run = sample_run()
    first = outputs.write_all(run, tmp_path / "a", today=AUDIT_DATE)
    second = outputs.write_all(run, tmp_path / "b", today=AUDIT_DATE)
    page = first["summary.html"].read_text()
    assert page.count("<svg") == 3
    assert not re.search(r"""(src|href)=["']?https?:""", page) and "<script" not in page
    assert "Observation.ndjson" in page and REASON in page
    for name, path in first.items():
        assert second[name].read_bytes() == path.read_bytes(), name
    assert json.loads(first["counts.json"].read_text())["patients"] == 3
