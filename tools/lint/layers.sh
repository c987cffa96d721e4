#!/usr/bin/env bash
# lint.layers: the rooms of lib/src look only down, and libpq stays in the driver.
#   tools/lint/layers.sh SOURCE_DIR [OBJECT_LIST]
# The order (lib/README.md): util -> driver -> engine -> model -> base -> statement -> session
# -> migrate. A room may include its own headers, those of the rooms below it, and the public
# headers (alch/...). Checked:
#   1. include edges: every `#include "room/..."` in lib/src/<room>/*.[ch] points down;
#   2. libpq: only driver/ includes <libpq-fe.h> (the build also compiles the other rooms
#      without libpq's include directory);
#   3. calls (with OBJECT_LIST, a file naming the library's object files, one a line): every
#      alch_ function an object file of a room uses is defined in that room or below, so the
#      driver never calls up even without an include (it is given hooks instead).
set -euo pipefail
root=$(realpath "${1:?usage: layers.sh SOURCE_DIR [OBJECT_LIST]}")
objlist=${2:-}
[[ -z $objlist ]] || objlist=$(realpath "$objlist")
cd "$root/lib/src"

readonly ORDER="util driver engine model base statement session migrate"
# Edges allowed for a while (a refactoring under way), with a note until they are gone:
# "FILE TARGET" pairs, space-separated. Empty: every room looks only down.
readonly ALLOWED=""

for dir in */; do
    if [[ " $ORDER " != *" ${dir%/} "* ]]; then
        echo "FAIL: lib/src/$dir is not a room of the order ($ORDER): add it to lib/README.md" \
            "and to tools/lint/layers.sh at its floor"
        exit 1
    fi
done

# 1 and 2: one pass over every #include line (file:line:text)
fail=0
grep -nE '^[[:space:]]*#[[:space:]]*include' -- */*.[ch] | awk -v order="$ORDER" -v allowed="$ALLOWED" '
    BEGIN {
        n = split(order, r, " "); for (i = 1; i <= n; i++) rank[r[i]] = i
        shown = order; gsub(/ /, " -> ", shown)
        m = split(allowed, a, " "); for (i = 1; i < m; i += 2) ok[a[i] " " a[i + 1]] = 1
    }
    {
        file = $0; sub(/:.*/, "", file)
        line = $0; sub(/^[^:]*:/, "", line); sub(/:.*/, "", line)
        target = $0; sub(/^[^<"]*[<"]/, "", target); sub(/[>"].*/, "", target)
        room = file; sub(/\/.*/, "", room)
        if (target ~ /^(libpq-fe\.h|libpq\/|postgres_ext\.h)/) {
            if (room != "driver") {
                printf "FAIL: lib/src/%s:%s includes <%s>: libpq is the driver'"'"'s alone. Put the code that needs it in driver/ behind a function declared in driver/driver.h\n", file, line, target
                bad = 1
            }
            next
        }
        to = target; if (!sub(/\/.*/, "", to) || !(to in rank)) next
        edges++
        if (rank[to] <= rank[room]) next
        if ((file " " target) in ok) {
            printf "note: lib/src/%s:%s includes \"%s\" (allowed for now: ALLOWED in tools/lint/layers.sh)\n", file, line, target
            seen[file " " target] = 1
            next
        }
        printf "FAIL: lib/src/%s:%s includes \"%s\": %s may not look up at %s (order: %s). Move the code it needs down, or move this file up\n", file, line, target, room, to, shown
        bad = 1
    }
    END {
        for (e in ok) if (!(e in seen)) printf "note: the allowed edge \"%s\" is gone: remove it from ALLOWED\n", e
        printf "lint.layers: %d include edges between rooms checked (order: %s)\n", edges, shown
        exit bad
    }' || fail=1

# The diagram (docs/diagrams/layers.dot) draws the same order: its room -> room edges are the
# chain from the top floor down.
dot_file=$root/docs/diagrams/layers.dot
want=$(awk -v order="$ORDER" 'BEGIN { n = split(order, r, " "); for (i = n; i > 1; i--) print r[i] " -> " r[i - 1] }')
have=$(sed 's|//.*||' "$dot_file" | tr ';' '\n' | grep -- '->' | sed -E 's/\[[^]]*\]//g' | awk -v order="$ORDER" '
    BEGIN { n = split(order, r, " "); for (i = 1; i <= n; i++) room[r[i]] = 1 }
    { m = split($0, p, /[[:space:]]*->[[:space:]]*/)
      for (i = 1; i <= m; i++) gsub(/[[:space:]]/, "", p[i])
      for (i = 1; i < m; i++) if ((p[i] in room) && (p[i + 1] in room)) print p[i] " -> " p[i + 1] }' | sort -u)
if [[ $(sort <<<"$want") != "$have" ]]; then
    echo "FAIL: docs/diagrams/layers.dot does not draw the order: its room edges are"
    awk '{ print "    " $0 }' <<<"$have"
    echo "  and should be the chain"
    awk '{ print "    " $0 }' <<<"$want"
    fail=1
fi

# 3: calls, from the object files' defined (T) and undefined (U) alch_ symbols
if [[ -n $objlist ]]; then
    mapfile -t objects < <(grep -v '^$' "$objlist")
    ((${#objects[@]} > 0)) || { echo "FAIL: $objlist names no object file"; exit 1; }
    for o in "${objects[@]}"; do
        [[ -f $o ]] || { echo "FAIL: $o is missing: build the library first"; exit 1; }
    done
    nm -A -g "${objects[@]}" | awk -v order="$ORDER" '
        BEGIN { n = split(order, r, " "); for (i = 1; i <= n; i++) rank[r[i]] = i
                shown = order; gsub(/ /, " -> ", shown) }
        {
            file = $1; sub(/:.*/, "", file); sub(/.*\/src\//, "", file); sub(/\.o$/, "", file)
            room = file; sub(/\/.*/, "", room)
            sym = $NF; if (sym !~ /^alch_/) next
            if ($(NF - 1) == "U") { uses[++nu] = file " " room " " sym }
            else if ($(NF - 1) ~ /^[TDRB]$/) home[sym] = room
        }
        END {
            for (i = 1; i <= nu; i++) {
                split(uses[i], u, " ")
                if (!(u[3] in home)) continue
                calls++
                if (rank[home[u[3]]] > rank[u[2]]) {
                    printf "FAIL: lib/src/%s calls %s, which %s defines: %s may not call up (order: %s). Give %s a hook that %s sets, or move the code\n", u[1], u[3], home[u[3]], u[2], shown, u[2], home[u[3]]
                    bad = 1
                }
            }
            printf "lint.layers: %d calls between files checked against the order\n", calls
            exit bad
        }' || fail=1
fi

((fail == 0)) && echo "lint.layers: ok, every room looks only down and libpq stays in driver/"
exit "$fail"
