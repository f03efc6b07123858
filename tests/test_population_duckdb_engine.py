"""The DuckDB engine finds exactly the planted patients, reads gzip and plain NDJSON, and names malformed lines."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import pytest

from cds_service.population import duckdb_engine
from cds_service.population.ndjson import MalformedLine
from cds_service.population.results import review_lines
from hooks.policy import Policy
from tests.population_helpers import AUDIT_DATE, add_broken_lines, make_population, plain_copy, planted


@pytest.fixture(scope="module")
def population(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("population")
    make_population(directory)
    return directory


def flagged(run) -> dict[str, list[str]]:
    return {r.patient_id: [f.topic for f in r.findings] for r in run.results if r.findings}


def test_finds_every_planted_patient_and_no_other(population):
    run = duckdb_engine.audit(population, today=AUDIT_DATE, policy=Policy())
    expected = planted(population)
    assert len(expected) >= 4
    assert flagged(run) == {patient: [topic] for patient, topic in expected.items()}


def test_the_prefilter_drops_no_patient_the_rule_would_flag(population):
    lines: dict[str, list[str]] = {}
    medications = {}
    for path in sorted(population.glob("*.ndjson.gz")):
        for line in gzip.decompress(path.read_bytes()).decode().splitlines():
            resource = json.loads(line)
            if resource["resourceType"] == "Medication":
                medications[resource["id"]] = resource
                continue
            owner = resource["id"] if resource["resourceType"] == "Patient" else resource["subject"]["reference"][8:]
            lines.setdefault(owner, []).append(line)
    every = {
        patient: [f.topic for f in review_lines(patient, group, medications, AUDIT_DATE, Policy()).findings]
        for patient, group in lines.items()
    }
    run = duckdb_engine.audit(population, today=AUDIT_DATE, policy=Policy())
    assert flagged(run) == {patient: topics for patient, topics in every.items() if topics}


def test_reviews_only_a_fraction_of_the_patients_and_counts_the_input(population):
    run = duckdb_engine.audit(population, today=AUDIT_DATE, policy=Policy())
    assert run.stats.patients == 240 and run.stats.files == 8
    assert len(planted(population)) < run.stats.candidates < 60
    assert run.stats.antiresorptive_patients > run.stats.candidates // 2
    assert run.stats.resources["Patient"] == 240 and run.stats.resources["Medication"] == 6
    assert [r.patient_id for r in run.results] == sorted(r.patient_id for r in run.results)
    assert len(run.results) == run.stats.candidates


def test_the_worklist_rows_carry_the_lowest_alp_and_the_therapy(population):
    run = duckdb_engine.audit(population, today=AUDIT_DATE, policy=Policy())
    on_therapy = [r for r in run.results if r.findings and r.findings[0].topic == "low-alp-antiresorptive"]
    assert on_therapy and all(r.therapy and float(r.lowest_alp_u_per_l) < 35 for r in on_therapy)
    assert all("ALP" in f.reason for r in on_therapy for f in r.findings)


def test_plain_ndjson_gives_the_same_result_as_gzip(population, tmp_path):
    plain = plain_copy(population, tmp_path / "plain")
    assert (
        duckdb_engine.audit(plain, today=AUDIT_DATE, policy=Policy()).results
        == duckdb_engine.audit(population, today=AUDIT_DATE, policy=Policy()).results
    )


def test_malformed_lines_are_counted_and_named_and_the_rest_is_audited(population, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    for path in population.iterdir():
        (broken / path.name).write_bytes(path.read_bytes())
    add_broken_lines(broken)
    run = duckdb_engine.audit(broken, today=AUDIT_DATE, policy=Policy())
    assert run.stats.malformed_count == 3
    assert run.stats.malformed == [
        MalformedLine("Observation.ndjson.gz", 2, "not valid JSON"),
        MalformedLine("Observation.ndjson.gz", 3, "not a JSON object"),
        MalformedLine("Observation.ndjson.gz", 4, "no resourceType"),
    ]
    assert flagged(run) == {p: [t] for p, t in planted(population).items()}


def test_since_leaves_out_resources_updated_before_it(population):
    run = duckdb_engine.audit(population, today=AUDIT_DATE, policy=Policy(), since=date(2026, 11, 1))
    assert flagged(run) == {}  # every ALP result is older than a month before the audit date
    assert run.stats.patients == 240


def test_a_therapy_known_only_through_a_medication_resource_is_found(tmp_path):
    patient = {"resourceType": "Patient", "id": "p1", "birthDate": "1950-01-01", "gender": "female"}
    request = {
        "resourceType": "MedicationRequest",
        "id": "mr1",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "medicationReference": {"reference": "Medication/m1"},
    }
    medication = {"resourceType": "Medication", "id": "m1", "code": {"text": "Fosamax 70 mg"}}
    alp = [
        {
            "resourceType": "Observation",
            "id": f"o{n}",
            "status": "final",
            "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": "http://loinc.org", "code": "6768-6"}]},
            "effectiveDateTime": day,
            "valueQuantity": {"value": 30, "unit": "U/L", "code": "U/L"},
        }
        for n, day in enumerate(("2026-03-01", "2026-06-01", "2026-09-01"))
    ]
    normal_alp = [{**alp[0], "id": "o9", "valueQuantity": {"value": 80, "unit": "U/L", "code": "U/L"}}]
    (tmp_path / "Patient.ndjson").write_text(json.dumps(patient) + "\n")
    (tmp_path / "MedicationRequest.ndjson").write_text(json.dumps(request) + "\n")
    (tmp_path / "Medication.ndjson").write_text(json.dumps(medication) + "\n")
    (tmp_path / "Observation.ndjson").write_text("".join(json.dumps(o) + "\n" for o in alp[1:] + normal_alp))
    run = duckdb_engine.audit(tmp_path, today=AUDIT_DATE, policy=Policy())
    assert [(r.patient_id, r.therapy, [f.topic for f in r.findings]) for r in run.results] == [
        ("p1", ("alendronate",), ["low-alp-antiresorptive"])
    ]


def test_two_antiresorptives_in_use_are_found_without_any_alp(tmp_path):
    # Duplicate therapy rests on therapy alone: the prefilter must not wait for a low ALP to review the patient.
    patient = {"resourceType": "Patient", "id": "p2", "birthDate": "1950-01-01", "gender": "female"}
    statement = {
        "resourceType": "MedicationStatement",
        "id": "ms1",
        "status": "active",
        "subject": {"reference": "Patient/p2"},
        "effectiveDateTime": "2026-01-01",
        "medicationCodeableConcept": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "904431"}]
        },
    }
    given = {
        "resourceType": "MedicationAdministration",
        "id": "ma1",
        "status": "completed",
        "subject": {"reference": "Patient/p2"},
        "effectiveDateTime": "2026-10-01",
        "medicationCodeableConcept": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "993452"}]
        },
    }
    (tmp_path / "Patient.ndjson").write_text(json.dumps(patient) + "\n")
    (tmp_path / "MedicationStatement.ndjson").write_text(json.dumps(statement) + "\n")
    (tmp_path / "MedicationAdministration.ndjson").write_text(json.dumps(given) + "\n")
    run = duckdb_engine.audit(tmp_path, today=AUDIT_DATE, policy=Policy())
    assert [(r.patient_id, [f.topic for f in r.findings]) for r in run.results] == [
        ("p2", ["duplicate-antiresorptive"])
    ]


def test_an_empty_directory_gives_an_empty_run(tmp_path):
    run = duckdb_engine.audit(tmp_path, today=AUDIT_DATE, policy=Policy())
    assert run.results == [] and run.stats.patients == 0


def test_a_missing_directory_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError):
        duckdb_engine.audit(tmp_path / "absent", today=AUDIT_DATE, policy=Policy())


def test_a_childs_alp_is_judged_against_a_childs_limit_and_an_adults_normal_alp_is_not_reviewed(tmp_path):
    def alp(patient: str, n: int, day: str) -> dict:
        return {
            "resourceType": "Observation",
            "id": f"{patient}-o{n}",
            "status": "final",
            "subject": {"reference": f"Patient/{patient}"},
            "code": {"coding": [{"system": "http://loinc.org", "code": "6768-6"}]},
            "effectiveDateTime": day,
            "valueQuantity": {"value": 100, "unit": "U/L", "code": "U/L"},
        }

    patients = [
        {"resourceType": "Patient", "id": "child", "birthDate": "2016-05-01", "gender": "male"},
        {"resourceType": "Patient", "id": "adult", "birthDate": "1990-05-01", "gender": "male"},
    ]
    days = ("2026-02-01", "2026-05-01", "2026-08-01")
    (tmp_path / "Patient.ndjson").write_text("".join(json.dumps(p) + "\n" for p in patients))
    (tmp_path / "Observation.ndjson").write_text(
        "".join(json.dumps(alp(p, n, d)) + "\n" for p in ("child", "adult") for n, d in enumerate(days))
    )
    run = duckdb_engine.audit(tmp_path, today=AUDIT_DATE, policy=Policy())
    assert run.stats.candidates == 1
    assert flagged(run) == {"child": ["low-alp-unevaluated"]}
