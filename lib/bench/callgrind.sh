#!/usr/bin/env bash
# callgrind.sh: instructions per operation of each alch-bench row, alch and raw side by side.
#
#   lib/bench/callgrind.sh BENCH URL [Wn...]     (default: W1 W2 W3 W4 W6)
#
# Instruction counts do not depend on the machine's load, unlike the wall-clock ratios, so
# they show what a change did on a shared machine. Each workload runs once at the --quick
# sizes under `valgrind --tool=callgrind`; a row's figure is the inclusive count of its bench
# function (w1_get, w2_raw, ...) divided by the operations it did, setup included (a few
# percent at these sizes). The out files stay in $CALLGRIND_DIR (default: a temporary
# directory, printed) for callgrind_annotate.
set -euo pipefail

bench=${1:?usage: callgrind.sh BENCH URL [Wn...]}
url=${2:?usage: callgrind.sh BENCH URL [Wn...]}
shift 2
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(W1 W2 W3 W4 W6)
dir=${CALLGRIND_DIR:-$(mktemp -d /tmp/alch-callgrind.XXXXXX)}
mkdir -p "$dir"

# function, calls in one --quick --runs 1 run of its workload, operations per call
rows() {
    case $1 in
    W1) printf '%s\n' "w1_get 1 2000" "w1_get_one 1 2000" "w1_stmt 1 2000" "w1_stmt_one 1 2000" \
        "w1_raw 4 2000" ;;
    W2) printf '%s\n' "w2_auto 2 5000" "w2_tx 1 5000" "w2_core 1 5000" "w2_raw 3 5000" \
        "w2_raw_pipeline 1 5000" ;;
    W3) printf '%s\n' "w3_alch_n 2 10000" "w3_pipe_n 1 10000" "w3_copy_n 1 10000" ;;
    W4) printf '%s\n' "w4_alch_n 1 10000" "w4_result_n 1 10000" "w4_raw_n 2 10000" ;;
    W6) printf '%s\n' "w6_alch 2 800" "w6_raw 1 800" "w6_raw_pipeline 1 800" ;;
    esac
}

printf '%-4s %-16s %14s\n' "" "function" "Ir per op"
for w in "${workloads[@]}"; do
    out="$dir/callgrind.$w"
    valgrind --tool=callgrind --callgrind-out-file="$out" "$bench" --quick --runs 1 --only "$w" \
        "$url" >"$dir/bench.$w.log" 2>&1
    ann=$(callgrind_annotate --inclusive=yes --threshold=100 "$out" 2>/dev/null)
    while read -r fn calls ops; do
        # W6 runs w6_alch once per baseline: the raw ones, and pgbench when it is installed
        if [ "$fn" = w6_alch ] && command -v pgbench >/dev/null; then calls=3; fi
        ir=$(awk -v fn="$fn" '$0 ~ ":" fn "[ ]*(\\[|$)" { gsub(",", "", $1); print $1; exit }' \
            <<<"$ann")
        [ -n "$ir" ] || ir=0
        awk -v w="$w" -v fn="$fn" -v ir="$ir" -v n="$((calls * ops))" \
            'BEGIN { printf "%-4s %-16s %14.0f\n", w, fn, ir / n }'
    done < <(rows "$w")
done
echo "(callgrind out files: $dir)"
