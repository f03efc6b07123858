"""Load and durability: mixed hook calls at concurrency 32 under gunicorn with 2 workers, then 5,000 feedback posts.

1. Load. wrk (bench/load_mix.lua) sends a weighted mix of hook calls, each with its own hookInstance:
   order-sign, order-select and patient-view for the typical patient, order-sign without an antiresorptive, and
   order-sign and patient-view for the heavy patient. A warm-up of `--warmup-seconds` comes first; then
   `--seconds` (120) of load. Worker RSS (sum over the gunicorn workers, /proc/<pid>/status VmRSS) is sampled
   every 2 s. Targets: zero errors (any answer other than 200, any socket error or timeout) and RSS growth from
   the end of the warm-up to the end of the run under 10%.
2. Feedback. 5,000 distinct feedback posts are sent by `--feedback-concurrency` concurrent clients, then 200 of
   them again (exact repeats). Target: exactly 5,000 rows in the feedback table, counted in the database itself.

    .venv/bin/python bench/run_load.py                                   # SQLite, about 3 minutes
    .venv/bin/python bench/run_load.py --start-postgres                  # a throwaway local PostgreSQL cluster
    .venv/bin/python bench/run_load.py --database-url postgresql+psycopg://user@127.0.0.1:5432/db

PostgreSQL needs psycopg, which the project venv does not have: with a postgresql URL the server still runs from
.venv/bin/gunicorn, with only psycopg added to its PYTHONPATH from bench/.venv (bench/setup.sh installs it).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402
import payloads as pl  # noqa: E402

MIX = [  # (weight, service, payload)
    (30, "low-alp-order-sign", "order-sign-typical"),
    (15, "low-alp-order-select", "order-select-typical"),
    (30, "low-alp-patient-view", "patient-view-typical"),
    (20, "low-alp-order-sign", "order-sign-no-antiresorptive"),
    (3, "low-alp-order-sign", "order-sign-heavy"),
    (2, "low-alp-patient-view", "patient-view-heavy"),
]
# Diagnostic mixes for the memory figure: without the 1 MB heavy bodies, and without any card (so no audit write
# and no record read: order-sign without an antiresorptive answers at once).
MIXES = {
    "full": MIX,
    "no-heavy": [m for m in MIX if "heavy" not in m[2]],
    "no-cards": [(1, "low-alp-order-sign", "order-sign-no-antiresorptive")],
}
PLACEHOLDER = "HOOK-INSTANCE-PLACEHOLDER"


def mix_files(paths: dict[str, Path], workdir: Path, mix: list[tuple[int, str, str]]) -> list[str]:
    """Write each mix body with a placeholder hookInstance and return wrk's weight:path:file arguments."""
    specs = []
    for weight, service, name in mix:
        body = json.loads(paths[name].read_text())
        body["hookInstance"] = PLACEHOLDER
        target = workdir / f"{name}.json"
        target.write_text(json.dumps(body, separators=(",", ":")))
        specs.append(f"{weight}:/cds-services/{service}:{target}")
    return specs


def run_wrk(url: str, seconds: int, connections: int, specs: list[str]) -> dict:
    cmd = [
        "wrk",
        "-t",
        "2",
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--timeout",
        "20s",
        "--latency",
        "-s",
        str(h.BENCH / "load_mix.lua"),
        url,
        "--",
        *specs,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120, check=False).stdout
    statuses, summary = {}, {}
    for line in out.splitlines():
        if line.startswith("STATUSES "):
            statuses = json.loads(line[len("STATUSES ") :])
        elif line.startswith("SUMMARY "):
            summary = json.loads(line[len("SUMMARY ") :])
    return {"statuses": statuses, "summary": summary, "raw": out}


class Sampler(threading.Thread):
    """Samples the workers' summed RSS every `interval` seconds until stopped."""

    def __init__(self, server: h.Server, interval: float = 2.0) -> None:
        super().__init__(daemon=True)
        self.server, self.interval = server, interval
        self.samples: list[tuple[float, int, list[int]]] = []
        self.stopped = threading.Event()
        self.started_at = time.monotonic()

    def run(self) -> None:
        while not self.stopped.is_set():
            pids = self.server.worker_pids()
            self.samples.append((round(time.monotonic() - self.started_at, 1), sum(h.rss_kib(p) for p in pids), pids))
            self.stopped.wait(self.interval)


