"""Profile the hot path of order-sign (typical and heavy patient, full prefetch): where does the time go?

Three views, all written to bench/results/:

1. stages (in-process, Flask test client, no profiler): each request's CPU and wall time split into the stages of
   cds_service/api.py call_service, by wrapping the functions it calls (JSON decode and its nesting-depth check,
   draft orders, prefetch-to-evidence with FHIR model validation per resource type, rules, card rendering,
   override history, card audit). Overhead of the wrappers: about a microsecond a call.
2. pyinstrument (in-process): the call tree, `profile-pyinstrument-<payload>.txt`.
3. py-spy (sampling the real gunicorn worker under hey load, 1 worker, 8 threads): collapsed stacks
   `profile-pyspy-<payload>.txt.gz` and the share of samples in the main frames. py-spy starts gunicorn itself
   (`py-spy record --subprocesses -- gunicorn ...`): attaching to a running process is not permitted here.

    .venv/bin/python bench/run_profile.py            # about 2 minutes
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import functools
import gzip
import importlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402

CASES = {"order-sign-typical": 60, "order-sign-heavy": 8}  # payload -> requests per measurement
SERVICE = "/cds-services/low-alp-order-sign"


def stage_breakdown(payloads: dict[str, Path], repeat: dict[str, int]) -> dict:
    """Wall time per stage of call_service, averaged over requests, by wrapping the functions it calls."""
    sys.path.insert(0, str(h.SOURCE))
    for name in list(os.environ):
        if name.startswith("CDS_"):
            del os.environ[name]
    import cds_service.api as api  # noqa: PLC0415
    import cds_service.limits as limits  # noqa: PLC0415
    import cds_service.services as services  # noqa: PLC0415

    # issue 12's pipeline; earlier trees call these from cds_service.api
    pipeline: types.ModuleType = api
    with contextlib.suppress(ImportError):
        pipeline = importlib.import_module("cds_service.pipeline")
    import hooks.evidence as evidence  # noqa: PLC0415
    import hooks.extract as extract  # noqa: PLC0415
    from cds_service import create_app  # noqa: PLC0415

    spent: collections.defaultdict[str, float] = collections.defaultdict(float)  # wall time
    cpu: collections.defaultdict[str, float] = collections.defaultdict(float)  # CPU time of the calling thread
    calls: collections.Counter[str] = collections.Counter()

    def timed(label: str | None, fn, by_type: bool = False):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            key = label or "?"
            if by_type:
                resource = args[0] if args else None
                key = f"validate {resource.get('resourceType') if isinstance(resource, dict) else '?'}"
            started, started_cpu = time.perf_counter(), time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[key] += time.perf_counter() - started
                cpu[key] += time.thread_time() - started_cpu
                calls[key] += 1

        return wrapper

    # Wrapped where they are looked up (module globals of the caller). The tree changes while others work on it:
    # a name that is gone is skipped and listed in the result.
    plan = [
        (limits, "nesting_depth", "json nesting-depth check"),
        (api, "load_json", "json decode + depth check"),
        (api, "parse_hook_request", "parse hook request"),
        (api, "check_counts", "count limits"),
        (pipeline, "respect_overrides", "override history (DB read)"),
        (pipeline, "render_cards", "render cards"),
        (pipeline, "record_served", "card audit (DB write)"),
        (pipeline, "context_orders", "draft orders"),
        (pipeline, "gather", "resolve prefetch"),
        (pipeline, "evidence_from_resources", "prefetch -> evidence"),
        (services, "evaluate_antiresorptive_orders", "rules (order findings)"),
        (services, "evaluate_patient_view", "rules (patient-view findings)"),
        (evidence, "gather_evidence", "rules (ALP pattern, HPP, substrates)"),
        (evidence, "read_lab_results", "read Observations"),
        (evidence, "read_medication_uses", "read medications"),
        (evidence, "read_conditions", "read Conditions"),
    ]
    missing = []
    for module, attribute, label in plan:
        if hasattr(module, attribute):
            setattr(module, attribute, timed(label, getattr(module, attribute)))
        else:
            missing.append(f"{module.__name__}.{attribute}")
    if hasattr(extract, "validate"):  # the fhir.resources reader before issue 12
        extract.validate = timed(None, extract.validate, by_type=True)

    tmp = tempfile.mkdtemp(prefix="alpbench-prof-")
    app = create_app({"auth_mode": "none", "log_level": "WARNING", "database_url": f"sqlite:///{tmp}/db.sqlite3"})
    client = app.test_client()
    out = {}
    for name, n in repeat.items():
        body = payloads[name].read_bytes()
        for _ in range(3):
            client.post(SERVICE, data=body, content_type="application/json")
        spent.clear()
        cpu.clear()
        calls.clear()
        started, started_cpu = time.perf_counter(), time.thread_time()
        for _ in range(n):
            assert client.post(SERVICE, data=body, content_type="application/json").status_code == 200
        total = (time.perf_counter() - started) / n
        total_cpu = (time.thread_time() - started_cpu) / n
        stages = {
            key: {
                "cpu_ms_per_request": 1000 * cpu[key] / n,
                "wall_ms_per_request": 1000 * value / n,
                "calls_per_request": calls[key] / n,
                "cpu_us_per_call": 1e6 * cpu[key] / calls[key],
                "cpu_share": cpu[key] / n / total_cpu,
            }
            for key, value in sorted(spent.items(), key=lambda kv: -cpu[kv[0]])
        }
        out[name] = {
            "cpu_ms_per_request": 1000 * total_cpu,
            "wall_ms_per_request": 1000 * total,
            "requests": n,
            "stages": stages,
            "not_wrapped": missing,
        }
    app.extensions["alp_guard"].executor.shutdown(wait=True)
    shutil.rmtree(tmp, ignore_errors=True)
    return out


def pyinstrument_profiles(payloads: dict[str, Path], repeat: dict[str, int]) -> dict[str, str]:
    """Run pyinstrument in a child interpreter (project venv + pyinstrument from bench/.venv); return paths."""
    paths = {}
    for name, n in repeat.items():
        target = h.RESULTS / f"profile-pyinstrument-{name}.txt"
        script = f"""
