#!/usr/bin/env bash
# coursecheck.sh: the exercises fit the lessons.
#
#   tools/coursecheck.sh SOURCE_DIR
#
# 1. Each file of exercises/database and its reference in solutions/database have the same
#    BEGIN/END exercise lines and the same text outside them (tools/regions verify), so a
#    learner tree with exercises 1..N solved can be assembled mechanically.
# 2. Every alch or libuv name (alch_*, ALCH_*, uv_*) and the isolation level "AUTOCOMMIT"
#    that the reference of exercise NN uses appears in a lesson up to exercise NN's lesson
#    (its README.md or its programs): an exercise asks only for what was taught.
set -euo pipefail
src=$1
regions=$src/tools/regions
fail=0

for starter in "$src"/exercises/database/*.[ch]; do
    ref=$src/solutions/database/$(basename "$starter")
    if [[ ! -f $ref ]]; then
        echo "FAIL: ${ref#"$src"/} is missing (the reference of ${starter#"$src"/})"
        fail=1
    elif ! "$regions" verify "$starter" "$ref"; then
        echo "FAIL: ${starter#"$src"/} and ${ref#"$src"/} differ outside the exercise regions"
        fail=1
    fi
done

# "NN name" for every name each lesson's files mention (one pass over the lessons)
index=$(for dir in "$src"/lessons/[0-9][0-9]-*/; do
    nn=$(basename "$dir" | cut -c1-2)
    cat "$dir"*.md "$dir"*.c "$dir"*.h 2>/dev/null |
        grep -oE '\b(alch_[a-z0-9_]+|ALCH_[A-Z0-9_]+|uv_[a-z0-9_]+|AUTOCOMMIT)\b' |
        sort -u | sed "s/^/$nn /" || true
done)

taught_in() { # name -> the lowest lesson number whose files mention it, or nothing
    awk -v name="$1" '$2 == name { print $1 }' <<<"$index" | sort | head -n 1
}

checked=0
while IFS=';' read -r nn _ lesson file; do
    [[ $nn =~ ^[0-9][0-9]$ ]] || continue
    names=$("$regions" get "$src/solutions/$file" "$nn" | sed 's|/\*.*\*/||; s|//.*||' |
        grep -oE '\b(alch_[a-z0-9_]+|ALCH_[A-Z0-9_]+|uv_[a-z0-9_]+|AUTOCOMMIT)\b' | sort -u)
    for name in $names; do
        checked=$((checked + 1))
        first=$(taught_in "$name")
        if [[ -z $first ]]; then
            echo "FAIL: exercise $nn uses $name, which no lesson shows"
            fail=1
        elif ((10#$first > 10#${lesson:0:2})); then
            echo "FAIL: exercise $nn (lesson ${lesson:0:2}) uses $name, first shown in lesson $first"
            fail=1
        fi
    done
done < <(grep -E '^[0-9]{2};' "$src/exercises/manifest.txt")

if [[ $fail -eq 0 ]]; then
    echo "ok: starters and references share their regions; $checked names the references use are taught in time"
fi
exit $fail
