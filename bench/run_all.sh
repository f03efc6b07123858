#!/usr/bin/env bash
# Run every benchmark of issue 5 one after the other (about 20 minutes; run nothing else heavy meanwhile) and keep each one's output beside its
# JSON result in bench/results/. Loopback only; every load is bounded in count or time and stops by itself.
#   bash bench/run_all.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash bench/setup.sh
PY=.venv/bin/python
# BENCH_SOURCE=<tree> measures another source tree (e.g. `git archive <commit>` unpacked); BENCH_RESULTS=<dir>
# writes the results elsewhere than bench/results.
RESULTS=${BENCH_RESULTS:-bench/results}
mkdir -p "$RESULTS"
failed=()
run() {  # name, command...: a failure is reported at the end and does not stop the others
  local name=$1; shift
  echo "== $name: $*"
  "$@" 2>&1 | grep -v '^{"' | tee "$RESULTS/$name.log" || failed+=("$name")
}
run evaluation     $PY bench/run_evaluation.py
run evaluation-threads2 $PY bench/run_evaluation.py --only order-sign-typical --threads 2 --tag=-threads2
run evaluation-validating $PY bench/run_evaluation.py --only typical --validating --tag=-validating
# The fetch-path ratio sits close to its target: three runs show the spread.
for i in 1 2 3; do run fetch_path-$i $PY bench/run_fetch_path.py --tag=-$i; done
run scaling        $PY bench/run_scaling.py
run load-sqlite    $PY bench/run_load.py
run load-postgresql $PY bench/run_load.py --start-postgres
run profile        $PY bench/run_profile.py
$PY bench/summarize.py "$RESULTS" | tee "$RESULTS/summary.md"
if [ ${#failed[@]} -gt 0 ]; then echo "FAILED: ${failed[*]}"; exit 1; fi
echo "all benchmarks ran"
