#!/usr/bin/env bash
# The performance issue's final check, side by side on one machine: times the query table with Captum
# and pyDVL on PyTorch (reference_table.py), then in process with influence4j (QueryTable), whose ratios
# are then taken against the reference seconds just measured here instead of the issue's.
#
#   benchmarks/scripts/side-by-side.sh [runs [filter [rounds]]]   (default 3 runs; filter as QueryTable's; 1 round)
#
# With rounds > 1 the sides alternate as reference, influence4j, influence4j, reference, ... (ABBA), each
# round's table is printed against its own reference seconds, and combine_rounds.py ends with one table
# whose ratios are those of the two sides' mean seconds: a drift of the machine's speed that is linear in
# time then weighs on both sides alike (a shared machine's speed moves by 1.2-2x over minutes).
#
# Needs the benchmarks built (mvn -B -q -pl benchmarks -am package -DskipTests) and a Python with torch,
# captum and pydvl (pip install torch captum 'pydvl[influence]'); PYTHON picks the interpreter (default python3).
# The two sides run one after the other, never at once. The reference seconds go to temporary files
# that are removed, or with REFERENCE_TSV=FILE.tsv set, are kept there (one round) or in
# FILE-round1.tsv, FILE-round2.tsv, ... (several rounds).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
runs="${1:-3}"
filter="${2:-}"
rounds="${3:-1}"
if ! [[ "$rounds" =~ ^[1-9][0-9]*$ ]]; then
  echo "side-by-side.sh: rounds: must be a positive whole number, got '$rounds'" >&2
  exit 2
fi
python="${PYTHON:-python3}"
if [[ ! -f "$root/benchmarks/target/classes/org/influence4j/benchmarks/QueryTable.class" ]]; then
  echo "side-by-side.sh: the benchmarks are not built; run: mvn -B -q -pl benchmarks -am package -DskipTests" >&2
  exit 2
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# round r's reference TSV: kept where REFERENCE_TSV says, else in the temporary folder
reference_of() {
  if [[ -z "${REFERENCE_TSV:-}" ]]; then
    echo "$work/reference-round$1.tsv"
  elif [[ "$rounds" == 1 ]]; then
    echo "$REFERENCE_TSV"
  else
    echo "${REFERENCE_TSV%.tsv}-round$1.tsv"
  fi
}

references() {
  "$python" "$root/benchmarks/scripts/reference_table.py" --runs "$runs" --filter "$filter" --out "$(reference_of "$1")"
  echo
}

# influence4j's table of round $1: in odd rounds against that round's reference seconds, timed just before;
# in even rounds, which time influence4j first, against the issue's (combine_rounds.py pairs the rounds)
ours() {
  local against=()
  if (($1 % 2 == 1)); then
    against=(-Dinfluence4j.bench.reference="$(reference_of "$1")")
  fi
  java ${against[@]+"${against[@]}"} -cp "$root/benchmarks/target/classes:$root/benchmarks/target/lib/*" \
    org.influence4j.benchmarks.QueryTable "$runs" "$filter" | tee "$work/ours-round$1.md"
  echo
}

for ((r = 1; r <= rounds; r++)); do
  if ((rounds > 1)); then
    echo "## round $r of $rounds"
  fi
  if ((r % 2 == 1)); then
    references "$r"
    ours "$r"
  else
    ours "$r"
    references "$r"
  fi
done

if ((rounds > 1)); then
  echo "## all rounds"
  refs=() tables=()
  for ((r = 1; r <= rounds; r++)); do
    refs+=("$(reference_of "$r")")
    tables+=("$work/ours-round$r.md")
  done
  "$python" "$root/benchmarks/scripts/combine_rounds.py" --references "${refs[@]}" --ours "${tables[@]}"
fi
