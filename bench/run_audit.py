"""Population audit benchmark: the whole audit against DuckDB merely scanning and counting the same NDJSON.

For each size (patients), in one run: generate a seeded synthetic population (plain NDJSON, as Bulk Data
servers send it), time `SELECT resourceType, count(*)` over the files with DuckDB (the baseline), then time the
whole audit (`python -m cds_service audit`, rule included), each in its own process, with its peak RSS and CPU
time (wait4). The baseline is measured again right before each audit, and each audit's ratio is to that scan: on
a shared machine the load changes by the minute. With BENCH_SOURCE=<tree> (e.g. `git archive <commit>` unpacked)
the same population is also audited by that tree's code, alternating with this one (`before` in the results).
Checks that the worklist is exactly the planted patients. Writes bench/results/audit-<engine>.json.

    .venv/bin/python bench/run_audit.py --sizes 10000 100000 [1000000] [--engine duckdb] [--rounds 2]
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
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(os.environ.get("BENCH_RESULTS", ROOT / "bench" / "results"))
BEFORE = Path(os.environ["BENCH_SOURCE"]).resolve() if os.environ.get("BENCH_SOURCE") else None
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


def tree_pss_mib(pid: int) -> float:
    """Return the proportional set size of a process and its descendants in MiB (shared pages counted once)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            rollup = Path(f"/proc/{current}/smaps_rollup").read_text()
            tasks = list(Path(f"/proc/{current}/task").iterdir())
            pending += [int(c) for t in tasks for c in (t / "children").read_text().split()]
        except OSError:  # gone meanwhile
            continue
        total += int(re.search(r"^Pss:\s+(\d+) kB", rollup, re.M).group(1))  # type: ignore[union-attr]
    return total / 1024


def measured(command: list[str], cwd: Path = ROOT) -> tuple[float, float, float, float, str, str]:
    """Run a command in its own process; return wall s, CPU s, peak RSS and peak tree PSS in MiB, output, error.

    The CPU time includes the reaped children (the rule's workers); the peak RSS (wait4) is the largest single
    process's, so the process tree's memory is also sampled (PSS, every 0.2 s) for the sum.
    """
    started = time.perf_counter()
    peak = [0.0]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err)
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.2):
                peak[0] = max(peak[0], tree_pss_mib(process.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        done.set()
        sampler.join()
        out.seek(0)
        err.seek(0)
        text, log = out.read(), err.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, peak[0], text, log


def generate(patients: int, data: Path) -> float:
    """Write the seeded population; return the seconds it took."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "cds_service", "synthetic", "--patients", str(patients), "--seed", "1"]
    command += ["--today", TODAY, "--plain", "--output", str(data)]
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def scan_and_audit(data: Path, out: Path, engine: str, source: Path) -> dict:
    """Measure the baseline scan, then the whole audit with the code of `source`; check its worklist."""
    scan_s, scan_cpu, scan_rss, _, scanned, _ = measured([sys.executable, "-c", SCAN_AND_COUNT, str(data)])
    command = [sys.executable, "-m", "cds_service", "audit", "--input", str(data), "--output", str(out)]
    command += ["--today", TODAY, "--engine", engine, "--no-progress"]
    audit_s, audit_cpu, audit_rss, audit_pss, _, log = measured(command, cwd=source)
    planted = json.loads((data / "planted.json").read_text())["planted"]
    found = {row["patient_id"]: row["topic"] for row in csv.DictReader((out / "worklist.csv").open())}
    counts = json.loads((out / "counts.json").read_text())
    phases = re.search(r"first pass ([\d.]+) s, second pass ([\d.]+) s, rule ([\d.]+) s", log)
    processes = re.search(r"rule [\d.]+ s \(processes: (\d+)\)", log)
    shutil.rmtree(out)
    return {
        "resources": int(scanned.strip()),
        "scan_count_s": round(scan_s, 2),
        "scan_count_cpu_s": round(scan_cpu, 2),
        "scan_count_peak_rss_mib": round(scan_rss),
        "audit_s": round(audit_s, 2),
        "audit_cpu_s": round(audit_cpu, 2),
        "audit_peak_rss_mib": round(audit_rss),
        "audit_peak_tree_pss_mib": round(audit_pss),
        "ratio_audit_to_scan": round(audit_s / scan_s, 2),
        "audit_phases_s": dict(zip(("first_pass", "second_pass", "rule"), map(float, phases.groups()), strict=False))
        if phases
        else None,
        "rule_processes": int(processes.group(1)) if processes else 1,
        "reviewed_by_rule": counts["candidates"],
        "flagged": counts["flagged_patients"],
        "planted": len(planted),
        "finds_exactly_the_planted": found == planted,
    }


def run_size(patients: int, engine: str, work: Path, rounds: int, kept: Path | None) -> dict:
    """Generate one population, then measure the baseline and the audit (and the `before` tree's), `rounds` times."""
    data = (kept or work) / f"p{patients}"
    reused = kept is not None and (data / "planted.json").is_file()
    generated = 0.0 if reused else generate(patients, data)
    size = sum(p.stat().st_size for p in data.glob("*.ndjson"))
    runs: dict[str, list[dict]] = {"this": [], "before": []}
    for _ in range(rounds):
        runs["this"].append(scan_and_audit(data, work / "out", engine, ROOT))
        if BEFORE is not None:
            runs["before"].append(scan_and_audit(data, work / "out", engine, BEFORE))
    if kept is None:
        shutil.rmtree(data)
    best = min(runs["this"], key=lambda r: r["ratio_audit_to_scan"])
    row = {
        "patients": patients,
        "engine": engine,
        "ndjson_mib": round(size / 2**20, 1),
        "generate_s": None if reused else round(generated, 1),
        **best,
        "patients_per_s": round(patients / best["audit_s"]),
        "rounds": runs["this"],
    }
    if runs["before"]:
        row["before"] = runs["before"]
    return row


def machine() -> dict:
    """Return what the figures depend on: cores, Python, DuckDB, and when the run ended (UTC)."""
    import platform

    import duckdb

    return {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "load_average_at_end": [round(x, 1) for x in os.getloadavg()],
        "ended_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
    }


def main() -> int:
    """Measure each size and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb")
    parser.add_argument("--rounds", type=int, default=1, help="scan-and-audit measurements per size (best kept)")
    parser.add_argument("--data", type=Path, help="keep the populations here (p<N>), and reuse those found there")
    parser.add_argument("--output", help="results file name under bench/results (default: audit-<engine>.json)")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="alp-guard-bench-audit-") as work:
        for patients in args.sizes:
            rows.append(run_size(patients, args.engine, Path(work), args.rounds, args.data))
            print(json.dumps(rows[-1]), flush=True)
    target = RESULTS / (args.output or f"audit-{args.engine}.json")
    source = {"before": BEFORE.name} if BEFORE is not None else {}
    target.write_text(json.dumps({"machine": machine(), **source, "sizes": rows}, indent=1) + "\n")
    print(f"results: {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
