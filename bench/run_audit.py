"""Population audit benchmark: the whole audit against DuckDB merely scanning and counting the same NDJSON.

For each size (patients), in one run: generate a seeded synthetic population (plain NDJSON, as Bulk Data
servers send it), time `SELECT resourceType, count(*)` over the files with DuckDB (the baseline), then time the
whole audit (`python -m cds_service audit`, rule included), each in its own process, with its peak RSS (wait4).
Checks that the worklist is exactly the planted patients. Writes bench/results/audit.json.

    .venv/bin/python bench/run_audit.py --sizes 10000 100000 [1000000] [--engine duckdb]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(os.environ.get("BENCH_RESULTS", ROOT / "bench" / "results"))
TODAY = "2026-11-24"
SCAN_AND_COUNT = """
import sys, duckdb
from pathlib import Path
files = sorted(str(p) for p in Path(sys.argv[1]).glob("*.ndjson"))
con = duckdb.connect(config={"memory_limit": "1GB"})
con.execute("SET enable_progress_bar = false")
rows = con.execute("SELECT json->>'resourceType', count(*) FROM read_ndjson_objects(?) GROUP BY 1", [files]).fetchall()
print(sum(n for _, n in rows))
"""


def measured(command: list[str]) -> tuple[float, float, str, str]:
    """Run a command in its own process; return wall seconds, peak RSS in MiB, its standard output and error."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        text, log = out.read(), err.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    return elapsed, usage.ru_maxrss / 1024, text, log


def run_size(patients: int, engine: str, work: Path) -> dict:
    """Generate one population, measure the baseline and the audit, and check the worklist."""
    data, out = work / f"p{patients}", work / f"out{patients}"
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "cds_service",
            "synthetic",
            "--patients",
            str(patients),
            "--seed",
            "1",
            "--today",
            TODAY,
            "--plain",
            "--output",
            str(data),
        ],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    generated = time.perf_counter() - started
    size = sum(p.stat().st_size for p in data.glob("*.ndjson"))
    scan_s, scan_rss, scanned, _ = measured([sys.executable, "-c", SCAN_AND_COUNT, str(data)])
    audit_s, audit_rss, _, log = measured(
        [
            sys.executable,
            "-m",
            "cds_service",
            "audit",
            "--input",
            str(data),
            "--output",
            str(out),
            "--today",
            TODAY,
            "--engine",
            engine,
            "--no-progress",
        ]
    )
    planted = json.loads((data / "planted.json").read_text())["planted"]
    found = {row["patient_id"]: row["topic"] for row in csv.DictReader((out / "worklist.csv").open())}
    counts = json.loads((out / "counts.json").read_text())
    phases = re.search(r"first pass ([\d.]+) s, second pass ([\d.]+) s, rule ([\d.]+) s", log)
    shutil.rmtree(data)
    return {
        "patients": patients,
        "engine": engine,
        "ndjson_mib": round(size / 2**20, 1),
        "resources": int(scanned.strip()),
        "generate_s": round(generated, 1),
        "scan_count_s": round(scan_s, 2),
        "scan_count_peak_rss_mib": round(scan_rss),
        "audit_s": round(audit_s, 2),
        "audit_peak_rss_mib": round(audit_rss),
        "ratio_audit_to_scan": round(audit_s / scan_s, 2),
        "audit_phases_s": dict(zip(("first_pass", "second_pass", "rule"), map(float, phases.groups()), strict=False))
        if phases
        else None,
        "patients_per_s": round(patients / audit_s),
        "reviewed_by_rule": counts["candidates"],
        "flagged": counts["flagged_patients"],
        "planted": len(planted),
        "finds_exactly_the_planted": found == planted,
    }


def main() -> int:
    """Measure each size and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="alp-guard-bench-audit-") as work:
        for patients in args.sizes:
            rows.append(run_size(patients, args.engine, Path(work)))
            print(json.dumps(rows[-1]), flush=True)
    target = RESULTS / f"audit-{args.engine}.json"
    target.write_text(json.dumps({"sizes": rows}, indent=1) + "\n")
    print(f"results: {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
