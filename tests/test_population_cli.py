"""`python -m cds_service audit` and `synthetic`: one command to a worklist and a summary; counts-only logs."""

from __future__ import annotations

import csv
import json
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cds_service.__main__ import main
from tests.population_helpers import add_broken_lines, make_population, planted

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def population(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("population")
    make_population(directory, patients=120, seed=3)
    add_broken_lines(directory)
    return directory


def test_the_audit_writes_the_worklist_and_logs_counts_only(population, tmp_path, caplog, capsys):
    caplog.set_level(logging.INFO)
    assert main(["audit", "--input", str(population), "--output", str(tmp_path), "--today", "2026-11-24"]) == 0
    rows = list(csv.DictReader((tmp_path / "worklist.csv").open()))
    assert {r["patient_id"]: r["topic"] for r in rows} == planted(population)
    assert {p.name for p in tmp_path.iterdir()} == {"worklist.csv", "worklist-list.json", "counts.json", "summary.html"}
    assert "summary.html" in capsys.readouterr().out
    log = caplog.text
    assert "3 malformed lines" in log and "Observation.ndjson.gz line 2" in log
    assert not any(patient in log for patient in json.loads((population / "planted.json").read_text())["planted"])
    assert "Synthetic" not in log


def test_a_policy_file_is_applied(population, tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"preset": "strict"}))
    out = tmp_path / "out"
    assert (
        main(
            [
                "audit",
                "--input",
                str(population),
                "--output",
                str(out),
                "--today",
                "2026-11-24",
                "--policy",
                str(policy),
            ]
        )
        == 0
    )
    counts = json.loads((out / "counts.json").read_text())
    assert counts["flagged_patients"] <= len(planted(population))


def test_a_bad_policy_file_stops_with_status_2(population, tmp_path, capsys):
    policy = tmp_path / "policy.json"
    policy.write_text("{not json")
    assert main(["audit", "--input", str(population), "--output", str(tmp_path / "o"), "--policy", str(policy)]) == 2
    assert "policy error" in capsys.readouterr().err


def test_an_input_that_is_neither_a_directory_nor_a_url_stops_with_status_2(tmp_path, capsys):
    assert main(["audit", "--input", str(tmp_path / "absent"), "--output", str(tmp_path / "o")]) == 2
    assert "audit error: input is not a directory" in capsys.readouterr().err


def test_the_rule_runs_in_as_many_processes_as_asked(population, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    command = ["audit", "--input", str(population), "--today", "2026-11-24"]
    assert main([*command, "--output", str(tmp_path / "one"), "--workers", "1"]) == 0
    assert "(processes: 1)" in caplog.text
    assert main([*command, "--output", str(tmp_path / "two"), "--workers", "2"]) == 0
    assert "(processes: 2)" in caplog.text
    for name in ("worklist.csv", "worklist-list.json", "counts.json", "summary.html"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name


def test_no_workers_is_refused(population, tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["audit", "--input", str(population), "--output", str(tmp_path), "--workers", "0"])
    assert stopped.value.code == 2 and "--workers must be 1 or more" in capsys.readouterr().err


def test_synthetic_writes_a_population_with_its_planted_patients(tmp_path, capsys):
    assert (
        main(["synthetic", "--patients", "60", "--seed", "2", "--output", str(tmp_path), "--today", "2026-11-24"]) == 0
    )
    assert (tmp_path / "Patient.ndjson.gz").is_file() and planted(tmp_path)
    assert "60 patients" in capsys.readouterr().out


def test_the_spark_engine_without_java_says_so_in_one_line(population, tmp_path):
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path)}  # no java on PATH, no JAVA_HOME
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cds_service",
            "audit",
            "--engine",
            "spark",
            "--input",
            str(population),
            "--output",
            str(tmp_path / "o"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3
    assert done.stderr.strip().splitlines() == [
        "audit error: Spark cannot start: no Java runtime found (install one, e.g. Debian's default-jre-headless, "
        "or set JAVA_HOME)"
    ]


def test_the_readme_command_audits_the_bundled_sample(tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Population audit") :]
    command = re.search(r"```sh\n(.+?)\n```", section, re.S)[1]
    install, run = command.split(" && ")
    assert install == ".venv/bin/pip install -q -r requirements-audit.txt"  # the test command installs it too
    words = run.split()
    assert words[:3] == [".venv/bin/python", "-m", "cds_service"] and words[3] == "audit"
    monkeypatch.chdir(tmp_path)
    sample = ROOT / "examples" / "population"
    args = [str(sample) if w == "examples/population" else w for w in words[4:]]
    assert main(["audit", *args, "--today", "2026-11-24"]) == 0  # the sample was built around this date
    rows = list(csv.DictReader((tmp_path / "audit-out" / "worklist.csv").open()))
    assert {r["patient_id"]: r["topic"] for r in rows} == planted(sample)
    assert (tmp_path / "audit-out" / "summary.html").is_file()


def test_without_the_audit_requirements_the_command_says_what_to_install(monkeypatch, capsys):
    import builtins

    real_import = builtins.__import__

    def without_duckdb(name, *args, **kwargs):
        if name == "cds_service.population" or name.startswith("cds_service.population."):
            raise ModuleNotFoundError("No module named 'duckdb'", name="duckdb")
        return real_import(name, *args, **kwargs)

    from cds_service.__main__ import main as entry

    monkeypatch.setattr(builtins, "__import__", without_duckdb)
    assert entry(["audit", "--input", "x", "--output", "y"]) == 2
    assert capsys.readouterr().err.strip() == (
        "population audit unavailable: duckdb is not installed (pip install -r requirements-audit.txt)"
    )
