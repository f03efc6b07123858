"""NDJSON input: plain and gzip files found, malformed lines named by file and line, blank lines ignored."""

from __future__ import annotations

import gzip

import pytest

from cds_service.population.ndjson import MalformedLine, line_problem, malformed_lines, ndjson_files


def test_finds_plain_and_gzip_files_in_name_order_and_nothing_else(tmp_path):
    for name in ("b.ndjson.gz", "a.ndjson", "c.jsonl", "manifest.json", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.ndjson").write_bytes(b"")
    assert [p.relative_to(tmp_path).as_posix() for p in ndjson_files(tmp_path)] == [
        "a.ndjson",
        "b.ndjson.gz",
        "c.jsonl",
        "sub/d.ndjson",
    ]


def test_a_missing_directory_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        ndjson_files(tmp_path / "absent")


def test_malformed_lines_are_named_with_their_line_numbers_in_gzip_files(tmp_path):
    path = tmp_path / "Observation.ndjson.gz"
    path.write_bytes(gzip.compress(b'{"resourceType":"Observation"}\n\n{oops\n"text"\n{"id":"x"}\n  \n'))
    assert list(malformed_lines(path, tmp_path)) == [
        MalformedLine("Observation.ndjson.gz", 3, "not valid JSON"),
        MalformedLine("Observation.ndjson.gz", 4, "not a JSON object"),
        MalformedLine("Observation.ndjson.gz", 5, "no resourceType"),
    ]


def test_a_resource_line_has_no_problem():
    assert line_problem('{"resourceType": "Patient", "id": "p"}') is None
    assert line_problem('{"resourceType": 5}') == "no resourceType"
