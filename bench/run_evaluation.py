"""Evaluation cost: ALP Guard against the decode-only baseline, side by side, same gunicorn config, same run.

For each payload (order-sign and patient-view, typical and heavy patient, full prefetch), hey sends a bounded
number of requests at concurrency 16 to the baseline and to ALP Guard, alternating which goes first, for
`--rounds` rounds. The request count of each run is sized from a warm-up run to take about `--seconds` seconds.
Reported per payload: throughput ratio (ALP Guard / baseline, median of rounds), p99 ratio (ALP Guard / baseline),
and server CPU per request (sum over the workers from /proc) for both.

Targets (issue 5): typical patient throughput ratio >= 1/3 (stretch 1/2); p99 ratio <= 3.

`--validating` adds, for information, a third contender in the same rotation: the baseline app's `/validating/…`
route, which also parses every prefetch resource whole with fhir.resources (bench/baseline_app.py).

    .venv/bin/python bench/run_evaluation.py            # about 3 minutes
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402

CASES = [  # (payload, service id, is the target's "typical patient")
    ("order-sign-typical", "low-alp-order-sign", True),
    ("patient-view-typical", "low-alp-patient-view", True),
    ("order-sign-heavy", "low-alp-order-sign", False),
    ("patient-view-heavy", "low-alp-patient-view", False),
]


def measured(server: h.Server, url: str, body: Path, n: int, c: int) -> dict:
    pids = server.worker_pids()
    before = h.cpu_seconds(pids)
    result = h.hey(url, body, n=n, c=c)
    cpu = h.cpu_seconds(pids) - before
    ok = max(result.ok, 1)
    return {"hey": result, "cpu_ms_per_request": 1000 * cpu / ok}


def size_n(rps: float, seconds: float, c: int, lo: int, hi: int) -> int:
    n = int(rps * seconds)
    return max(lo, min(hi, -(-n // c) * c))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0, help="target duration of each measured run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--only", help="run only the payloads whose name contains this")
    parser.add_argument("--tag", default="", help="suffix of the result file name")
    parser.add_argument(
        "--validating",
        action="store_true",
        help="also measure the baseline that parses every prefetch resource with fhir.resources",
    )
    args = parser.parse_args()
    c = args.concurrency

    h.ensure_tools()
    payloads = h.ensure_payloads()
    report: dict[str, Any] = {
        "machine": h.machine(),
        "command": " ".join(["bench/run_evaluation.py", *sys.argv[1:]]),
        "concurrency": c,
        "workers": args.workers,
        "threads": args.threads,
        "cases": {},
    }
    print(f"machine: {report['machine']}")
    with (
        h.running("alp-guard", workers=args.workers, threads=args.threads) as svc,
        h.running("baseline", app=h.BASELINE_APP, workers=args.workers, threads=args.threads) as base,
    ):
        for name, service_id, typical in CASES:
            if args.only and args.only not in name:
                continue
            body = payloads[name]
            urls = {
                "baseline": f"{base.url}/cds-services/{service_id}",
                "alp_guard": f"{svc.url}/cds-services/{service_id}",
            }
            servers = {"baseline": base, "alp_guard": svc}
            if args.validating:
                urls["validating"] = f"{base.url}/validating/cds-services/{service_id}"
                servers["validating"] = base
            contenders = list(urls)
            # Warm-up (imports, first validations, connection set-up) also sizes the runs.
            sizes = {}
            for who in contenders:
                warm = h.hey(urls[who], body, n=2 * c, c=c)
                sizes[who] = size_n(warm.rps, args.seconds, c, lo=3 * c, hi=40 * c * 10)
            runs: dict[str, list[dict]] = {who: [] for who in contenders}
            for round_ in range(args.rounds):
                order = (
                    contenders[round_ % len(contenders) :] + contenders[: round_ % len(contenders)]
                )  # each goes first in turn
                for who in order:
                    runs[who].append(measured(servers[who], urls[who], body, sizes[who], c))
            med: dict[str, dict[str, Any]] = {
                who: {
                    "rps": h.median([r["hey"].rps for r in rs]),
                    "p50_s": h.median([r["hey"].p50_s for r in rs]),
                    "p99_s": h.median([r["hey"].p99_s for r in rs]),
                    "cpu_ms_per_request": h.median([r["cpu_ms_per_request"] for r in rs]),
                    "non_200": sum(sum(v for k, v in r["hey"].statuses.items() if k != "200") for r in rs),
                    "failed": sum(len(r["hey"].errors) for r in rs),
                }
                for who, rs in runs.items()
            }
            throughput_ratio = med["alp_guard"]["rps"] / med["baseline"]["rps"]
            p99_ratio = med["alp_guard"]["p99_s"] / med["baseline"]["p99_s"]
            per_round_tp = [
                a["hey"].rps / b["hey"].rps for a, b in zip(runs["alp_guard"], runs["baseline"], strict=False)
            ]
            per_round_p99 = [
                a["hey"].p99_s / b["hey"].p99_s for a, b in zip(runs["alp_guard"], runs["baseline"], strict=False)
            ]
            case: dict[str, Any] = {
                "service": service_id,
                "payload_bytes": body.stat().st_size,
                "typical": typical,
                "requests_per_run": sizes,
                "median": med,
                "throughput_ratio": throughput_ratio,
                "throughput_ratio_per_round": per_round_tp,
                "p99_ratio": p99_ratio,
                "p99_ratio_per_round": per_round_p99,
                "cpu_per_request_ratio": med["alp_guard"]["cpu_ms_per_request"] / med["baseline"]["cpu_ms_per_request"],
                "throughput_target": (
                    h.verdict(throughput_ratio >= 1 / 3) + (" (stretch met)" if throughput_ratio >= 0.5 else "")
                )
                if typical
                else "n/a (target is for the typical patient)",
                "p99_target": h.verdict(p99_ratio <= 3),
                "runs": runs,
            }
            if args.validating:
                case["alp_guard_over_validating"] = {
                    "throughput": med["alp_guard"]["rps"] / med["validating"]["rps"],
                    "p99": med["alp_guard"]["p99_s"] / med["validating"]["p99_s"],
                    "cpu": med["alp_guard"]["cpu_ms_per_request"] / med["validating"]["cpu_ms_per_request"],
                }
            report["cases"][name] = case
            print(
                f"{name:22s} throughput {med['alp_guard']['rps']:8.1f} / {med['baseline']['rps']:8.1f} rps = "
                f"{throughput_ratio:.3f} [{case['throughput_target']}]  p99 {med['alp_guard']['p99_s'] * 1000:7.1f} / "
                f"{med['baseline']['p99_s'] * 1000:6.1f} ms = {p99_ratio:5.1f}x [{case['p99_target']}]  CPU/request "
                f"{med['alp_guard']['cpu_ms_per_request']:.1f} / {med['baseline']['cpu_ms_per_request']:.2f} ms  "
                f"non-200 {med['alp_guard']['non_200']}/{med['baseline']['non_200']}",
                flush=True,
            )
            if args.validating:
                v, r = med["validating"], case["alp_guard_over_validating"]
                print(
                    f"{'':22s} against the validating baseline: {v['rps']:.1f} rps, p99 {v['p99_s'] * 1000:.1f} ms, "
                    f"CPU {v['cpu_ms_per_request']:.1f} ms: throughput {r['throughput']:.2f}x, p99 {r['p99']:.2f}x, "
                    f"CPU {r['cpu']:.2f}x  non-200 {v['non_200']}",
                    flush=True,
                )
    path = h.save_result("evaluation" + (f"-{args.only}" if args.only else "") + args.tag, report)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
