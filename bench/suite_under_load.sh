#!/bin/bash
# The whole test suite N times in a row (default 10) on a fresh clone, with a CPU hog on one core
# throughout: run 1 is .ci/run (fresh venv), the rest the README's pytest command.
#   bash bench/suite_under_load.sh [RUNS]      (the clone goes beside the checkout, ../load-clone)
set -u
runs=${1:-10}
repo=$(cd "$(dirname "$0")/.." && pwd)
clone=$(dirname "$repo")/load-clone
logs=$clone-logs
rm -rf "$clone" "$logs"; mkdir -p "$logs"
git clone -q "$repo" "$clone" && cd "$clone" || exit 1
echo "commit $(git log --oneline -1)" > "$logs/summary.txt"
python3 -c "while True: pass" &
hog=$!
trap 'kill $hog 2>/dev/null' EXIT
( time bash .ci/run ) > "$logs/run_1.log" 2>&1
echo "run 1 (.ci/run): rc=$? $(grep -E 'passed|failed' "$logs/run_1.log" | tail -1)" >> "$logs/summary.txt"
for i in $(seq 2 "$runs"); do
  ( time QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest -q -p no:cacheprovider ) > "$logs/run_$i.log" 2>&1
  echo "run $i: rc=$? $(grep -E 'passed|failed' "$logs/run_$i.log" | tail -1)" >> "$logs/summary.txt"
done
cat "$logs/summary.txt"
