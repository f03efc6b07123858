"""What an audit run yields, whichever engine ran it, and the per-patient step both engines share."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from cds_service.population.ndjson import MalformedLine, malformed_lines
from hooks.policy import Policy
from hooks.population import finding_reason, review_patient

MAX_NAMED_MALFORMED = 1000  # every malformed line is counted; this many are named


@dataclass(frozen=True)
class FindingRow:
    """One finding of a patient as the worklist shows it."""

    topic: str
    indicator: str
    reason: str  # the card's summary


@dataclass(frozen=True)
class PatientResult:
    """The rule's verdict on one candidate patient (flagged or not)."""

    patient_id: str
    findings: tuple[FindingRow, ...]
    lowest_alp_u_per_l: str | None  # a plain decimal, e.g. "28" or "27.5"
    therapy: tuple[str, ...]


@dataclass
class ScanStats:
    """Counts over the whole input: files, resources by type, patients, candidates, malformed lines."""

    files: int = 0
    resources: dict[str, int] = field(default_factory=dict)
    patients: int = 0
    candidates: int = 0  # patients the rule reviewed
    antiresorptive_patients: int = 0  # patients with any antiresorptive record
    malformed_count: int = 0
    malformed: list[MalformedLine] = field(default_factory=list)  # the first MAX_NAMED_MALFORMED, in file order


@dataclass
class AuditRun:
    """An engine's output: the counts and every candidate's result, in patient order."""

    stats: ScanStats
    results: list[PatientResult]


def decimal_text(value: Decimal | None) -> str | None:
    """Return a Decimal as plain text without exponent or trailing zeros."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text


def medication_ids(resources: Iterable[Mapping[str, Any]]) -> set[str]:
    """Return the ids of Medication resources that these resources reference."""
    ids = set()
    for resource in resources:
        reference = resource.get("medicationReference")
        target = reference.get("reference") if isinstance(reference, Mapping) else None
        if isinstance(target, str) and "Medication/" in target:
            ids.add(target.rsplit("Medication/", 1)[1].split("/_history/")[0])
    return ids


def review_lines(
    patient_id: str, lines: Iterable[str], medications: Mapping[str, Mapping[str, Any]], today: date, policy: Policy
) -> PatientResult:
    """Parse one patient's NDJSON lines, add the Medications they reference, and apply the rule."""
    resources = [json.loads(line) for line in lines]
    resources += [medications[i] for i in sorted(medication_ids(resources)) if i in medications]
    review = review_patient(resources, patient_id, today, policy)
    rows = tuple(FindingRow(f.topic.value, f.indicator.value, finding_reason(f)) for f in review.findings)
    return PatientResult(patient_id, rows, decimal_text(review.lowest_alp_u_per_l), review.therapy)


def name_malformed(stats: ScanStats, root: Path, files: list[Path]) -> None:
    """Count and name the malformed lines of these files, reading them line by line."""
    for path in files:
        for problem in malformed_lines(path, root):
            stats.malformed_count += 1
            if len(stats.malformed) < MAX_NAMED_MALFORMED:
                stats.malformed.append(problem)