def post_feedback(url: str, bodies: list[bytes], concurrency: int) -> dict:
    """Post every body once from `concurrency` clients with keep-alive connections; count the answers."""
    host, port = url.split("//", 1)[1].split(":")
    local = threading.local()
    path = "/cds-services/low-alp-order-sign/feedback"

    def send(body: bytes) -> tuple[int, int]:
        for attempt in range(2):
            conn = getattr(local, "conn", None)
            if conn is None:
                conn = local.conn = http.client.HTTPConnection(host, int(port), timeout=30)
                conn.connect()
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                data = response.read()
                stored = json.loads(data).get("stored", 0) if response.status == 200 else 0
                return response.status, stored
            except (http.client.HTTPException, OSError):
                conn.close()
                local.conn = None
                if attempt:
                    return 0, 0  # a transport error is counted as an error, never retried twice
        return 0, 0

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        answers = list(pool.map(send, bodies))
    elapsed = time.monotonic() - started
    statuses: dict[str, int] = {}
    for status, _ in answers:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    return {
        "posts": len(bodies),
        "statuses": statuses,
        "stored_reported": sum(s for _, s in answers),
        "seconds": elapsed,
        "posts_per_second": len(bodies) / elapsed,
    }


def count_rows(database_url: str | None, env: dict[str, str]) -> int:
    """Count the feedback rows in the database itself (a separate project-venv interpreter, driver on its path)."""
    script = (
        "import sys; from sqlalchemy import create_engine, text; "
        "e = create_engine(sys.argv[1]); c = e.connect(); "
        "print(c.execute(text('SELECT count(*) FROM feedback')).scalar_one())"
    )
    if database_url is None:
        raise SystemExit("the feedback count needs a database URL")
    out = subprocess.run(
        [str(h.PROJECT_VENV / "bin" / "python"), "-c", script, database_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, **env},
    )
    return int(out.stdout.strip())