import os, sys, tempfile
sys.path.insert(0, {str(h.SOURCE)!r})
for k in list(os.environ):
    if k.startswith("CDS_"): del os.environ[k]
from pyinstrument import Profiler
from cds_service import create_app
tmp = tempfile.mkdtemp(prefix="alpbench-prof-")
app = create_app({{"auth_mode": "none", "log_level": "WARNING", "database_url": "sqlite:///" + tmp + "/db.sqlite3"}})
client = app.test_client()
body = open({str(payloads[name])!r}, "rb").read()
for _ in range(3): client.post({SERVICE!r}, data=body, content_type="application/json")
profiler = Profiler(interval=0.001)
profiler.start()
for _ in range({n}): client.post({SERVICE!r}, data=body, content_type="application/json")
profiler.stop()
open({str(target)!r}, "w").write(profiler.output_text(unicode=False, color=False, show_all=False))
app.extensions["alp_guard"].executor.shutdown(wait=True)
import shutil; shutil.rmtree(tmp, ignore_errors=True)
"""
        env = {**os.environ, "PYTHONPATH": h.extras_path("pyinstrument")}
        subprocess.run([str(h.PROJECT_VENV / "bin" / "python"), "-c", script], check=True, env=env, timeout=600)
        paths[name] = str(h.shown(target))
    return paths


FRAMES = {  # label -> substring of a collapsed-stack frame "function (file:line)"
    "FHIR datatype checks (hooks/fhir_read.py)": "(hooks/fhir_read.py",
    "read Observations (extract.read_lab_results)": "read_lab_results (hooks/extract.py",
    "prefetch -> evidence (evidence_from_resources)": "evidence_from_resources (hooks/evidence.py",
    "draft orders": "context_orders (cds_service/pipeline.py",
    "rules: ALP pattern etc. (gather_evidence)": "gather_evidence (hooks/evidence.py",
    "rules: order findings": "evaluate_antiresorptive_orders (",
    "json decode + depth check (load_json)": "load_json (cds_service/limits.py",
    "  of which nesting_depth": "nesting_depth (cds_service/limits.py",
    "render cards": "render_cards (cards/__init__.py",
    "override history (respect_overrides)": "respect_overrides (cds_service/audit.py",
    "card audit (record_served)": "record_served (cds_service/audit.py",
    "Flask/werkzeug request handling outside call_service": None,
}


def pyspy_profiles(payloads: dict[str, Path], repeat: dict[str, int], rate: int) -> dict:
    """Sample a 1-worker gunicorn under hey load with py-spy (spawned); aggregate the collapsed stacks."""
    py_spy = h.BENCH_VENV / "bin" / "py-spy"
    out = {}
    for name, n in repeat.items():
        raw = h.RESULTS / f"profile-pyspy-{name}.txt"
        port = h.free_port()
        tmp = Path(tempfile.mkdtemp(prefix="alpbench-pyspy-"))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CDS_", "GUNICORN_", "PROMETHEUS_"))}
        env.update(
            {
                "CDS_AUTH_MODE": "none",
                "CDS_HOST": "127.0.0.1",
                "CDS_PORT": str(port),
                "CDS_DATABASE_URL": f"sqlite:///{tmp}/db.sqlite3",
                "CDS_LOG_LEVEL": "WARNING",
                "GUNICORN_WORKERS": "1",
                "GUNICORN_THREADS": "8",
            }
        )
        cmd = [
            str(py_spy),
            "record",
            "--subprocesses",
            "--rate",
            str(rate),
            "--format",
            "raw",
            "--output",
            str(raw),
            "--duration",
            "300",
            "--",
            str(h.PROJECT_VENV / "bin" / "gunicorn"),
            "--config",
            "gunicorn.conf.py",
            h.SERVICE_APP,
        ]
        with open(tmp / "py-spy.log", "wb") as log:
            spy = subprocess.Popen(
                cmd, cwd=h.SOURCE, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            url = f"http://127.0.0.1:{port}{SERVICE}"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if h.hey(url, payloads[name], n=1, c=1).ok:
                    break
                time.sleep(0.5)
            result = h.hey(url, payloads[name], n=max(4, n * 3), c=4)
        finally:
            # Stop gunicorn (py-spy's child, by pid): py-spy then writes its file and exits by itself.
            for pid in h.children(spy.pid):
                os.kill(pid, signal.SIGTERM)
            try:
                spy.wait(timeout=60)
            except subprocess.TimeoutExpired:
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=30)
        stacks: list[tuple[str, int]] = []
        for line in raw.read_text().splitlines():
            stack, _, samples = line.rpartition(" ")
            if "call_service (cds_service/api.py" in stack or "dispatch_request" in stack:
                stacks.append((stack, int(samples)))
        total = sum(c for _, c in stacks) or 1
        in_call = sum(c for s, c in stacks if "call_service (cds_service/api.py" in s)
        shares = {}
        for label, needle in FRAMES.items():
            if needle is None:
                shares[label] = (total - in_call) / total
            else:
                shares[label] = sum(c for s, c in stacks if needle in s) / total
        self_time: collections.Counter[str] = collections.Counter()
        for stack, count in stacks:
            leaf = stack.split(";")[-1]
            self_time[leaf] += count
        by_package: collections.Counter[str] = collections.Counter()
        for stack, count in stacks:
            leaf = stack.split(";")[-1]
            where = leaf.rsplit("(", 1)[-1]
            package = (
                where.split("/")[0] if "site-packages" not in where else where.split("site-packages/")[1].split("/")[0]
            )
            by_package[package] += count
        shutil.rmtree(tmp, ignore_errors=True)
        packed = raw.with_name(raw.name + ".gz")
        packed.write_bytes(gzip.compress(raw.read_bytes()))
        raw.unlink()
        out[name] = {
            "samples_in_request_handling": total,
            "hey": {"ok": result.ok, "rps": result.rps},
            "inclusive_share": shares,
            "top_self": [(frame, count / total) for frame, count in self_time.most_common(25)],
            "self_by_package": [(p, c / total) for p, c in by_package.most_common(15)],
            "collapsed_stacks": str(h.shown(packed)),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--skip-pyspy", action="store_true")
    args = parser.parse_args()
    h.ensure_tools(need_bench_venv=True)
    payloads = h.ensure_payloads()
    h.RESULTS.mkdir(parents=True, exist_ok=True)
    report: dict = {"machine": h.machine(), "command": " ".join(["bench/run_profile.py", *sys.argv[1:]])}
    print(f"machine: {report['machine']}")
    report["stages"] = stage_breakdown(payloads, CASES)
    for name, data in report["stages"].items():
        print(
            f"\n{name}: {data['cpu_ms_per_request']:.1f} ms CPU, {data['wall_ms_per_request']:.1f} ms wall per request "
            f"(in-process, test client); stages by CPU time (wall time in brackets):"
        )
        for key, stage in data["stages"].items():
            print(
                f"  {key:42s} {stage['cpu_ms_per_request']:8.2f} ms  {stage['cpu_share'] * 100:5.1f}%  "
                f"({stage['calls_per_request']:.0f} calls x {stage['cpu_us_per_call']:.0f} us)  "
                f"[{stage['wall_ms_per_request']:.2f} ms]"
            )
    report["pyinstrument"] = pyinstrument_profiles(payloads, CASES)
    print(f"\npyinstrument trees: {report['pyinstrument']}")
    if not args.skip_pyspy:
        report["pyspy"] = pyspy_profiles(payloads, CASES, args.rate)
        for name, data in report["pyspy"].items():
            print(
                f"\npy-spy, {name} under gunicorn ({data['samples_in_request_handling']} samples in request handling):"
            )
            for label, share in data["inclusive_share"].items():
                print(f"  {label:50s} {share * 100:5.1f}%")
            print("  self time by package: " + ", ".join(f"{p} {s * 100:.0f}%" for p, s in data["self_by_package"][:8]))
    path = h.save_result("profile", report)
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
