"""Shared pieces of the population audit tests: a small synthetic population and malformed lines."""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import date
from pathlib import Path

from cds_service.population.synthetic import generate

AUDIT_DATE = date(2026, 11, 24)
SAMPLE_PATIENTS = 240
BROKEN_LINES = ('{"resourceType": "Observation", "id": "cut-off', "[1, 2, 3]", '{"id": "no-type"}')


def make_population(directory: Path, patients: int = SAMPLE_PATIENTS, seed: int = 7) -> dict[str, str]:
    """Write a synthetic population and return its planted patients (id: topic)."""
    return generate(directory, patients, seed, AUDIT_DATE)


def add_broken_lines(directory: Path) -> None:
    """Insert malformed lines (and a blank one) after the first line of the gzip Observation file."""
    path = directory / "Observation.ndjson.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join([lines[0], *BROKEN_LINES, "", *lines[1:]]) + "\n")


def plain_copy(source: Path, target: Path) -> Path:
    """Copy a population, gunzipping its files."""
    target.mkdir(parents=True)
    for path in source.iterdir():
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as src, (target / path.name[:-3]).open("wb") as dst:
                shutil.copyfileobj(src, dst)
    return target


def planted(directory: Path) -> dict[str, str]:
    """Return the planted patients recorded beside a population."""
    return json.loads((directory / "planted.json").read_text())["planted"]
