"""Scaling: ALP Guard's throughput at 1, 2 and 4 gunicorn workers (8 threads each), as a ratio to 1 worker.

Three servers run side by side (an idle one costs no CPU); hey sends the typical order-sign at concurrency 16 to
each in turn, in `--rounds` rounds with the order rotated, each run sized from a warm-up to take about `--seconds`.
The decode-only baseline is measured the same way at each worker count, for reference. On a machine with N cores,
throughput can only grow up to about N workers, and hey itself needs some of the same cores.

    .venv/bin/python bench/run_scaling.py               # about 2.5 minutes
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--payload", default="order-sign-typical")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    c = args.concurrency

    h.ensure_tools()
    body = h.ensure_payloads()[args.payload]
    service_id = "low-alp-patient-view" if args.payload.startswith("patient-view") else "low-alp-order-sign"
    report: dict = {
        "machine": h.machine(),
        "command": " ".join(["bench/run_scaling.py", *sys.argv[1:]]),
        "payload": args.payload,
        "concurrency": c,
        "threads": args.threads,
        "results": {},
    }
    print(f"machine: {report['machine']}")
    kinds = ["alp_guard"] + ([] if args.no_baseline else ["baseline"])
    with ExitStack() as stack:
        servers = {
            (kind, w): stack.enter_context(
                h.running(
                    f"{kind}-{w}w",
                    app=h.SERVICE_APP if kind == "alp_guard" else h.BASELINE_APP,
                    workers=w,
                    threads=args.threads,
                )
            )
            for kind in kinds
            for w in counts
        }
        sizes = {}
        for key, server in servers.items():
            warm = h.hey(f"{server.url}/cds-services/{service_id}", body, n=2 * c, c=c)
            sizes[key] = max(3 * c, min(4000, int(warm.rps * args.seconds)))
        runs: dict = {key: [] for key in servers}
        keys = list(servers)
        for round_ in range(args.rounds):
            shift = round_ % len(keys)
            for key in keys[shift:] + keys[:shift]:
                server = servers[key]
                pids = server.worker_pids()
                before = h.cpu_seconds(pids)
                result = h.hey(f"{server.url}/cds-services/{service_id}", body, n=sizes[key], c=c)
                cpu = h.cpu_seconds(pids) - before
                runs[key].append({"hey": result, "server_cpu_cores": cpu / result.total_s})
    for kind in kinds:
        one = h.median([r["hey"].rps for r in runs[(kind, counts[0])]])
        rows = {}
        for w in counts:
            rs = runs[(kind, w)]
            rps = h.median([r["hey"].rps for r in rs])
            rows[str(w)] = {
                "rps": rps,
                "ratio_to_1_worker": rps / one,
                "p99_s": h.median([r["hey"].p99_s for r in rs]),
                "server_cpu_cores": h.median([r["server_cpu_cores"] for r in rs]),
                # Throughput per core the server actually got: flat across worker counts means nothing
                # serialises the workers, so throughput follows the cores a machine can give.
                "rps_per_server_core": h.median([r["hey"].rps / r["server_cpu_cores"] for r in rs]),
                "non_200": sum(sum(v for k, v in r["hey"].statuses.items() if k != "200") for r in rs),
                "runs": rs,
            }
            print(
                f"{kind:9s} {w} worker(s): {rps:8.1f} rps = {rps / one:.2f}x 1 worker   p99 "
                f"{rows[str(w)]['p99_s'] * 1000:7.1f} ms   server CPU {rows[str(w)]['server_cpu_cores']:.2f} cores  "
                f"{rows[str(w)]['rps_per_server_core']:.1f} rps per server core  "
                f"non-200 {rows[str(w)]['non_200']}",
                flush=True,
            )
        report["results"][kind] = rows
    path = h.save_result("scaling", report)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
