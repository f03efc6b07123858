"""The Spark engine (local mode, one session for the module) gives byte for byte the DuckDB engine's outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from cds_service.population import duckdb_engine, outputs, spark_engine
from hooks.policy import Policy
from tests.population_helpers import AUDIT_DATE, add_broken_lines, make_population, planted


@pytest.fixture(scope="module")
def population(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("population")
    make_population(directory, patients=200, seed=11)
    add_broken_lines(directory)
    return directory


@pytest.fixture(scope="module")
def spark_run(population):
    return spark_engine.audit(population, today=AUDIT_DATE, policy=Policy())


def test_spark_finds_every_planted_patient_and_no_other(population, spark_run):
    found = {r.patient_id: [f.topic for f in r.findings] for r in spark_run.results if r.findings}
    assert found == {patient: [topic] for patient, topic in planted(population).items()}


def test_spark_and_duckdb_outputs_are_identical(population, spark_run, tmp_path):
    duck_run = duckdb_engine.audit(population, today=AUDIT_DATE, policy=Policy(), workers=2)
    assert spark_run.stats == duck_run.stats and spark_run.results == duck_run.results
    spark_files = outputs.write_all(spark_run, tmp_path / "spark", today=AUDIT_DATE)
    duck_files = outputs.write_all(duck_run, tmp_path / "duckdb", today=AUDIT_DATE)
    for name, path in duck_files.items():
        assert spark_files[name].read_bytes() == path.read_bytes(), name


def test_spark_counts_and_names_the_malformed_lines(spark_run):
    assert spark_run.stats.malformed_count == 3
    assert [(m.file, m.line) for m in spark_run.stats.malformed] == [
        ("Observation.ndjson.gz", 2),
        ("Observation.ndjson.gz", 3),
        ("Observation.ndjson.gz", 4),
    ]


def test_the_rule_code_is_shipped_to_the_executors(tmp_path):
    archive = spark_engine.code_archive(tmp_path)
    import zipfile

    names = zipfile.ZipFile(archive).namelist()
    assert "hooks/population.py" in names and "cds_service/population/results.py" in names


def test_no_java_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(spark_engine.SparkUnavailable, match="no Java runtime found"):
        spark_engine.start_spark("local[1]", tmp_path)
