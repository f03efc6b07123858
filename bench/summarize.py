"""Print the Markdown results table of BENCHMARKS.md from the JSON files in bench/results/ (or the folder given).

.venv/bin/python bench/summarize.py [bench/results/before-b0381fa]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "results"


def load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def outside_stages(profile: dict, stages: set[str]) -> float:
    """Return the CPU milliseconds of a call spent outside the named top-level stages."""
    inside = sum(v["cpu_ms_per_request"] for k, v in profile["stages"].items() if k in stages)
    return profile["cpu_ms_per_request"] - inside


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main() -> None:
    rows: list[tuple[str, str, str, str, str, str]] = []  # what, target, ratio, verdict, raw, command

    ev = load("evaluation")
    if ev:
        for name, case in ev["cases"].items():
            m = case["median"]
            a, b = m["alp_guard"], m["baseline"]
            raw = (
                f"{a['rps']:.1f} / {b['rps']:.1f} rps; p99 {ms(a['p99_s'])} / {ms(b['p99_s'])}; "
                f"CPU {a['cpu_ms_per_request']:.1f} / {b['cpu_ms_per_request']:.2f} ms a call "
                f"({case['cpu_per_request_ratio']:.0f}x); per round "
                + ", ".join(f"{r:.3f}" for r in case["throughput_ratio_per_round"])
            )
            if case["typical"]:
                rows.append(
                    (
                        f"Evaluation cost, {name}: throughput",
                        "≥ 1/3 (stretch 1/2)",
                        f"{case['throughput_ratio']:.3f} (1/{1 / case['throughput_ratio']:.0f})",
                        case["throughput_target"].split(" ")[0],
                        raw,
                        "bench/run_evaluation.py",
                    )
                )
            else:
                rows.append(
                    (
                        f"Evaluation cost, {name}: throughput",
                        "none (reported)",
                        f"{case['throughput_ratio']:.3f} (1/{1 / case['throughput_ratio']:.0f})",
                        "-",
                        raw,
                        "bench/run_evaluation.py",
                    )
                )
            rows.append(
                (
                    f"Evaluation cost, {name}: p99 at c=16",
                    "≤ 3×",
                    f"{case['p99_ratio']:.1f}×",
                    case["p99_target"],
                    "per round " + ", ".join(f"{r:.1f}×" for r in case["p99_ratio_per_round"]),
                    "bench/run_evaluation.py",
                )
            )
    t2 = load("evaluation-order-sign-typical-threads2")
    if t2:
        case = t2["cases"]["order-sign-typical"]
        m = case["median"]
        rows.append(
            (
                "Evaluation cost, order-sign-typical, GUNICORN_THREADS=2 (informative)",
                "≤ 3× p99",
                f"{case['throughput_ratio']:.3f} throughput, {case['p99_ratio']:.1f}× p99",
                case["p99_target"],
                f"p99 {ms(m['alp_guard']['p99_s'])} / {ms(m['baseline']['p99_s'])}",
                "bench/run_evaluation.py --only order-sign-typical --threads 2",
            )
        )

    va = load("evaluation-typical-validating")
    for name, case in (va or {}).get("cases", {}).items():
        v, r = case["median"]["validating"], case["alp_guard_over_validating"]
        rows.append(
            (
                f"Evaluation cost, {name}, against a baseline that also parses the prefetch with fhir.resources "
                "(informative)",
                "none",
                f"{r['throughput']:.2f}× throughput, {r['p99']:.2f}× p99",
                "-",
                f"{case['median']['alp_guard']['rps']:.1f} / {v['rps']:.1f} rps; p99 "
                f"{ms(case['median']['alp_guard']['p99_s'])} / {ms(v['p99_s'])}; CPU "
                f"{case['median']['alp_guard']['cpu_ms_per_request']:.1f} / {v['cpu_ms_per_request']:.1f} ms a call",
                "bench/run_evaluation.py --only typical --validating",
            )
        )

    fetches = [f for f in (load(f"fetch_path-{i}") for i in (1, 2, 3)) if f] or [f for f in [load("fetch_path")] if f]
    if fetches:
        ratios = [f["order_sign_over_one_query"] for f in fetches]
        passed = sum(r <= 1.3 for r in ratios)
        verdict = "PASS" if passed == len(ratios) else ("MISS" if passed == 0 else f"PASS in {passed} of {len(ratios)}")
        rows.append(
            (
                "Fetch path: whole order-sign, no prefetch / one FHIR query (100 ms added)",
                "≤ 1.3×",
                " / ".join(f"{r:.2f}×" for r in ratios),
                verdict,
                "; ".join(
                    f"{ms(f['order_sign_no_prefetch_s']['median'])} / {ms(f['one_query_s']['median'])}" for f in fetches
                )
                + f"; service's own time with no delay {ms(fetches[0]['without_delay']['order_sign_s'])}",
                "bench/run_fetch_path.py",
            )
        )
        dup = all(not f["fhir_urls_not_fetched_exactly_once_per_call"] for f in fetches)
        conns = [f["fhir_new_connections_during_measured_calls"] for f in fetches]
        rows.append(
            (
                "Fetch path: FHIR requests per order-sign; new connections after warm-up",
                "6 (nothing twice); 0",
                f"{fetches[0]['fhir_requests_per_order_sign']:.1f}; {max(conns)}",
                "PASS" if dup and max(conns) == 0 else "MISS",
                f"{fetches[0]['calls']} calls a run, every URL fetched exactly once a call: {dup}",
                "bench/run_fetch_path.py",
            )
        )
        pr = [f["pagination"]["prefetch_page1_over_three_round_trips"] for f in fetches]
        rows.append(
            (
                "Pagination: prefetch page 1 + next link (2 more pages) / 3 sequential round trips",
                "≤ 1.0×",
                " / ".join(f"{r:.2f}×" for r in pr),
                "PASS" if all(r <= 1.0 for r in pr) else "MISS",
                "; ".join(
                    f"{ms(f['pagination']['prefetch_page1_order_sign_s']['median'])} / "
                    f"{ms(f['pagination']['three_sequential_round_trips_s']['median'])}"
                    for f in fetches
                ),
                "bench/run_fetch_path.py",
            )
        )
        npr = [f["pagination"]["no_prefetch_three_pages_over_three_round_trips"] for f in fetches]
        rows.append(
            (
                "Pagination: no prefetch, ALP in 3 pages / 3 sequential round trips (informative)",
                "none",
                " / ".join(f"{r:.2f}×" for r in npr),
                "-",
                "; ".join(f"{ms(f['pagination']['no_prefetch_three_pages_order_sign_s']['median'])}" for f in fetches),
                "bench/run_fetch_path.py",
            )
        )

    sc = load("scaling")
    if sc:
        for kind in ("alp_guard", "baseline"):
            data = sc["results"].get(kind)
            if not data:
                continue
            best = {w: max(r["hey"]["rps"] for r in row["runs"]) for w, row in data.items()}
            rows.append(
                (
                    f"Scaling, {kind.replace('_', ' ')}: throughput at 1 / 2 / 4 workers",
                    "grows with cores",
                    " / ".join(f"{row['ratio_to_1_worker']:.2f}×" for row in data.values()),
                    "see text",
                    "median rps "
                    + " / ".join(f"{row['rps']:.1f}" for row in data.values())
                    + "; server CPU "
                    + " / ".join(f"{row['server_cpu_cores']:.2f}" for row in data.values())
                    + " cores; best round "
                    + " / ".join(f"{v / best['1']:.2f}×" for v in best.values())
                    + (
                        (
                            "; rps per server core "
                            + " / ".join(f"{row['rps_per_server_core']:.1f}" for row in data.values())
                        )
                        if all("rps_per_server_core" in row for row in data.values())
                        else ""
                    ),
                    "bench/run_scaling.py",
                )
            )

    for db in ("sqlite", "postgresql"):
        ld = load(f"load-{db}")
        if not ld:
            continue
        cmd = "bench/run_load.py" + (" --start-postgres" if db == "postgresql" else "")
        if "load" in ld:
            lo = ld["load"]
            s = lo["summary"]
            rows.append(
                (
                    f"Load ({db}): {s['duration_us'] / 1e6:.0f} s at c={ld['connections']}, 2 workers: errors",
                    "0",
                    str(lo["errors"]),
                    lo["errors_target"],
                    f"{s['requests']} calls ({lo['requests_per_second']:.1f}/s), statuses {lo['statuses']}, "
                    f"p50 {s['p50_us'] / 1000:.0f} ms, p99 {s['p99_us'] / 1000:.0f} ms",
                    cmd,
                )
            )
            windowed = lo.get("rss_growth_median_first_last_20s")
            rows.append(
                (
                    f"Load ({db}): worker RSS growth after warm-up",
                    "< 10%",
                    f"{lo['rss_growth'] * 100:+.1f}%",
                    lo["rss_target"],
                    f"{lo['rss_kib_after_warmup'] / 1024:.1f} → {lo['rss_kib_end'] / 1024:.1f} "
                    f"MiB (max {lo['rss_kib_max'] / 1024:.1f})"
                    + (f"; medians of first/last 20 s {windowed * 100:+.1f}%" if windowed is not None else ""),
                    cmd,
                )
            )
        fb = ld.get("feedback")
        if not fb:
            continue
        rows.append(
            (
                f"Feedback ({db}): {fb['posts']['posts']} posts from "
                f"{ld.get('feedback_concurrency', 64)} concurrent clients",
                f"exactly {fb['posts']['posts']:,} rows",
                f"{fb['rows_stored']} rows",
                fb["target"],
                f"statuses {fb['posts']['statuses']}, {fb['posts']['posts_per_second']:.0f} posts/s; 200 exact "
                f"repeats stored {fb['rows_after_repeats'] - fb['rows_after']} more rows",
                cmd,
            )
        )

    print("| measurement | target | ratio / result | verdict | raw numbers (ALP Guard / baseline) | command |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    machines = {
        json.dumps({k: v for k, v in (d or {}).get("machine", {}).items() if k in ("nproc", "cpu_model")})
        for d in [ev, sc, *(fetches or [])]
        if d
    }
    dates = sorted({(d or {}).get("machine", {}).get("date_utc", "") for d in [ev, sc, *(fetches or [])] if d})
    sources = sorted({(d or {}).get("machine", {}).get("source", "") for d in [ev, sc, *(fetches or [])] if d})
    print(
        f"\nMachine: {', '.join(machines)}; runs (UTC): {dates[0] if dates else '?'} to {dates[-1] if dates else '?'}; "
        f"source: {', '.join(sources)}"
    )
    prof = load("profile")
    if prof:
        print(
            "\nStages of one call, CPU time in-process (share of the call; ↳ = inside the stage above it: model "
            "validation and the ALP/HPP rules run inside prefetch -> evidence (the draft's validation inside draft "
            "orders), the depth check inside the JSON decode)\n"
        )
        names = list(prof["stages"])
        print("| stage | " + " | ".join(names) + " |")
        print("|---|" + "---|" * len(names))
        keys = list(prof["stages"][names[0]]["stages"])
        for key in keys:
            cells = []
            for name in names:
                st = prof["stages"][name]["stages"].get(key)
                if not st:
                    cells.append("-")
                    continue
                calls = f"; {round(st['calls_per_request'])} × {round(st['cpu_us_per_call'])} µs"
                cells.append(
                    f"{st['cpu_ms_per_request']:.2f} ms ({st['cpu_share'] * 100:.0f}%)"
                    + (calls if key.startswith("validate") else "")
                )
            nested = key.startswith(("validate", "rules (ALP")) or key == "json nesting-depth check"
            print(f"| {'↳ ' if nested else ''}{key} | " + " | ".join(cells) + " |")
        top = {
            "json decode + depth check",
            "parse hook request",
            "count limits",
            "draft orders",
            "resolve prefetch",
            "prefetch -> evidence",
            "rules (order findings)",
            "rules (patient-view findings)",
            "override history (DB read)",
            "render cards",
            "card audit (DB write)",
        }
        print(
            "| other (Flask, werkzeug, metrics, logging, ...) | "
            + " | ".join(f"{outside_stages(prof['stages'][n], top):.2f} ms" for n in names)
            + " |"
        )
        print(
            "| **whole call** | "
            + " | ".join(f"**{prof['stages'][n]['cpu_ms_per_request']:.1f} ms**" for n in names)
            + " |"
        )
        if "pyspy" in prof:
            print("\npy-spy under gunicorn (share of samples in request handling, inclusive)\n")
            names = list(prof["pyspy"])
            print("| frame | " + " | ".join(names) + " |")
            print("|---|" + "---|" * len(names))
            for label in prof["pyspy"][names[0]]["inclusive_share"]:
                print(
                    f"| {label.strip()} | "
                    + " | ".join(f"{prof['pyspy'][n]['inclusive_share'][label] * 100:.1f}%" for n in names)
                    + " |"
                )
            print(
                "| self time by package | "
                + " | ".join(
                    ", ".join(f"{p} {s * 100:.0f}%" for p, s in prof["pyspy"][n]["self_by_package"][:5]) for n in names
                )
                + " |"
            )


if __name__ == "__main__":
    main()
