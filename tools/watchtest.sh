#!/usr/bin/env bash
# watchtest.sh: watch mode as a learner sees it. Runs `./tutor` in a detached tmux window of
# 120x40 on a learner tree that is built already, with exercises 01-05 solved, and reads the
# screen as a person would (capture-pane):
#   - the first screen keeps the overview ("Next: ... ./tutor lesson") above the first verdict;
#   - saving exercise 06's reference shows "Exercise 06 passes" and the bar at 6/8, in seconds;
#   - `h` shows exercise 07's second hint, and it is still on the screen 3 s later;
#   - a save with 25 compiler errors shows all 25 (watch mode once cut its output at 20 lines);
#   - saving the others (07, 08, ...) in turn ends with "Every exercise passes" and N/N;
# then, outside watch mode, `./tutor run` of the last lesson and `./tutor check` say the course
# is done.
#
#   tools/watchtest.sh LEARNER_REPO
#
# LEARNER_REPO: a copy of the repository (tools/repocopy.sh) whose build/dev is built, such as
# the one tutor.session leaves for this test. Its exercise files are rewritten here.
set -euo pipefail
export ALCH_LANG=en # the sentences asserted here are the English ones, whatever the locale
repo=$(cd "$1" && pwd -P)
cd "$repo"
[[ -x build/dev/tools/alch-watch ]] || {
    echo "watchtest: $repo has no dev build (tutor.session makes one)" >&2
    exit 2
}
command -v tmux >/dev/null || {
    echo "watchtest: needs tmux (./tutor installs it)" >&2
    exit 2
}

# A tmux server of its own. A cleared screen is not kept in the history (tmux 3.3 keeps it by
# default), so after clear-history the capture holds this round's screen only.
sock=$(mktemp -u /tmp/alch-watchtest-XXXXXX)
conf=$(mktemp)
echo 'set -g scroll-on-clear off' >"$conf"
tmx() { tmux -u -S "$sock" -f "$conf" "$@"; }
# shellcheck disable=SC2317 # run by the trap
cleanup() {
    tmx kill-server 2>/dev/null || true
    rm -f "$sock" "$conf"
}
trap cleanup EXIT

# shellcheck source=tools/testlib.sh
source "$(dirname "${BASH_SOURCE[0]}")/testlib.sh" # ok, bad, fail, now_ms
visible() { tmx capture-pane -p -J -t learner; }       # what is on the screen now
everything() { tmx capture-pane -p -J -t learner -S -; } # the screen and what scrolled off
wait_for() { # pattern seconds [capture]: 0 once the capture shows the pattern
    local deadline=$((SECONDS + $2))
    while ((SECONDS < deadline)); do
        "${3:-everything}" | grep -qE -- "$1" && return 0
        sleep 0.05
    done
    return 1
}
expect_screen() { # description pattern [capture]
    if "${3:-everything}" | grep -qE -- "$2"; then
        ok "$1"
    else
        bad "$1 (no '$2' on the screen:)"
        "${3:-everything}" | tail -n 25 | sed 's/^/    /'
    fi
}
# Save exercise NN's reference into its file, as a learner's editor would, and time the verdict.
# An exercise may span several files (the manifest's field 4 lists them, separated by spaces):
# they are saved one after the other, as a learner would.
save_and_time() { # NN pattern
    local files file t0
    files=$(grep -E "^$1;" exercises/manifest.txt | cut -d';' -f4)
    tmx clear-history -t learner
    t0=$(now_ms)
    for file in $files; do
        tools/regions put "exercises/$file" "solutions/$file" "$1"
    done
    if wait_for "$2" 120; then
        ok "save exercise $1: '$2' on the screen after $(($(now_ms) - t0)) ms"
    else
        bad "save exercise $1: no '$2' on the screen in 120 s"
        everything | tail -n 30 | sed 's/^/    /'
    fi
    wait_for 'Save a file to check again|Every exercise passes' 120 || true
}

