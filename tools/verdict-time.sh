#!/usr/bin/env bash
# verdict-time.sh: how long a learner waits, in watch mode, from saving a file to the verdict.
#
#   tools/verdict-time.sh [REPO] [TRANSCRIPT]
#
# Starts `./tutor` (watch mode) in a detached tmux window on REPO (default: this repository)
# with every exercise as the starters have it, then solves the exercises one by one as a
# learner would: it writes the reference's region of exercise N into the file (one save) and
# times how long until the screen says "Exercise N passes". Prints one line per exercise and
# saves the screens to TRANSCRIPT (default: build/verdict-transcript.txt). The exercise files
# and the progress are put back as they were at the end. Needs tmux and a warm build (run
# ./tutor once first: the first build takes minutes and is not what this measures).
set -euo pipefail
export ALCH_LANG=en # the sentences asserted here are the English ones, whatever the locale
repo=$(cd "${1:-$(dirname "${BASH_SOURCE[0]}")/..}" && pwd -P)
transcript=${2:-$repo/build/verdict-transcript.txt}
command -v tmux >/dev/null || { echo "verdict-time: needs tmux (apt-get install tmux)" >&2; exit 2; }
cd "$repo"
[[ -x build/dev/tools/alch-watch ]] || { echo "verdict-time: run ./tutor once first (no build/dev)" >&2; exit 2; }

# A tmux server of its own; a cleared screen is not kept in its history (tmux 3.3 keeps it by
# default), so after clear-history the capture holds the current round only.
session=verdict
sock=$(mktemp -u /tmp/alch-verdict-XXXXXX)
conf=$(mktemp)
echo 'set -g scroll-on-clear off' >"$conf"
tmx() { tmux -u -S "$sock" -f "$conf" "$@"; }
saved=$(mktemp -d)
cp -a exercises/database "$saved/database"
[[ -d build/progress.d ]] && cp -a build/progress.d "$saved/progress.d"
# shellcheck disable=SC2317  # called by the EXIT trap below, which shellcheck 0.9 does not follow
cleanup() {
    tmx kill-server 2>/dev/null || true
    rm -f "$sock" "$conf"
    rm -rf exercises/database build/progress.d
    cp -a "$saved/database" exercises/database
    [[ -d $saved/progress.d ]] && cp -a "$saved/progress.d" build/progress.d
    rm -rf "$saved"
}
trap cleanup EXIT

# every exercise back to its starter, no progress, no hint shown yet
git show HEAD:exercises/database/models.c >/dev/null # the starters come from git
for f in exercises/database/*.[ch]; do git show "HEAD:$f" >"$f"; done
rm -rf build/progress.d

screen() { tmx capture-pane -p -J -t "$session" -S -; }
wait_for() { # pattern, seconds -> 0 once the screen shows it
    local deadline=$((SECONDS + $2))
    while ((SECONDS < deadline)); do
        screen | grep -qE -- "$1" && return 0
        sleep 0.02
    done
    return 1
}
now_ms() { echo $((${EPOCHREALTIME/[.,]/} / 1000)); }

: >"$transcript"
tmx new-session -d -s "$session" -x 120 -y 50 "./tutor; sleep 600"
wait_for 'Save a file to check again' 600 || { screen; echo "verdict-time: watch mode did not start" >&2; exit 1; }
{ echo "==== the first screen"; screen; } >>"$transcript"

printf '%-10s %-18s %-16s %s\n' exercise name "save -> verdict" "load (1 min)"
status=0
while IFS=';' read -r nn name _ files; do
    tmx clear-history -t "$session"
    t0=$(now_ms)
    for file in $files; do tools/regions put "exercises/$file" "solutions/$file" "$nn"; done # the save
    if wait_for "Exercise $nn passes" 120; then
        t1=$(now_ms)
        printf '%-10s %-18s %-16s %s\n' "$nn" "$name" "$((t1 - t0)) ms" "$(cut -d' ' -f1 /proc/loadavg)"
    else
        printf '%-10s %-18s no verdict in 120 s\n' "$nn" "$name"
        status=1
    fi
    wait_for 'Save a file to check again|Every exercise passes' 120 || true
    { echo "==== after saving exercise $nn"; screen; } >>"$transcript"
done < <(grep -E '^[0-9]{2};' exercises/manifest.txt)
echo "(the screens: $transcript)"
exit $status
