"""The synthetic population: seeded, every profile present, planted patients recorded."""

from __future__ import annotations

import gzip
import json

from cds_service.population.synthetic import DECOYS, PLANTED, generate
from tests.population_helpers import AUDIT_DATE


def test_the_same_seed_gives_the_same_files(tmp_path):
    generate(tmp_path / "a", 50, 4, AUDIT_DATE, compress=False)
    generate(tmp_path / "b", 50, 4, AUDIT_DATE, compress=False)
    for path in (tmp_path / "a").iterdir():
        assert (tmp_path / "b" / path.name).read_bytes() == path.read_bytes(), path.name
    generate(tmp_path / "c", 50, 5, AUDIT_DATE, compress=False)
    assert (tmp_path / "c" / "Patient.ndjson").read_bytes() != (tmp_path / "a" / "Patient.ndjson").read_bytes()


def test_every_planted_profile_is_present_and_recorded(tmp_path):
    planted = generate(tmp_path, 2 * (len(PLANTED) + len(DECOYS)), 1, AUDIT_DATE)
    assert sorted(planted.values()) == sorted(PLANTED)
    manifest = json.loads((tmp_path / "planted.json").read_text())
    assert manifest["planted"] == planted and manifest["today"] == "2026-11-24"


def test_every_line_is_a_fhir_resource_of_its_file(tmp_path):
    generate(tmp_path, 30, 2, AUDIT_DATE)
    patients = 0
    for path in tmp_path.glob("*.ndjson.gz"):
        for line in gzip.decompress(path.read_bytes()).decode().splitlines():
            assert json.loads(line)["resourceType"] == path.name.split(".")[0]
            patients += path.name.startswith("Patient")
    assert patients == 30
