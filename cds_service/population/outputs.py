"""The audit's outputs: the worklist as CSV and as a FHIR List, per-finding counts, and an HTML summary."""

from __future__ import annotations

import csv
import html
import io
import json
from collections import Counter
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first
from fhir.resources.R4B.list import List as FhirList  # noqa: E402

from cards.vocabulary import TOPIC_DISPLAYS, TOPIC_SYSTEM  # noqa: E402
from cds_service.population.results import AuditRun, PatientResult  # noqa: E402
from hooks.findings import Topic  # noqa: E402

WORKLIST_CSV = "worklist.csv"
WORKLIST_LIST = "worklist-list.json"
COUNTS = "counts.json"
SUMMARY = "summary.html"
CSV_COLUMNS = ("patient_id", "topic", "indicator", "reason", "lowest_alp_u_per_l", "therapy")
INDICATORS = ("critical", "warning", "info")
COLOURS = {
    "critical": "#b3261e",
    "warning": "#e8a317",
    "info": "#3b6ea8",
    "flagged": "#b3261e",
    "not flagged": "#9aa5b1",
}


def flagged(run: AuditRun) -> list[PatientResult]:
    """Return the patients with at least one finding, in patient order."""
    return [r for r in run.results if r.findings]


def write_all(run: AuditRun, output: Path, *, today: date) -> dict[str, Path]:
    """Write every output under `output` and return their paths by name."""
    output.mkdir(parents=True, exist_ok=True)
    counts = count(run)
    paths = {name: output / name for name in (WORKLIST_CSV, WORKLIST_LIST, COUNTS, SUMMARY)}
    paths[WORKLIST_CSV].write_text(worklist_csv(run), encoding="utf-8")
    paths[WORKLIST_LIST].write_text(json.dumps(worklist_list(run, today), indent=1) + "\n", encoding="utf-8")
    paths[COUNTS].write_text(json.dumps(counts, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    paths[SUMMARY].write_text(summary_html(run, counts, today), encoding="utf-8")
    return paths


def worklist_csv(run: AuditRun) -> str:
    """Return one CSV row per finding: patient id, topic, indicator, the card's summary, lowest ALP, therapy."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for result in flagged(run):
        for finding in result.findings:
            writer.writerow(
                (
                    result.patient_id,
                    finding.topic,
                    finding.indicator,
                    finding.reason,
                    result.lowest_alp_u_per_l or "",
                    ";".join(result.therapy),
                )
            )
    return buffer.getvalue()


def worklist_list(run: AuditRun, today: date) -> dict[str, Any]:
    """Return the worklist as a FHIR R4B List of Patients, each entry flagged with its findings and reasons."""
    entries = [
        {
            "item": {"reference": f"Patient/{result.patient_id}"},
            "flag": {
                "coding": [
                    {"system": TOPIC_SYSTEM, "code": f.topic, "display": TOPIC_DISPLAYS[Topic(f.topic)]}
                    for f in result.findings
                ],
                "text": " | ".join(f"{f.indicator}: {f.reason}" for f in result.findings),
            },
        }
        for result in flagged(run)
    ]
    document: dict[str, Any] = {
        "resourceType": "List",
        "status": "current",
        "mode": "working",
        "title": "ALP Guard population audit: patients to review",
        "date": today.isoformat(),
    }
    if entries:
        document["entry"] = entries
    else:
        document["emptyReason"] = {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/list-empty-reason",
                    "code": "nilknown",
                    "display": "Nil Known",
                }
            ]
        }
    FhirList.model_validate(document)  # the worklist must be a valid FHIR List; a bug here stops the run
    return document


def count(run: AuditRun) -> dict[str, Any]:
    """Return the counts: input, candidates, flagged patients, findings by topic and indicator, therapy."""
    findings: dict[str, Counter[str]] = {}
    for result in run.results:
        for f in result.findings:
            findings.setdefault(f.topic, Counter())[f.indicator] += 1
    stats = run.stats
    return {
        "files": stats.files,
        "resources": stats.resources,
        "patients": stats.patients,
        "candidates": stats.candidates,
        "patients_with_antiresorptive_evidence": stats.antiresorptive_patients,
        "flagged_patients": len(flagged(run)),
        "findings": {topic: dict(sorted(c.items())) for topic, c in sorted(findings.items())},
        "therapy": {
            "flagged": dict(sorted(Counter(d for r in flagged(run) for d in r.therapy).items())),
            "all_candidates": dict(sorted(Counter(d for r in run.results for d in r.therapy).items())),
        },
        "malformed_lines": {
            "count": stats.malformed_count,
            "named": [{"file": m.file, "line": m.line, "reason": m.reason} for m in stats.malformed],
        },
    }


def svg(figure: Any) -> str:
    """Return a figure as inline SVG, the same bytes for the same data."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def findings_chart(counts: dict[str, Any]) -> str:
    """Return a horizontal bar chart of findings by topic, stacked by indicator."""
    topics = list(counts["findings"])
    figure, axes = plt.subplots(figsize=(7, 0.5 + 0.45 * max(len(topics), 1)))
    left = [0] * len(topics)
    for indicator in INDICATORS:
        values = [counts["findings"][t].get(indicator, 0) for t in topics]
        axes.barh(topics, values, left=left, color=COLOURS[indicator], label=indicator)
        left = [a + b for a, b in zip(left, values, strict=False)]
    axes.set_xlabel("patients")
    axes.invert_yaxis()
    axes.legend(loc="lower right", frameon=False)
    return svg(figure)


def alp_chart(results: Iterable[PatientResult]) -> str:
    """Return a histogram of each reviewed patient's lowest ALP, flagged against not flagged."""
    groups: dict[str, list[float]] = {"flagged": [], "not flagged": []}
    for r in results:
        if r.lowest_alp_u_per_l is not None:
            groups["flagged" if r.findings else "not flagged"].append(float(Decimal(r.lowest_alp_u_per_l)))
    figure, axes = plt.subplots(figsize=(7, 3))
    top = max([*groups["flagged"], *groups["not flagged"], 200.0])
    bins = [b * 5 for b in range(int(min(top, 400) // 5) + 2)]
    for name, values in groups.items():
        axes.hist(
            [min(v, bins[-1]) for v in values],
            bins=bins,
            alpha=0.75,
            color=COLOURS[name],
            label=f"{name} ({len(values)})",
        )
    axes.set_xlabel("lowest total ALP in the window (U/L; higher values at the right edge)")
    axes.set_ylabel("patients")
    axes.legend(frameon=False)
    return svg(figure)


def therapy_chart(counts: dict[str, Any]) -> str:
    """Return a bar chart of antiresorptives in use, flagged against all reviewed patients."""
    therapy = counts["therapy"]
    drugs = sorted(therapy["all_candidates"])
    figure, axes = plt.subplots(figsize=(7, 0.5 + 0.45 * max(len(drugs), 1)))
    axes.barh(drugs, [therapy["all_candidates"][d] for d in drugs], color=COLOURS["not flagged"], label="reviewed")
    axes.barh(drugs, [therapy["flagged"].get(d, 0) for d in drugs], color=COLOURS["flagged"], label="flagged")
    axes.set_xlabel("patients with an active order")
    axes.invert_yaxis()
    axes.legend(loc="lower right", frameon=False)
    return svg(figure)


def summary_html(run: AuditRun, counts: dict[str, Any], today: date) -> str:
    """Return the self-contained HTML summary: counts, three charts, the worklist and the malformed lines."""
    plt.rcParams["svg.hashsalt"] = "alp-guard"  # stable element ids: the same input gives the same file
    esc = html.escape
    rows = "".join(
        f"<tr><td>{esc(r.patient_id)}</td><td>{esc(f.topic)}</td><td class='{esc(f.indicator)}'>{esc(f.indicator)}"
        f"</td><td>{esc(f.reason)}</td><td>{esc(r.lowest_alp_u_per_l or '')}</td>"
        f"<td>{esc(', '.join(r.therapy))}</td></tr>"
        for r in flagged(run)
        for f in r.findings
    )
    malformed = "".join(
        f"<tr><td>{esc(m['file'])}</td><td>{m['line']}</td><td>{esc(m['reason'])}</td></tr>"
        for m in counts["malformed_lines"]["named"]
    )
    resources = ", ".join(f"{esc(k)} {v}" for k, v in sorted(counts["resources"].items()))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>ALP Guard population audit {today.isoformat()}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:70em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}}.critical{{color:#b3261e}}
.warning{{color:#8a5a00}}.info{{color:#3b6ea8}}svg{{max-width:100%;height:auto}}</style></head><body>
<h1>ALP Guard population audit</h1>
<p>Audit date {today.isoformat()}. The same patient-view rule as the cards; each reason is the card's summary.</p>
<table><tr><th>NDJSON files</th><td>{counts["files"]}</td></tr><tr><th>resources</th><td>{resources}</td></tr>
<tr><th>patients</th><td>{counts["patients"]}</td></tr>
<tr><th>reviewed by the rule (candidates)</th><td>{counts["candidates"]}</td></tr>
<tr><th>patients with any antiresorptive record</th><td>{counts["patients_with_antiresorptive_evidence"]}</td></tr>
<tr><th>flagged patients</th><td>{counts["flagged_patients"]}</td></tr>
<tr><th>malformed lines (skipped, listed below)</th><td>{counts["malformed_lines"]["count"]}</td></tr></table>
<h2>Patients by finding and indicator</h2>{findings_chart(counts)}
<h2>Lowest ALP: flagged and not flagged</h2>{alp_chart(run.results)}
<h2>Antiresorptive in use</h2>{therapy_chart(counts)}
<h2>Worklist</h2><table><tr><th>patient</th><th>finding</th><th>indicator</th><th>reason</th><th>lowest ALP (U/L)</th>
<th>therapy</th></tr>{rows}</table>
<h2>Malformed lines</h2><table><tr><th>file</th><th>line</th><th>reason</th></tr>{malformed}</table>
</body></html>
"""
