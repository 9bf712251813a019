#!/usr/bin/env bash
# End-to-end wall seconds of the command line on the digits protocol of QueryTable (MLP 64-32(tanh)-10,
# float32, first 1,437 digits for training and the next 360 for testing, pixels / 16, SGD with 6
# checkpoints, λ = 0.1): JVM start, native load and the query, one process per command, as a user runs it.
# The first rows separate the fixed costs: `--version` (JVM start only) and `backends` (JVM start and the
# discovery of the three backend plugins, no native code); the difference between a query's row and
# QueryTable's in-process seconds is the start-up plus reading and writing files.
#
#   benchmarks/scripts/cli-timings.sh [runs]      (default 3; prints the median and the range)
#
# The launcher's class-data archive (AppCDS) is made by an untimed `tracin` run into the temporary
# folder first, as a user's first computing command would; INFLUENCE4J_CDS=off times the starts without it.
#
# Needs the command line built (bin/influence4j builds it on first use) and awk; writes only to a
# temporary folder that it removes.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
runs="${1:-3}"
cli="$root/bin/influence4j"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export INFLUENCE4J_CDS_DIR="$work/cds"

# data: label last, pixels / 16, the split of QueryTable
zcat "$root/io/src/main/resources/org/influence4j/io/data/digits.csv.gz" \
  | awk -F, -v OFS=, '{for (i = 1; i < NF; i++) $i = $i / 16; print}' > "$work/all.csv"
head -n 1437 "$work/all.csv" > "$work/train.csv"
sed -n '1438,1797p' "$work/all.csv" > "$work/test.csv"
cat > "$work/spec.json" <<'JSON'
{"inputDim": 64, "layers": [{"type": "dense", "units": 32}, {"type": "activation", "name": "tanh"},
 {"type": "dense", "units": 10}], "loss": "softmax_cross_entropy", "dtype": "float32"}
JSON
"$cli" --version > /dev/null   # builds the command line where needed, outside the timings
"$cli" train --spec "$work/spec.json" --train "$work/train.csv" --optimizer sgd --lr 0.1 --epochs 30 \
  --minibatch 32 --checkpoints "$work/ckpt" --checkpoint-every 5 -o "$work/params.safetensors" > /dev/null 2>&1

common=(--spec "$work/spec.json" --train "$work/train.csv")
fitted=("${common[@]}" --parameters "$work/params.safetensors" --lambda 0.1)
rm -rf "$INFLUENCE4J_CDS_DIR"   # the archive of the untimed train run above; a query's instead:
"$cli" tracin "${common[@]}" --checkpoints "$work/ckpt" --what self-influence -o "$work/a.npy" > /dev/null 2>&1

# one row: a name and the command's arguments; prints the median and range of $runs timed runs
row() {
  local name="$1"; shift
  local times=()
  for ((r = 0; r < runs; r++)); do
    local start end
    start=$(date +%s.%N)
    "$cli" "$@" > /dev/null 2>&1
    end=$(date +%s.%N)
    times+=("$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f", b - a}')")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v name="$name" '
    {t[NR] = $1} END {printf "| %-44s | %6.3f (%.3f-%.3f) |\n", name, t[int((NR + 1) / 2)], t[1], t[NR]}'
}

echo "| command (end to end, JVM start included) | seconds, median of $runs (range) |"
echo "|---|---|"
row "--version (JVM start)" --version
row "backends (plugin discovery)" backends
row "tracin self-influence (TracInCP)" tracin "${common[@]}" --checkpoints "$work/ckpt" --what self-influence -o "$work/a.npy"
row "tracin influences 360 x 1,437" tracin "${common[@]}" --test "$work/test.csv" --checkpoints "$work/ckpt" --what influences -o "$work/b.npy"
row "tracin top-5" tracin "${common[@]}" --test "$work/test.csv" --checkpoints "$work/ckpt" --what top-k -k 5 -o "$work/c.csv"
row "self-influence --method direct" self-influence "${fitted[@]}" --method direct -o "$work/d.npy"
row "influences --method direct" influences "${fitted[@]}" --test "$work/test.csv" --method direct -o "$work/e.npy"
row "influences --method arnoldi" influences "${fitted[@]}" --test "$work/test.csv" --method arnoldi -o "$work/f.npy"
row "self-influence --method ekfac" self-influence "${fitted[@]}" --method ekfac -o "$work/g.npy"
