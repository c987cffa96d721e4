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
#
# Each line splits the wait (from the tutor's build/dev/last-check.times.NN): "save" from the
# save to watch mode's next round (the file written, the watcher's settle time), "hash" the
# regions hashed and the progress printed (the check's build runs meanwhile), "build" what
# was left of the build, "check" the check program, "show" the verdict on the screen. "CPU" is
# the processor time the verdict cost: the tutor and everything it ran, plus the sandbox's
# PostgreSQL (its background work included): on a machine shared with other builds, wall
# times grow with the load average (printed beside them), CPU times much less.
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
printf 'set -g scroll-on-clear off\nset -g remain-on-exit on\n' >"$conf"
tmx() { tmux -u -S "$sock" -f "$conf" "$@"; }
saved=$(mktemp -d)
cp -a exercises/database "$saved/database"
[[ -d build/progress.d ]] && cp -a build/progress.d "$saved/progress.d"
# shellcheck disable=SC2317  # called by the EXIT trap below, which shellcheck 0.9 does not follow
cleanup() {
    tmx kill-server 2>/dev/null || true
    rm -f "$sock" "$conf"
    rm -rf exercises/database build/progress.d
    # written now (not cp -a): a file older than the objects built from the references
    # would not be compiled again, and the checks would link objects of another struct Item
    cp -R "$saved/database" exercises/database
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

# CPU time (clock ticks) of processes and of their children that ended: the tutor's own pid
# counts everything it ran; the sandbox's postmaster, its servers (the running ones too).
ticks() {
    local pid stat total=0
    local -a f
    for pid; do
        stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
        read -r -a f <<<"${stat##*) }" # after "pid (name) ": state ppid ... utime is the 12th
        total=$((total + f[11] + f[12] + f[13] + f[14]))
    done
    echo "$total"
}
postmaster=""
if [[ -z ${ALCH_DATABASE_URL:-} && -f build/sandbox/datadir ]]; then
    postmaster=$(head -n 1 "$(cat build/sandbox/datadir)/postmaster.pid" 2>/dev/null || true)
fi
server_ticks() {
    [[ -n $postmaster ]] || { echo 0; return; }
    # shellcheck disable=SC2046  # one pid per word
    ticks "$postmaster" $(pgrep -P "$postmaster" || true)
}
hz=$(getconf CLK_TCK)
# Ticks as seconds; a process that ended before its second reading (the tutor leaves watch mode
# once every exercise passes, so /proc has nothing to read) gives "?", not a negative time.
seconds() { awk -v t="$1" -v hz="$hz" 'BEGIN { if (t < 0) print "?"; else printf "%.2f", t / hz }'; }

: >"$transcript"
pidfile=$(mktemp)
tmx new-session -d -s "$session" -x 120 -y 50 "echo \$\$ >$pidfile; exec ./tutor"
wait_for 'Save a file to check again' 600 || { screen; echo "verdict-time: watch mode did not start" >&2; exit 1; }
tutor=$(cat "$pidfile")
rm -f "$pidfile"
{ echo "==== the first screen"; screen; } >>"$transcript"

printf '%-3s %-16s %8s = %5s %5s %5s %5s %5s   %-18s %s\n' nn exercise "verdict" save hash build \
    check show "CPU: tutor+server" "load (1 min)"
status=0
while IFS=';' read -r nn name _ files; do
    tmx clear-history -t "$session"
    c0=$(ticks "$tutor") s0=$(server_ticks)
    t0=$(now_ms)
    for file in $files; do tools/regions put "exercises/$file" "solutions/$file" "$nn"; done # the save
    if wait_for "Exercise $nn passes" 120; then
        t1=$(now_ms)
        c1=$(ticks "$tutor") s1=$(server_ticks) # the verdict's (the next exercise's check starts)
        # round start, check start, built, ran (microseconds), from the tutor
        read -r r0 te tb tc <"build/dev/last-check.times.$nn"
        printf '%-3s %-16s %5d ms = %5d %5d %5d %5d %5d   %4s + %4s s        %s\n' "$nn" "$name" \
            $((t1 - t0)) $((r0 / 1000 - t0)) $(((te - r0) / 1000)) $(((tb - te) / 1000)) \
            $(((tc - tb) / 1000)) $((t1 - tc / 1000)) \
            "$(seconds $((c1 - c0)))" "$(seconds $((s1 - s0)))" \
            "$(cut -d' ' -f1 /proc/loadavg)"
    else
        printf '%-3s %-16s no verdict in 120 s\n' "$nn" "$name"
        status=1
    fi
    wait_for 'Save a file to check again|Every exercise passes' 120 || true
    { echo "==== after saving exercise $nn"; screen; } >>"$transcript"
done < <(grep -E '^[0-9]{2};' exercises/manifest.txt)
echo "(the screens: $transcript)"
exit $status