class Postgres:
    """A throwaway PostgreSQL cluster on 127.0.0.1, owned by the `postgres` system user, removed afterwards."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="alpbench-pg-"))
        self.port = h.free_port()
        self.bin = self._bindir()

    @staticmethod
    def _bindir() -> Path:
        found = shutil.which("pg_ctl")
        if found:
            return Path(os.path.realpath(found)).parent
        candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
        if not candidates:
            raise RuntimeError("no PostgreSQL server binaries (pg_ctl) on this machine")
        return candidates[-1].parent

    def _as_postgres(self, *cmd: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *cmd], check=True, capture_output=True, timeout=120)

    def start(self) -> str:
        data = self.dir / "data"
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self._as_postgres(str(self.bin / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        self._as_postgres(
            str(self.bin / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(self.dir / "log"),
            "-w",
            "-o",
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200",
            "start",
        )
        self._as_postgres(
            str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "alpguard"
        )
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/alpguard"

    def stop(self) -> None:
        try:
            self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--warmup-seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--feedback-posts", type=int, default=5000)
    parser.add_argument("--feedback-concurrency", type=int, default=64)
    parser.add_argument("--database-url", help="default: a new SQLite file in /tmp")
    parser.add_argument("--start-postgres", action="store_true", help="run against a throwaway local PostgreSQL")
    parser.add_argument("--tag", default="", help="suffix of the result file name")
    parser.add_argument("--mix", choices=sorted(MIXES), default="full", help="diagnostic mixes for the memory figure")
    args = parser.parse_args()

    pg = Postgres() if args.start_postgres else None
    database_url = pg.start() if pg else args.database_url
    postgres = bool(database_url and database_url.startswith("postgresql"))
    h.ensure_tools(need_bench_venv=postgres)
    # The server runs from the project venv; for PostgreSQL only psycopg comes from the bench venv.
    extra_env = {"PYTHONPATH": h.extras_path("psycopg", "psycopg_binary")} if postgres else {}
    extra_env["CDS_FEEDBACK_ITEMS_PER_MINUTE"] = "0"  # 5,000 posts from one address measure storage, not the limit
    paths = h.ensure_payloads()
    workdir = Path(tempfile.mkdtemp(prefix="alpbench-load-"))
    specs = mix_files(paths, workdir, MIXES[args.mix])
    report: dict = {
        "machine": h.machine(),
        "command": " ".join(["bench/run_load.py", *sys.argv[1:]]),
        "database": "postgresql" if postgres else "sqlite",
        "workers": args.workers,
        "threads": args.threads,
        "connections": args.connections,
        "mix": MIXES[args.mix],
        "mix_name": args.mix,
        "feedback_concurrency": args.feedback_concurrency,
    }
    print(f"machine: {report['machine']}")
    try:
        with h.running(
            "alp-guard-load", workers=args.workers, threads=args.threads, database_url=database_url, extra_env=extra_env
        ) as svc:
            database_url = svc.database_url
            if args.seconds > 0:
                warm = run_wrk(svc.url, args.warmup_seconds, args.connections, specs)
                sampler = Sampler(svc)
                sampler.start()
                load = run_wrk(svc.url, args.seconds, args.connections, specs)
                sampler.stopped.set()
                sampler.join()
                samples = sampler.samples
                rss_start, rss_end = samples[0][1], samples[-1][1]
                summary = load["summary"]
                errors = (
                    sum(v for k, v in load["statuses"].items() if k != "200")
                    + summary["connect_errors"]
                    + summary["read_errors"]
                    + summary["write_errors"]
                    + summary["timeouts"]
                )
                growth = (rss_end - rss_start) / rss_start
                # The 1 MB heavy bodies make RSS swing by a few percent from one sample to the next: the medians
                # of the first and last 20 s tell growth from a transient peak (reported beside the target).
                first = statistics.median(kib for _, kib, _ in samples[:10])
                last = statistics.median(kib for _, kib, _ in samples[-10:])
                report["load"] = {
                    "warmup": {"statuses": warm["statuses"], "summary": warm["summary"]},
                    "statuses": load["statuses"],
                    "summary": summary,
                    "requests_per_second": summary["requests"] / (summary["duration_us"] / 1e6),
                    "errors": errors,
                    "errors_target": h.verdict(errors == 0),
                    "rss_kib_after_warmup": rss_start,
                    "rss_kib_end": rss_end,
                    "rss_kib_max": max(s[1] for s in samples),
                    "rss_growth": growth,
                    "rss_target": h.verdict(growth < 0.10),
                    "rss_growth_median_first_last_20s": (last - first) / first,
                    "worker_pids_constant": len({tuple(s[2]) for s in samples}) == 1,
                    "rss_samples": [(t, kib) for t, kib, _ in samples],
                    "wrk_output": load["raw"],
                }
                print(
                    f"load: {summary['requests']} calls in {summary['duration_us'] / 1e6:.0f} s "
                    f"({report['load']['requests_per_second']:.1f}/s) statuses {load['statuses']}  socket errors "
                    f"{summary['connect_errors'] + summary['read_errors'] + summary['write_errors']} timeouts "
                    f"{summary['timeouts']}  -> errors {errors} [{report['load']['errors_target']}]"
                )
                print(
                    f"worker RSS after warm-up {rss_start / 1024:.1f} MiB, end {rss_end / 1024:.1f} MiB, max "
                    f"{report['load']['rss_kib_max'] / 1024:.1f} MiB: growth {growth * 100:+.1f}% "
                    f"[{report['load']['rss_target']} < 10%] (medians of the first and last 20 s: "
                    f"{(last - first) / first * 100:+.1f}%)  workers unchanged: "
                    f"{report['load']['worker_pids_constant']}"
                )
            if args.feedback_posts > 0:
                before = count_rows(database_url, extra_env)
                bodies = [
                    json.dumps(pl.feedback_body(str(uuid.uuid4()), overridden=i % 4 != 0)).encode()
                    for i in range(args.feedback_posts)
                ]
                sent = post_feedback(svc.url, bodies, args.feedback_concurrency)
                after = count_rows(database_url, extra_env)
                repeats = post_feedback(svc.url, bodies[:200], args.feedback_concurrency)
                after_repeats = count_rows(database_url, extra_env)
                stored = after - before
                report["feedback"] = {
                    "posts": sent,
                    "rows_before": before,
                    "rows_after": after,
                    "rows_stored": stored,
                    "target": h.verdict(
                        stored == args.feedback_posts and sent["statuses"] == {"200": args.feedback_posts}
                    ),
                    "exact_repeats": repeats,
                    "rows_after_repeats": after_repeats,
                    "repeats_target": h.verdict(after_repeats == after and repeats["stored_reported"] == 0),
                }
                print(
                    f"feedback: {args.feedback_posts} posts from {args.feedback_concurrency} clients in "
                    f"{sent['seconds']:.1f} s, statuses {sent['statuses']}, rows stored {stored} "
                    f"[{report['feedback']['target']}]; 200 exact repeats: statuses {repeats['statuses']}, rows "
                    f"{after_repeats} [{report['feedback']['repeats_target']}]"
                )
    finally:
        if pg:
            pg.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    path = h.save_result("load-" + report["database"] + args.tag, report)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
