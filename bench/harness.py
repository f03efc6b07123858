"""Shared pieces of the benchmarks: tools, servers under gunicorn, hey runs, process memory, machine facts.

Everything talks to 127.0.0.1 only. Servers are started by these scripts and stopped by their own process id.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PROJECT_VENV = ROOT / ".venv"
# The service's source tree: this work tree, or another one (for example `git archive <commit>` unpacked in /tmp)
# named by BENCH_SOURCE, so that a commit can be measured while the work tree moves on. The venv stays the same.
SOURCE = Path(os.environ.get("BENCH_SOURCE", str(ROOT))).resolve()
BENCH_VENV = BENCH / ".venv"
PAYLOADS = BENCH / "out" / "payloads"
RESULTS = Path(os.environ.get("BENCH_RESULTS", str(BENCH / "results"))).resolve()
HOST = "127.0.0.1"

SERVICE_APP = "cds_service.wsgi:app"
BASELINE_APP = "baseline_app:app"  # bench/baseline_app.py, found through --pythonpath bench


def ensure_tools(need_bench_venv: bool = False) -> None:
    """Install hey and wrk (Debian) and the bench venv when missing, through bench/setup.sh."""
    missing = [t for t in ("hey", "wrk") if shutil.which(t) is None]
    if missing or (need_bench_venv and not (BENCH_VENV / "bin" / "python").exists()):
        subprocess.run(["bash", str(BENCH / "setup.sh")], check=True)
    if not (PROJECT_VENV / "bin" / "gunicorn").exists():
        sys.exit(f"{PROJECT_VENV}/bin/gunicorn is missing: create the project venv first (see README)")


def extras_path(*packages: str) -> str:
    """A folder holding only the named packages of bench/.venv (symlinks), for a project-venv process's PYTHONPATH.

    The server and its helpers keep running from the project venv; only these packages (psycopg for PostgreSQL,
    pyinstrument for profiling) come from the bench venv, and nothing of the project venv is shadowed.
    """
    site = next((BENCH_VENV / "lib").glob("python3*/site-packages"))
    folder = BENCH / "out" / ("extras-" + "-".join(packages))
    folder.mkdir(parents=True, exist_ok=True)
    for entry in site.iterdir():
        name = entry.name.split("-", 1)[0].split(".", 1)[0].lower()
        if name in packages:
            link = folder / entry.name
            if not link.exists():
                link.symlink_to(entry)
    return str(folder)


def ensure_payloads() -> dict[str, Path]:
    """Generate the payloads for today's date (the service's clock is real, the windows are relative)."""
    sys.path.insert(0, str(BENCH))
    import payloads  # noqa: PLC0415

    return payloads.generate(PAYLOADS)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def machine() -> dict[str, object]:
    """The facts every result file carries: cores, CPU model, kernel, Python, tool versions, time."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def version(cmd: list[str]) -> str:
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "not found"

    load = os.getloadavg()
    git = ["git", "-C", str(ROOT)]
    head = version([*git, "rev-parse", "--short", "HEAD"])
    changed = subprocess.run(
        [*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, check=False
    ).stdout.count("\n")
    source = f"{head} + {changed} modified tracked files" if SOURCE == ROOT else f"{SOURCE} (BENCH_SOURCE)"
    return {
        "date_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wrk": version(["wrk", "-v"]),
        "loadavg_at_start": [round(x, 2) for x in load],
        # The tree is shared and changes between runs: name the commit and how many tracked files differ from it.
        "source": source,
    }


@dataclass
class Server:
    """A gunicorn master started by a benchmark, with its log file."""

    name: str
    port: int
    process: subprocess.Popen
    log: Path
    database_url: str | None = None
    tmpdir: Path | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def worker_pids(self) -> list[int]:
        return children(self.process.pid)

    def worker_rss_kib(self) -> int:
        return sum(rss_kib(pid) for pid in self.worker_pids())


def children(pid: int) -> list[int]:
    """Direct child processes of `pid` (gunicorn's workers), from /proc."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Field 4 is the parent pid; the command name (field 2) may hold spaces, so split after its ')'.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            pids.append(int(entry.name))
    return sorted(pids)


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def start_server(
    name: str,
    *,
    app: str = SERVICE_APP,
    workers: int = 2,
    threads: int = 8,
    database_url: str | None = None,
    venv: Path = PROJECT_VENV,
    extra_env: dict[str, str] | None = None,
) -> Server:
    """Start gunicorn with the project's gunicorn.conf.py and wait until it answers."""
    port = free_port()
    tmpdir = Path(tempfile.mkdtemp(prefix=f"alpbench-{name}-"))
    database_url = database_url or f"sqlite:///{tmpdir / 'alp_guard.sqlite3'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CDS_", "GUNICORN_", "PROMETHEUS_"))}
    env.update(
        {
            "CDS_AUTH_MODE": "none",
            "CDS_HOST": HOST,
            "CDS_PORT": str(port),
            "CDS_DATABASE_URL": database_url,
            "CDS_LOG_LEVEL": "WARNING",  # one JSON line per call would cost the service time and fill the disk
            "GUNICORN_WORKERS": str(workers),
            "GUNICORN_THREADS": str(threads),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.update(extra_env or {})
    log = tmpdir / "gunicorn.log"
    cmd = [str(venv / "bin" / "gunicorn"), "--config", "gunicorn.conf.py", "--pythonpath", str(BENCH), app]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            cmd, cwd=SOURCE, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(name, port, process, log, database_url, tmpdir)
    deadline = time.monotonic() + 60
    probe = "/healthz" if app == SERVICE_APP else "/"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited at start-up:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(server.url + probe, timeout=2) as response:
                if response.status == 200 and len(server.worker_pids()) >= workers:
                    return server
        except OSError:
            pass
        time.sleep(0.2)
    stop_server(server)
    raise RuntimeError(f"{name} did not answer within 60 s:\n{log.read_text()[-3000:]}")


def stop_server(server: Server) -> None:
    """Stop the gunicorn master this script started (by its pid), then its workers follow; remove its files."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)
    if server.tmpdir and not os.environ.get("BENCH_KEEP"):
        shutil.rmtree(server.tmpdir, ignore_errors=True)


@contextmanager
def running(name: str, **kwargs: object) -> Iterator[Server]:
    server = start_server(name, **kwargs)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        stop_server(server)


@dataclass
class HeyResult:
    """The summary of one hey run."""

    requests: int
    concurrency: int
    rps: float
    total_s: float
    p50_s: float
    p90_s: float
    p99_s: float
    statuses: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return self.statuses.get("200", 0)


def hey(url: str, body: Path | None, *, n: int, c: int, timeout_s: int = 20) -> HeyResult:
    """Run hey: `n` requests (rounded up to a multiple of `c`) at concurrency `c`; bounded by count and time.

    The per-request CSV (`-o csv`) gives exact percentiles; hey leaves failed requests out of it, so
    errors = requests sent - rows.
    """
    n = -(-n // c) * c
    cmd = ["hey", "-n", str(n), "-c", str(c), "-t", str(timeout_s), "-o", "csv"]
    if body is not None:
        cmd += ["-m", "POST", "-T", "application/json", "-D", str(body)]
    cmd.append(url)
    # hey stops after n requests; a hung server is cut off by the per-request timeout, and the whole run by this.
    out = subprocess.run(
        cmd, capture_output=True, text=True, timeout=max(120, n * timeout_s // c + 60), check=False
    ).stdout
    return parse_hey_csv(out, n, c)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def parse_hey_csv(out: str, n: int, c: int) -> HeyResult:
    latencies: list[float] = []
    ends: list[float] = []
    statuses: dict[str, int] = {}
    for line in out.splitlines()[1:]:
        parts = line.split(",")
        if len(parts) < 8:
            continue
        latency, status, offset = float(parts[0]), parts[6], float(parts[7])
        latencies.append(latency)
        ends.append(offset + latency)
        statuses[status] = statuses.get(status, 0) + 1
    if not latencies:
        return HeyResult(
            n, c, 0.0, float("nan"), float("nan"), float("nan"), float("nan"), statuses, [f"{n} requests failed"]
        )
    span = max(ends)
    failed = n - len(latencies)
    return HeyResult(
        requests=n,
        concurrency=c,
        rps=statuses.get("200", 0) / span,
        total_s=span,
        p50_s=percentile(latencies, 50),
        p90_s=percentile(latencies, 90),
        p99_s=percentile(latencies, 99),
        statuses=statuses,
        errors=[f"{failed} requests failed without an HTTP answer"] if failed else [],
    )


def median(values: list[float]) -> float:
    return statistics.median(values)


def save_result(name: str, result: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(
        json.dumps(result, indent=2, default=lambda o: asdict(o) if hasattr(o, "__dataclass_fields__") else str(o))
        + "\n"
    )
    return shown(path)


def shown(path: Path) -> Path:
    """Return `path` relative to the repository when inside it: results and logs are kept, machine paths are not."""
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of the processes, from /proc/<pid>/stat (clock ticks)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of the full line)
    return total / ticks
