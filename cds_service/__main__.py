"""Run the service: `python -m cds_service [--host H] [--port P]` (also CDS_HOST, CDS_PORT).

`python -m cds_service report --since 2026-01-01 --format html|csv|json [--output FILE]` writes the governance
report instead (cds_service/report.py).

`python -m cds_service audit --input DIR_OR_URL --output DIR` runs the population audit and
`python -m cds_service synthetic --patients N --output DIR` writes a synthetic population (cds_service/population/).
"""

from __future__ import annotations

import argparse
import sys

from sqlalchemy.exc import SQLAlchemyError

from cds_service import create_app
from cds_service.migrations import SchemaError
from cds_service.settings import SettingsError, require_trust, settings_from_env
from cds_service.store import database_reason


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and serve the API until interrupted (or write the report: `report …`)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["report"]:
        from cds_service import report

        return report.main(argv[1:])
    if argv[:1] in (["audit"], ["synthetic"]):
        try:
            from cds_service.population import cli
        except ImportError as exc:
            print(
                f"population audit unavailable: {exc.name} is not installed (pip install -r requirements-audit.txt)",
                file=sys.stderr,
            )
            return 2
        return cli.audit_main(argv[1:]) if argv[0] == "audit" else cli.synthetic_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m cds_service",
        description="Serve ALP Guard's CDS Hooks API.",
        epilog="`python -m cds_service report --help`: the CDS governance report; `audit --help`: the population "
        "audit; `synthetic --help`: a synthetic population.",
    )
    parser.add_argument("--host", help="address to listen on (default: CDS_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default: CDS_PORT or 8080)")
    args = parser.parse_args(argv)
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    try:
        settings = settings_from_env(**overrides)
        require_trust(settings)
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        app = create_app(settings)
    except SchemaError as exc:
        print(f"database error: {exc}", file=sys.stderr)
        return 2
    except (SQLAlchemyError, OSError) as exc:  # unreachable, read-only or not a database: a setting to fix
        print(f"configuration error: CDS_DATABASE_URL: {database_reason(exc)}", file=sys.stderr)
        return 2
    app.run(host=settings.host, port=settings.port, threaded=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
