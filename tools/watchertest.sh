#!/usr/bin/env bash
# watchertest.sh: alch-watch, what watch mode waits with. A finished save of a C file or a
# header wakes it (exit status 0): written and closed, or written elsewhere and renamed into
# place; files an editor writes beside them do not (vim's 4913, .models.c.swp, models.c~, the
# temporary models.c.Ab12Cd that is renamed over models.c).
#
#   tools/watchertest.sh ALCH_WATCH
set -euo pipefail
watch=$1
dir=$(mktemp -d)
pid=""
# shellcheck disable=SC2317 # run by the trap
cleanup() {
    [[ -z $pid ]] || kill "$pid" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
# shellcheck source=tools/testlib.sh
source "$(dirname "${BASH_SOURCE[0]}")/testlib.sh" # ok, bad, fail, now_ms
start() { # the watcher on DIR, given a second to set its watch up
    "$watch" "$dir" </dev/null &
    pid=$!
    sleep 1
}
running() { kill -0 "$pid" 2>/dev/null; }
ends() { # description: the watcher exits with 0 within 5 s
    local deadline=$((SECONDS + 5)) rc=0 t0
    t0=$(now_ms)
    while running && ((SECONDS < deadline)); do sleep 0.01; done
    if running; then
        bad "$1: alch-watch still waits 5 s later"
        kill "$pid"
    else
        wait "$pid" || rc=$?
        if ((rc == 0)); then ok "$1 (exit 0, $(($(now_ms) - t0)) ms after it)"; else bad "$1: exit status $rc"; fi
    fi
    pid=""
}

start
printf 'int x;\n' >"$dir/models.c"
ends "a C file written and closed wakes it"

start
printf 'int y;\n' >"$dir/requests.h.Ab12Cd"
printf 'x\n' >"$dir/4913"
rm -f "$dir/4913"
printf 'x\n' >"$dir/.requests.h.swp"
printf 'x\n' >"$dir/requests.h~"
printf 'notes\n' >"$dir/notes.txt"
sleep 0.5
if running; then ok "an editor's temporary files do not wake it"; else bad "an editor's temporary file woke it"; fi
mv "$dir/requests.h.Ab12Cd" "$dir/requests.h"
ends "a header renamed into place wakes it"
exit $fail
