#!/usr/bin/env bash
# One prepared run on a many-core machine (the speed issue): generates the
# province-year corpus, then times the calamine floor and `phstats
# consolidate --export` at 1, 2, 4, 8 and 16 threads, with each phase's time
# and CPU share (PHSTATS_TIMINGS). Usage:
#   examples/device.sh PHSTATS_BIN BENCH_BIN OUT_DIR [TOWNSHIPS]
set -euo pipefail
bin=$(realpath "$1"); bench=$(realpath "$2"); out=$(realpath "$3"); towns=${4:-1100}
work=$(mktemp -d)
start=$(date +%s.%N)
"$bin" --lang en sample-data "$work/c" --townships "$towns" --months 12 --gaps --seed 42 > "$out/generate.txt"
echo "generated in $(awk "BEGIN{print $(date +%s.%N) - $start}") s: $(cat "$out/generate.txt")" | tee "$out/results.txt"
nproc | sed 's/^/cores: /' | tee -a "$out/results.txt"
cd "$work/c"
for n in 1 2 4 8 16; do
  floor=$(RAYON_NUM_THREADS=$n "$bench" --floor returns | awk '{print $1}')
  t0=$(date +%s.%N)
  RAYON_NUM_THREADS=$n PHSTATS_TIMINGS=1 "$bin" consolidate returns --units units.csv \
    --export out -o report.xlsx --quiet > /dev/null 2> "$out/timings-$n.txt" || true
  wall=$(awk "BEGIN{print $(date +%s.%N) - $t0}")
  peak=$(grep -o 'peak [0-9]* MiB' "$out/timings-$n.txt" | tail -1)
  echo "threads $n: phstats ${wall} s, floor ${floor} s, $peak" | tee -a "$out/results.txt"
done
