"""The rule in worker processes: whole patient groups per chunk, results in order, a bounded number in flight."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from cds_service.population import duckdb_engine, workers
from cds_service.population.results import review_lines
from cds_service.population.workers import RulePool, chunks
from hooks.policy import Policy
from tests.conftest import TODAY, load_fhir
from tests.population_helpers import AUDIT_DATE, make_population


@pytest.fixture(scope="module")
def population(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("population")
    make_population(directory, patients=160, seed=5)
    return directory


def patient_groups(directory: Path) -> list[tuple[str, list[str]]]:
    """Return each patient's own lines (patient, observations, …) in patient order, as the engine streams them."""
    groups: dict[str, list[str]] = {}
    for path in sorted(directory.glob("*.ndjson.gz")):
        if path.name.startswith("Medication."):
            continue
        for line in gzip.decompress(path.read_bytes()).decode().splitlines():
            owner = line.split('"Patient/', 1)[1].split('"', 1)[0] if '"Patient/' in line else None
            if owner is None:
                owner = line.split('"id":"', 1)[1].split('"', 1)[0]
            groups.setdefault(owner, []).append(line)
    return sorted((patient, sorted(lines)) for patient, lines in groups.items())


def test_chunks_keep_each_group_whole_and_in_order():
    groups = [(f"p{i}", ["x"] * (i % 4 + 1)) for i in range(40)]
    made = list(chunks(groups, max_lines=5))
    assert [g for chunk in made for g in chunk] == groups
    assert all(sum(len(lines) for _, lines in chunk[:-1]) < 5 for chunk in made)
    assert len(made) > 10


def test_two_workers_give_the_results_of_one_in_the_same_order(population):
    groups = patient_groups(population)
    with RulePool(1, AUDIT_DATE, Policy()) as one, RulePool(2, AUDIT_DATE, Policy()) as two:
        assert two.workers == 2
        medications: dict = {}
        alone = list(one.review(groups, medications))
        shared = list(two.review(groups, medications))
    assert shared == alone
    assert [r.patient_id for r in shared] == [patient for patient, _ in groups]
    assert alone == [review_lines(p, lines, medications, AUDIT_DATE, Policy()) for p, lines in groups]


def test_the_workers_take_a_bounded_number_of_groups_ahead(population, monkeypatch):
    monkeypatch.setattr(workers, "CHUNK_LINES", 10)
    groups = patient_groups(population)
    taken = []

    def lazily() -> Iterator[tuple[str, list[str]]]:
        for group in groups:
            taken.append(group[0])
            yield group

    with RulePool(2, AUDIT_DATE, Policy()) as pool:
        results = pool.review(lazily(), {})
        next(results)
        ahead = len(taken)
        assert len(list(results)) == len(groups) - 1
    # Chunks of at least 10 lines, at most 3 per worker in flight, plus the chunk being filled.
    assert ahead <= (workers.CHUNKS_PER_WORKER * 2 + 1) * 10 < len(groups)


def test_the_engine_gives_the_same_run_with_one_or_two_workers(population):
    one = duckdb_engine.audit(population, today=AUDIT_DATE, policy=Policy(), workers=1)
    two = duckdb_engine.audit(population, today=AUDIT_DATE, policy=Policy(), workers=2)
    assert two == one and any(r.findings for r in two.results)


def test_a_failing_review_stops_the_pool_and_reaches_the_caller(population):
    groups = [("broken", ["not json"])]
    with pytest.raises(ValueError), RulePool(2, AUDIT_DATE, Policy()) as pool:
        list(pool.review(groups, {}))


def test_each_review_reads_its_own_medications():
    lines = [json.dumps(load_fhir("patient-adult-female.json"))]
    lines += [json.dumps(e["resource"]) for e in load_fhir("alp-persistent-low.json")["entry"]]
    request = {
        "resourceType": "MedicationRequest",
        "id": "mr",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/pat-hpp-1"},
        "medicationReference": {"reference": "Medication/m"},
    }
    groups = [("pat-hpp-1", [*lines, json.dumps(request)])]
    actonel = {"m": {"resourceType": "Medication", "id": "m", "code": {"text": "Actonel 35 mg"}}}
    with RulePool(2, TODAY, Policy()) as pool:
        first = list(pool.review(groups, actonel))
        second = list(pool.review(groups, {}))
    assert first[0].therapy == ("risedronate",) and second[0].therapy == ()
    assert first == [review_lines("pat-hpp-1", groups[0][1], actonel, TODAY, Policy())]
