"""FHIR Bulk Data NDJSON files: which files an input holds, and which of their lines cannot be read."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

SUFFIXES = (".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz")


@dataclass(frozen=True, order=True)
class MalformedLine:
    """A line that is not a FHIR resource: its file (relative to the input), line number and why."""

    file: str
    line: int
    reason: str


def ndjson_files(directory: Path) -> list[Path]:
    """Return the NDJSON files (plain or gzip) under `directory`, in name order."""
    if not directory.is_dir():
        raise FileNotFoundError(f"no such input directory: {directory.name or directory}")
    return sorted(p for p in directory.rglob("*") if p.is_file() and p.name.lower().endswith(SUFFIXES))


def open_text(path: Path) -> IO[str]:
    """Open an NDJSON file for reading as UTF-8 text, gunzipping when its name ends in .gz."""
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="\n")
    return path.open("rt", encoding="utf-8", errors="replace", newline="\n")


def line_problem(line: str) -> str | None:
    """Return why a non-blank line is not a FHIR resource, or None when it is one."""
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):
        return "not valid JSON"
    if not isinstance(value, dict):
        return "not a JSON object"
    if not isinstance(value.get("resourceType"), str):
        return "no resourceType"
    return None


def malformed_lines(path: Path, root: Path) -> Iterator[MalformedLine]:
    """Yield the malformed lines of one file, reading it line by line (blank lines are not malformed)."""
    name = path.relative_to(root).as_posix()
    with open_text(path) as stream:
        for number, line in enumerate(stream, start=1):
            if line.strip() and (reason := line_problem(line)) is not None:
                yield MalformedLine(name, number, reason)
