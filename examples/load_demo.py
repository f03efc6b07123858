"""Load the ALP Guard demo patients (examples/fhir/*.json) into a FHIR R4 server, dated as of today.

    python examples/load_demo.py --fhir http://localhost:8090/fhir [--today YYYY-MM-DD] [--wait SECONDS]

Each file is a transaction Bundle written as of the date in its `timestamp` (the reference date). Every full
date in it (dates and date-times, birth dates too, so ages stay the same) is moved by (today - reference date)
before the Bundle is POSTed, so the results never go stale. Entries are `PUT Type/id` with stable ids:
loading again updates the same resources instead of adding copies. Year-only and year-month dates are left
as they are. Standard library only, so it runs on a bare python image.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import urllib.error
import urllib.request
from datetime import date, timedelta
from pathlib import Path
from typing import Any

BUNDLES = Path(__file__).resolve().parent / "fhir"
# A full date, optionally followed by a FHIR time and zone: the date part is shifted, the rest kept as is.
FULL_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})((?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?)$")
FHIR_JSON = "application/fhir+json"


def reference_date(bundle: dict[str, Any]) -> date:
    """Return the date the Bundle is written as of: the date part of its `timestamp`."""
    return date.fromisoformat(bundle["timestamp"][:10])


def shift_dates(value: Any, days: int) -> Any:
    """Return a copy of `value` with every full FHIR date or date-time moved by `days` days."""
    if isinstance(value, dict):
        return {key: shift_dates(item, days) for key, item in value.items()}
    if isinstance(value, list):
        return [shift_dates(item, days) for item in value]
    if isinstance(value, str):
        match = FULL_DATE.match(value)
        if match:
            return (date.fromisoformat(match[1]) + timedelta(days=days)).isoformat() + match[2]
    return value


def dated_as_of(bundle: dict[str, Any], today: date) -> dict[str, Any]:
    """Return the Bundle with its dates moved so that its reference date becomes `today`."""
    return shift_dates(bundle, (today - reference_date(bundle)).days)


def demo_bundles(folder: Path = BUNDLES) -> dict[str, dict[str, Any]]:
    """Return the demo Bundles by file name, in a stable order."""
    return {path.name: json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))}


def call(method: str, url: str, body: Any = None, timeout: float = 30) -> tuple[int, Any]:
    """Send one FHIR request and return (status, parsed JSON body or None)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Accept": FHIR_JSON, "Content-Type": FHIR_JSON}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, text = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read()
    try:
        return status, json.loads(text) if text else None
    except ValueError:
        return status, None


def wait_for_server(base: str, seconds: float) -> None:
    """Wait until GET [base]/metadata answers 200 (a FHIR server still starting), at most `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if call("GET", f"{base}/metadata", timeout=10)[0] == 200:
                return
        except OSError:
            pass
        if time.monotonic() >= deadline:
            raise SystemExit(f"load_demo: no FHIR server answered at {base}/metadata within {seconds:g} s")
        print(f"load_demo: waiting for {base}/metadata ...", flush=True)
        time.sleep(5)


def post_transaction(base: str, name: str, bundle: dict[str, Any]) -> int:
    """POST one transaction Bundle; return how many entries the server stored, or stop with its error."""
    try:
        status, answer = call("POST", base, bundle)
    except OSError as error:
        raise SystemExit(f"load_demo: cannot reach {base}: {error}") from None
    entries = (answer or {}).get("entry") or []
    failed = [e for e in entries if not str(e.get("response", {}).get("status", "")).startswith("2")]
    if status != 200 or (answer or {}).get("type") != "transaction-response" or failed:
        detail = json.dumps(answer)[:2000] if answer is not None else "(no JSON body)"
        raise SystemExit(f"load_demo: {name} was refused: HTTP {status}: {detail}")
    return len(entries)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fhir", required=True, help="FHIR R4 base URL, e.g. http://localhost:8090/fhir")
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        default=date.today(),
        help="the date to shift the demo data to (default: today)",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=0,
        metavar="SECONDS",
        help="wait up to this long for the server's /metadata before loading (default 0)",
    )
    parser.add_argument(
        "--dir", type=Path, default=BUNDLES, help="folder of transaction Bundles (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    base = args.fhir.rstrip("/")
    if args.wait:
        wait_for_server(base, args.wait)
    bundles = demo_bundles(args.dir)
    if not bundles:
        raise SystemExit(f"load_demo: no Bundles in {args.dir}")
    for name, bundle in bundles.items():
        count = post_transaction(base, name, dated_as_of(bundle, args.today))
        print(f"load_demo: {name}: {count} resources as of {args.today.isoformat()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
