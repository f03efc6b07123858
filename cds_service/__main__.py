"""Run the service: `python -m cds_service [--host H] [--port P]` (also CDS_HOST, CDS_PORT)."""

from __future__ import annotations

import argparse
import sys

from cds_service import create_app
from cds_service.settings import SettingsError, require_trust, settings_from_env


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and serve the API until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m cds_service", description="Serve ALP Guard's CDS Hooks API.")
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
    app = create_app(settings)
    app.run(host=settings.host, port=settings.port, threaded=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
