#!/usr/bin/env bash
# The performance issue's final check, side by side on one machine: times the query table with Captum
# and pyDVL on PyTorch (reference_table.py), then in process with influence4j (QueryTable), whose ratios
# are then taken against the reference seconds just measured here instead of the issue's.
#
#   benchmarks/scripts/side-by-side.sh [runs [filter]]     (default 3 runs; filter as QueryTable's)
#
# Needs the benchmarks built (mvn -B -q -pl benchmarks -am package -DskipTests) and a Python with torch,
# captum and pydvl (pip install torch captum 'pydvl[influence]'); PYTHON picks the interpreter (default python3).
# The two sides run one after the other, never at once. The reference seconds go to a temporary file
# that is removed, or to REFERENCE_TSV=FILE when set (kept).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
runs="${1:-3}"
filter="${2:-}"
python="${PYTHON:-python3}"
if [[ ! -f "$root/benchmarks/target/classes/org/influence4j/benchmarks/QueryTable.class" ]]; then
  echo "side-by-side.sh: the benchmarks are not built; run: mvn -B -q -pl benchmarks -am package -DskipTests" >&2
  exit 2
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
reference="${REFERENCE_TSV:-$work/reference.tsv}"

"$python" "$root/benchmarks/scripts/reference_table.py" --runs "$runs" --filter "$filter" --out "$reference"
echo
java -Dinfluence4j.bench.reference="$reference" \
  -cp "$root/benchmarks/target/classes:$root/benchmarks/target/lib/*" \
  org.influence4j.benchmarks.QueryTable "$runs" "$filter"
