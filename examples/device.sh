#!/usr/bin/env bash
# One prepared run on a many-core machine (the speed issue): generates a
# city-year and the province-year corpus, then times the calamine floor and
# `phstats consolidate --export` on each at 1, 2, 4, 8 and 16 threads, with
# each phase's time and CPU share (PHSTATS_TIMINGS). Usage:
#   examples/device.sh PHSTATS_BIN BENCH_BIN OUT_DIR [TOWNSHIPS...]
# (townships per corpus; default 150 and 1100). No LibreOffice there, so
# these corpora have no .xls returns. REPEATS=k runs each thread count k
# times, all thread counts in turn (a machine's first runs after the
# corpus is written are noisy); each line ends with the phases' times.
# YEAR=Y adds the report for the year Y at 16 threads.
# COMPARE=OTHER_BIN then times OTHER_BIN against PHSTATS_BIN at 16
# threads, three runs each, alternating (wall, then the outputs phase);
# with YEAR, the year's report too.
set -euo pipefail
bin=$(realpath "$1"); bench=$(realpath "$2"); out=$(realpath "$3"); shift 3
compare=${COMPARE:+$(realpath "$COMPARE")}
if [ $# -gt 0 ]; then sizes=("$@"); else sizes=(150 1100); fi
work=$(mktemp -d)
{ nproc | sed 's/^/cores: /'; grep -m1 'model name' /proc/cpuinfo || true; } | tee "$out/results.txt"
for towns in "${sizes[@]}"; do
  start=$(date +%s.%N)
  "$bin" --lang en sample-data "$work/t$towns" --townships "$towns" --months 12 --gaps --seed 42 > "$out/generate-$towns.txt"
  echo "t$towns generated in $(awk "BEGIN{print $(date +%s.%N) - $start}") s: $(cat "$out/generate-$towns.txt")" | tee -a "$out/results.txt"
  cd "$work/t$towns"
  for r in $(seq "${REPEATS:-1}"); do
    for n in 1 2 4 8 16; do
      sync
      floor=$(RAYON_NUM_THREADS=$n "$bench" --floor returns | awk '{print $1}')
      sync
      log="$out/timings-$towns-$n-$r.txt"
      t0=$(date +%s.%N)
      rm -f report.xlsx
      RAYON_NUM_THREADS=$n PHSTATS_TIMINGS=1 "$bin" consolidate returns --units units.csv \
        --export out -o report.xlsx --quiet > /dev/null 2> "$log" || true
      wall=$(awk "BEGIN{print $(date +%s.%N) - $t0}")
      peak=$(grep -o 'peak [0-9]* MiB' "$log" | tail -1)
      phases=$(awk '$1=="timing" && $2!="pipeline" {printf " %s %s", $2, $3}' "$log")
      echo "t$towns threads $n: phstats ${wall} s, floor ${floor} s, $peak;$phases" | tee -a "$out/results.txt"
    done
  done
  # One thread with the whole process held to one core: the helper
  # threads (files flushed, the workbook's sheets assembled) then share it.
  if command -v taskset > /dev/null; then
    t0=$(date +%s.%N)
    log="$out/timings-$towns-1core.txt"
    rm -f report.xlsx
    RAYON_NUM_THREADS=1 PHSTATS_TIMINGS=1 taskset -c 0 "$bin" consolidate returns --units units.csv \
      --export out -o report.xlsx --quiet > /dev/null 2> "$log" || true
    wall=$(awk "BEGIN{print $(date +%s.%N) - $t0}")
    phases=$(awk '$1=="timing" && $2!="pipeline" {printf " %s %s", $2, $3}' "$log")
    echo "t$towns one core: phstats ${wall} s;$phases" | tee -a "$out/results.txt"
  fi
  # YEAR=2026: also the year's report (`--period 2026`) at 16 threads,
  # whose 审核结果 lists every finding of the year.
  if [ -n "${YEAR:-}" ]; then
    log="$out/timings-$towns-year.txt"
    t0=$(date +%s.%N)
    rm -f report.xlsx
    RAYON_NUM_THREADS=16 PHSTATS_TIMINGS=1 "$bin" consolidate returns --units units.csv \
      --export out -o report.xlsx --quiet --period "$YEAR" > /dev/null 2> "$log" || true
    wall=$(awk "BEGIN{print $(date +%s.%N) - $t0}")
    peak=$(grep -o 'peak [0-9]* MiB' "$log" | tail -1)
    phases=$(awk '$1=="timing" && $2!="pipeline" {printf " %s %s", $2, $3}' "$log")
    echo "t$towns year $YEAR, 16 threads: phstats ${wall} s, $peak;$phases" | tee -a "$out/results.txt"
  fi
  if [ -n "$compare" ]; then
    for _ in 1 2 3; do
      for b in "$bin" "$compare"; do
        t0=$(date +%s.%N)
        rm -f report.xlsx
        RAYON_NUM_THREADS=16 PHSTATS_TIMINGS=1 "$b" consolidate returns --units units.csv \
          --export out -o report.xlsx --quiet > /dev/null 2> "$out/compare.txt" || true
        wall=$(awk "BEGIN{print $(date +%s.%N) - $t0}")
        outputs=$(awk '$2=="outputs" {print $3}' "$out/compare.txt")
        echo "t$towns 16 threads $(basename "$b"): ${wall} s, outputs ${outputs} s" | tee -a "$out/results.txt"
      done
    done
    # And the year's report, where YEAR is given.
    for _ in $([ -n "${YEAR:-}" ] && echo 1 2 3); do
      for b in "$bin" "$compare"; do
        t0=$(date +%s.%N)
        rm -f report.xlsx
        RAYON_NUM_THREADS=16 PHSTATS_TIMINGS=1 "$b" consolidate returns --units units.csv \
          --export out -o report.xlsx --quiet --period "$YEAR" > /dev/null 2> "$out/compare.txt" || true
        wall=$(awk "BEGIN{print $(date +%s.%N) - $t0}")
        outputs=$(awk '$2=="outputs" {print $3}' "$out/compare.txt")
        peak=$(grep -o 'peak [0-9]* MiB' "$out/compare.txt" | tail -1)
        echo "t$towns year $YEAR, 16 threads $(basename "$b"): ${wall} s, outputs ${outputs} s, $peak" | tee -a "$out/results.txt"
      done
    done
  fi
  cd /; rm -rf "$work/t$towns"
done