# The learner tree: the starters, then exercises 01-05 solved; no hint seen yet.
for f in exercises/database/*.[ch]; do git show "HEAD:$f" >"$f"; done
for nn in 01 02 03 04 05; do
    tools/regions put exercises/database/models.c solutions/database/models.c "$nn"
done
rm -f build/progress.d/hint-*
total=$(grep -cE '^[0-9]{2};' exercises/manifest.txt)

t_start=$SECONDS
tmx new-session -d -s learner -x 120 -y 40 "./tutor; echo '[tutor exited]'; sleep 600"
if wait_for 'Save a file to check again' 300; then
    ok "watch mode starts and waits for a save ($((SECONDS - t_start)) s)"
else
    bad "watch mode did not start in 300 s"
    everything | tail -n 30 | sed 's/^/    /'
    exit 1
fi
expect_screen "the overview stays above the first verdict" '^  \./tutor lesson [0-9]+ +read lesson'
expect_screen "the first verdict: 01-05 done" "Progress .*\\] 5/$total\$"
expect_screen "exercise 06 is not done yet" 'not done yet: exercise 06'
expect_screen "its first hint is shown" '^Hint 1 of 2 for exercise 06:'

save_and_time 06 'Exercise 06 passes'
expect_screen "the bar moves to 6/$total" "Progress .*\\] 6/$total\$"
if everything | grep -qE '^Exercise 0[1-5]: '; then
    bad "the save re-checked exercises that passed before:"
    everything | grep -E '^Exercise 0[1-5]: ' | sed 's/^/    /'
else
    ok "the save re-checks only the current exercise (and the next)"
fi
expect_screen "exercise 07 is checked next" 'Exercise 07: shop'
expect_screen "with its first hint" '^Hint 1 of 2 for exercise 07:'

tmx send-keys -t learner h
if wait_for '^Hint 2 of 2 for exercise 07:' 10 visible; then
    sleep 3
    expect_screen "h: the second hint is still on the screen 3 s later" '^Hint 2 of 2 for exercise 07:' visible
    expect_screen "and the first one too" '^Hint 1 of 2 for exercise 07:' visible
    expect_screen "and watch mode still waits" 'Save a file to check again' visible
else
    bad "h: no second hint for exercise 07 on the screen in 10 s"
    visible | sed 's/^/    /'
fi

# 25 compiler errors in exercise 07's region: every one is shown
{
    echo 'int broken_sum(void);'
    echo 'int broken_sum(void)'
    echo '{'
    echo '    return 0'
    for i in $(seq -w 1 25); do echo "        + missing_$i"; done
    echo '        ;'
    echo '}'
} >"$repo/build/broken.c"
tmx clear-history -t learner
awk -v broken="$repo/build/broken.c" '
    /^\/\* END exercise 07 \*\/$/ { while ((getline line < broken) > 0) print line }
    { print }' exercises/database/requests.c >"$repo/build/requests.c"
cat "$repo/build/requests.c" >exercises/database/requests.c # the save
if wait_for '\[x\] compiles' 120 && wait_for 'Save a file to check again' 60; then
    shown=$(everything | grep -cE "requests\.c:[0-9]+:[0-9]+: error: .missing_[0-9]+. undeclared" || true)
    if ((shown == 25)); then
        ok "a save with 25 compiler errors shows all 25"
    else
        bad "a save with 25 compiler errors shows $shown of them:"
        everything | sed 's/^/    /'
    fi
else
    bad "the broken save gave no '[x] compiles' verdict"
    everything | tail -n 30 | sed 's/^/    /'
fi

# the others in turn, the last one ends watch mode
mapfile -t rest < <(grep -oE '^[0-9]{2};' exercises/manifest.txt | tr -d ';' | awk '$1 > "06"')
for nn in "${rest[@]}"; do
    if [[ $nn == "${rest[-1]}" ]]; then
        save_and_time "$nn" 'Every exercise passes'
        expect_screen "the last save: exercise $nn passes" "Exercise $nn passes"
    else
        save_and_time "$nn" "Exercise $nn passes"
    fi
done
expect_screen "and the bar is full" "Progress .*\\] $total/$total\$"
wait_for '\[tutor exited\]' 10 || bad "watch mode did not end after the last exercise"
echo "(watch mode: $((SECONDS - t_start)) s)"

last=$(basename "$(printf '%s\n' lessons/[0-9][0-9]-*/ | tail -n 1)" | cut -c1-2)
out=$(./tutor run "$last" 2>&1 || true)
if grep -qx "That was the last lesson, and every exercise passes: the course is done." <<<"$out"; then
    ok "run $last (the last lesson) with every exercise passed: the course is done"
else
    bad "run $last does not say the course is done:"
    tail -n 5 <<<"$out" | sed 's/^/    /'
fi
out=$(./tutor check 2>&1 || true)
if grep -qx "Every exercise passes." <<<"$out"; then ok "check: every exercise passes"; else
    bad "check does not say every exercise passes:"
    tail -n 5 <<<"$out" | sed 's/^/    /'
fi
exit $fail
