"""The population audit's commands: `python -m cds_service audit …` and `python -m cds_service synthetic …`."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hooks.policy import Policy, PolicyError, policy_from_document

if TYPE_CHECKING:
    from cds_service.population.results import AuditRun

log = logging.getLogger("alp_guard.audit")


def _date(text: str) -> date:
    """Parse an ISO date for argparse."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def audit_parser() -> argparse.ArgumentParser:
    """Return the `audit` command's parser."""
    parser = argparse.ArgumentParser(
        prog="python -m cds_service audit",
        description="Find the patients the patient-view rule flags (an antiresorptive despite HPP or low ALP, "
        "persistently low ALP not worked up) in FHIR Bulk Data NDJSON, and write a worklist.",
    )
    parser.add_argument(
        "--input",
        required=True,
        help="a directory of NDJSON files (.ndjson or .ndjson.gz), or a FHIR server base URL to "
        "run a Bulk Data $export against",
    )
    parser.add_argument("--output", required=True, type=Path, help="directory for the worklist, counts and summary")
    parser.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb")
    parser.add_argument(
        "--since", type=_date, help="only resources updated on or after this date (also $export _since)"
    )
    parser.add_argument("--policy", type=Path, help="a policy JSON file, as CDS_POLICY_FILE")
    parser.add_argument("--today", type=_date, help="the audit date the rule judges on (default: today)")
    parser.add_argument("--spark-master", default="local[*]", help="Spark master URL (default: local[*])")
    parser.add_argument(
        "--workers",
        type=int,
        help="processes that apply the rule with the DuckDB engine (default: one per core)",
    )
    parser.add_argument("--client-id", help="SMART Backend Services client id (for an $export)")
    parser.add_argument("--private-key", type=Path, help="PEM private key (RS384 or ES384) for the client assertion")
    parser.add_argument("--key-id", help="the key's `kid` as registered with the server")
    parser.add_argument("--scope", default="system/*.rs", help="scopes asked for (default: system/*.rs)")
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show progress bars (default: only on a terminal)",
    )
    return parser


def load_policy(path: Path | None) -> Policy:
    """Return the policy in a file, or the default one."""
    if path is None:
        return Policy()
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PolicyError("file", f"cannot be read as JSON ({type(exc).__name__})") from None
    return policy_from_document(document)


def audit_main(argv: list[str]) -> int:
    """Run the audit; return the exit status (0 done, 2 bad input or configuration, 3 an engine or server failed)."""
    parser = audit_parser()
    args = parser.parse_args(argv)
    if args.workers is not None and args.workers < 1:
        parser.error("--workers must be 1 or more")
    from cds_service.population import outputs
    from cds_service.population.progress import Progress

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        policy = load_policy(args.policy)
    except PolicyError as exc:
        print(f"policy error: {exc}", file=sys.stderr)
        return 2
    today = args.today or date.today()
    progress = Progress(args.progress)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="alp-guard-export-") as download:
        try:
            input_dir = resolve_input(args, Path(download))
            run = run_engine(
                args.engine,
                input_dir,
                today=today,
                policy=policy,
                since=args.since,
                progress=progress,
                master=args.spark_master,
                workers=args.workers,
            )
        except AuditFailure as exc:
            print(f"audit error: {exc}", file=sys.stderr)
            return exc.status
    paths = outputs.write_all(run, args.output, today=today)
    counts = outputs.count(run)
    # Counts only: never a patient id, name or value in the log.
    log.info(
        "audit done with %s in %.1f s: %d files, %d resources, %d patients, %d reviewed, %d flagged, "
        "%d malformed lines",
        args.engine,
        time.perf_counter() - started,
        counts["files"],
        sum(counts["resources"].values()),
        counts["patients"],
        counts["candidates"],
        counts["flagged_patients"],
        counts["malformed_lines"]["count"],
    )
    for m in run.stats.malformed[:20]:
        log.warning("malformed line skipped: %s line %d (%s)", m.file, m.line, m.reason)
    print(f"worklist: {paths[outputs.WORKLIST_CSV]}\nsummary: {paths[outputs.SUMMARY]}")
    return 0


class AuditFailure(Exception):
    """The audit could not run: input missing, server refused, engine unavailable."""

    def __init__(self, message: str, status: int = 3) -> None:
        super().__init__(message)
        self.status = status


def resolve_input(args: argparse.Namespace, download: Path) -> Path:
    """Return the directory of NDJSON to audit: the one given, or the files of a Bulk Data $export."""
    if args.input.startswith(("http://", "https://")):
        from cds_service.population import bulk_export

        try:
            auth = bulk_export.smart_auth(args.client_id, args.private_key, args.key_id, args.scope)
            bulk_export.export(args.input, download, since=args.since, auth=auth)
        except bulk_export.ExportError as exc:
            raise AuditFailure(f"Bulk Data export failed: {exc}") from None
        return download
    path = Path(args.input)
    if not path.is_dir():
        raise AuditFailure(f"input is not a directory or an http(s) URL: {args.input}", 2)
    return path


def run_engine(engine: str, input_dir: Path, *, master: str, workers: int | None, **kwargs: Any) -> AuditRun:
    """Run the chosen engine (Spark's executors apply the rule; DuckDB's run uses `workers` processes)."""
    if engine == "spark":
        from cds_service.population import spark_engine

        try:
            return spark_engine.audit(input_dir, master=master, **kwargs)
        except spark_engine.SparkUnavailable as exc:
            raise AuditFailure(str(exc)) from None
    from cds_service.population import duckdb_engine
    from cds_service.population.workers import default_workers

    return duckdb_engine.audit(input_dir, workers=workers or default_workers(), **kwargs)


def synthetic_main(argv: list[str]) -> int:
    """Write a seeded synthetic population with planted patients."""
    parser = argparse.ArgumentParser(
        prog="python -m cds_service synthetic",
        description="Write a seeded synthetic FHIR Bulk Data population (NDJSON) "
        "with a known set of planted patients (planted.json).",
    )
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--today", type=_date, help="the date the population is built around (default: today)")
    parser.add_argument("--plain", action="store_true", help="write .ndjson instead of .ndjson.gz")
    args = parser.parse_args(argv)
    if args.patients < 0:
        parser.error("--patients must be 0 or more")
    from cds_service.population.synthetic import generate

    planted = generate(args.output, args.patients, args.seed, args.today or date.today(), compress=not args.plain)
    print(f"{args.patients} patients, {len(planted)} planted: {args.output}")
    return 0
