#!/usr/bin/env bash
# Install what the benchmarks need: hey and wrk from Debian, and bench/.venv (py-spy, pyinstrument, psycopg,
# plus the project's pinned requirements so that venv can also serve ALP Guard against PostgreSQL).
# The project venv (.venv) is never touched.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v hey >/dev/null || ! command -v wrk >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq hey wrk >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv "$PWD/.venv"  # absolute, so that the scripts' shebangs work from any directory
fi
.venv/bin/python -m pip install -q -r requirements.txt
echo "bench tools ready: $(command -v hey) $(command -v wrk) $(.venv/bin/py-spy --version)"
