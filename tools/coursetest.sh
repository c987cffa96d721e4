#!/usr/bin/env bash
# coursetest.sh: the lessons as a learner runs them. In a temporary copy of the repository as
# committed (HEAD: a learner's uncommitted edits are not the course), on ONE database (the
# tutor's own sandbox, created fresh), run `./tutor run 1` ... `./tutor run N` in order, twice,
# and compare every program's output with its .expected, the way the lesson tests do
# (outcheck, `{*}` wildcards included). Any drift between runs -- a row inserted twice, a table
# left behind by another lesson in another shape -- shows as a difference.
#
#   tools/coursetest.sh SOURCE_DIR BUILD_DIR [PASSES [LESSON...]]
#
# LESSON: the lesson numbers to run, in that order (default: every lessons/NN-* folder).
# BUILD_DIR is a configured and built tree of SOURCE_DIR (the tree this test belongs to): its
# lesson programs and outcheck are used as they are, so nothing is built twice.
set -euo pipefail
export ALCH_LANG=en # the sentences asserted here are the English ones, whatever the locale
src=$1
build=$(cd "$2" && pwd -P)
passes=${3:-2}
outcheck=$build/tools/outcheck
[[ -x $outcheck ]] || {
    echo "coursetest: $outcheck is not built" >&2
    exit 2
}

tmp=$(mktemp -d)
repo=$tmp/repo
# shellcheck disable=SC2317  # called by the EXIT trap below, which shellcheck 0.9 does not follow
cleanup() {
    if [[ -x $repo/tools/pgsandbox ]]; then
        "$repo/tools/pgsandbox" destroy "$repo/build/sandbox" >/dev/null 2>&1 || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
bash "$(dirname "${BASH_SOURCE[0]}")/repocopy.sh" "$src" "$repo"

# The learner's one database: the tutor's sandbox, never a server given from outside.
unset ALCH_DATABASE_URL
export ALCH_TUTOR_BUILD=$build

lessons=("${@:4}")
if [[ ${#lessons[@]} -eq 0 ]]; then
    for d in "$repo"/lessons/[0-9][0-9]-*/; do
        lessons+=("$(basename "$d" | cut -c1-2)")
    done
fi

fail=0
checked=0
for pass in $(seq 1 "$passes"); do
    for nn in "${lessons[@]}"; do
        log=$tmp/run-$pass-$nn.log
        rc=0
        (cd "$repo" && ./tutor run "$nn") >"$log" 2>&1 || rc=$?
        dir=$(echo "$repo"/lessons/"$nn"-*/)
        # Cut the run into one piece per program: each starts at its "==> lesson_NN_name" line;
        # the tutor's closing lines ("", "Lesson NN ran successfully. ...") are not a program's.
        rm -rf "$tmp/pieces" && mkdir "$tmp/pieces"
        awk -v out="$tmp/pieces" -v nn="$nn" '
            /^--> / { next }   # notes of the tutor (a server started for the next program)
            /^==> lesson_[0-9][0-9]_/ { name = substr($0, 5); n++; next }
            name == "" { next }
            /^Lesson [0-9][0-9] ran successfully\./ { name = ""; next }
            { lines[name] = lines[name] $0 "\n"; order[n] = name }
            END {
                for (i = 1; i <= n; i++) if (order[i] != "") {
                    f = out "/" order[i]
                    text = lines[order[i]]
                    sub(/\n\n$/, "\n", text)   # the blank line before "Lesson NN ran ..."
                    printf "%s", text > f
                    close(f)
                }
            }' "$log"
        progs=$(sed -n 's/^==> \(lesson_[0-9][0-9]_[A-Za-z0-9_]*\)$/\1/p' "$log")
        if [[ -z $progs ]]; then
            echo "FAIL: pass $pass, ./tutor run $nn ran no program (exit status $rc):"
            sed 's/^/    /' "$log" | tail -n 20
            fail=1
            continue
        fi
        for prog in $progs; do
            name=${prog#lesson_"$nn"_}
            piece=$tmp/pieces/$prog
            [[ -f $piece ]] || : >"$piece"
            checked=$((checked + 1))
            if "$outcheck" "$dir$name.expected" -- cat "$piece" >"$tmp/cmp" 2>&1; then
                echo "ok: pass $pass, lesson $nn, $name"
            else
                echo "FAIL: pass $pass, lesson $nn, $name differs from lessons/$(basename "$dir")/$name.expected"
                grep -E '^(outcheck:|  expected|  got)' "$tmp/cmp" | sed 's/^/    /'
                grep -E 'exited with status' "$piece" | sed 's/^/    /' || true
                fail=1
            fi
        done
        if [[ $rc -ne 0 ]]; then
            echo "FAIL: pass $pass, ./tutor run $nn exited with status $rc"
            fail=1
        fi
        # its last lines name the next lesson whole (none after the last lesson)
        mm=""
        for d in "$repo"/lessons/[0-9][0-9]-*/; do
            [[ $(basename "$d" | cut -c1-2) > $nn ]] && { mm=$(basename "$d" | cut -c1-2); break; }
        done
        next_line=$(grep -E 'lesson [0-9]{2} \(.+\): read it with \./tutor lesson [0-9]+, run it with \./tutor run [0-9]+\.$' "$log" || true)
        if [[ -n $mm && $next_line != *"lesson $mm ("*"./tutor run $((10#$mm))." ]]; then
            echo "FAIL: pass $pass, ./tutor run $nn does not end by naming lesson $mm (./tutor run $((10#$mm))):"
            tail -n 3 "$log" | sed 's/^/    /'
            fail=1
        elif [[ -z $mm && -n $next_line ]]; then
            echo "FAIL: pass $pass, ./tutor run $nn (the last lesson) names a next lesson: $next_line"
            fail=1
        fi
    done
done
echo "coursetest: $checked program runs checked over $passes passes of lessons ${lessons[*]}"
exit $fail
