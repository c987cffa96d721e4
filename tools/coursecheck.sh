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
# 3. No lesson's programs use an alch or libuv name that a later lesson's README is the first
#    to show: a lesson uses only what it or an earlier one teaches (names no README shows,
#    such as the *_free calls at the end of a program, are left alone).
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

# "NN LESSON name" for every name each exercise's reference uses
used=$(while IFS=';' read -r nn _ lesson files; do
    for file in $files; do "$regions" get "$src/solutions/$file" "$nn"; done |
        sed 's|/\*.*\*/||; s|//.*||' |
        grep -oE '\b(alch_[a-z0-9_]+|ALCH_[A-Z0-9_]+|uv_[a-z0-9_]+|AUTOCOMMIT)\b' |
        sort -u | sed "s/^/$nn ${lesson:0:2} /" || true
done < <(grep -E '^[0-9]{2};' "$src/exercises/manifest.txt"))

# 3: "NN name" for each name a lesson's README shows, and for each name its programs use
shown=$(for dir in "$src"/lessons/[0-9][0-9]-*/; do
    nn=$(basename "$dir" | cut -c1-2)
    grep -ohE '\b(alch_[a-z0-9_]+|ALCH_[A-Z0-9_]+|uv_[a-z0-9_]+)\b' "$dir"README.md |
        sort -u | sed "s/^/$nn /" || true
done)
programs=$(for dir in "$src"/lessons/[0-9][0-9]-*/; do
    nn=$(basename "$dir" | cut -c1-2)
    cat "$dir"*.c "$dir"*.h 2>/dev/null | sed 's|/\*.*\*/||; s|//.*||' |
        grep -oE '\b(alch_[a-z0-9_]+|ALCH_[A-Z0-9_]+|uv_[a-z0-9_]+)\b' |
        sort -u | sed "s/^/$nn /" || true
done)
if ! awk 'NR == FNR { if (!($2 in first) || $1 < first[$2]) first[$2] = $1; next }
          ($2 in first) && first[$2] > $1 { printf "FAIL: lesson %s uses %s, which lesson %s is the first to show\n", $1, $2, first[$2]; bad = 1 }
          END { exit bad }' <(printf '%s\n' "$shown") <(printf '%s\n' "$programs"); then
    fail=1
fi

checked=$(wc -l <<<"$used")
if ! awk 'NR == FNR { if (!($2 in first) || $1 < first[$2]) first[$2] = $1; next }
          !($3 in first) { printf "FAIL: exercise %s uses %s, which no lesson shows\n", $1, $3; bad = 1; next }
          first[$3] > $2 { printf "FAIL: exercise %s (lesson %s) uses %s, first shown in lesson %s\n", $1, $2, $3, first[$3]; bad = 1 }
          END { exit bad }' <(printf '%s\n' "$index") <(printf '%s\n' "$used"); then
    fail=1
fi

# 3. Every program exercises/README.md tells the learner to run (a code span whose first word
#    is a command on this machine) comes with ./tutor: its Debian package is in the tutor's
#    list, or essential to every Debian system.
tools_named=0
# shellcheck disable=SC2016 # the backquotes are Markdown's
span='`[a-z][a-z0-9_.-]* [^`]*`'
if command -v dpkg-query >/dev/null; then
    packages=" $(sed -n '/^readonly DEBIAN_PACKAGES=(/,/)/p' "$src/tutor" | tr -d '()' |
        sed 's/readonly DEBIAN_PACKAGES=//' | tr -s ' \n' ' ') "
    while read -r word; do
        path=$(command -v "$word" 2>/dev/null) || continue
        [[ $path == /* ]] || continue # a shell builtin or keyword
        real=$(readlink -f "$path") # merged /usr: dpkg may know it as /bin/...
        pkg=$({ dpkg-query -S "$real" || dpkg-query -S "${real#/usr}"; } 2>/dev/null |
            head -n 1 | cut -d: -f1) || pkg=""
        tools_named=$((tools_named + 1))
        if [[ -z $pkg ]]; then
            echo "FAIL: exercises/README.md runs '$word' ($path), which no Debian package provides"
            fail=1
        elif [[ $packages != *" $pkg "* && $(dpkg-query -W -f='${Essential}' "$pkg") != yes ]]; then
            echo "FAIL: exercises/README.md runs '$word' (package $pkg), which ./tutor does not install (add $pkg to DEBIAN_PACKAGES)"
            fail=1
        fi
    done < <(grep -oE "$span" "$src/exercises/README.md" | sed -E 's/^.([^ ]+) .*/\1/' | sort -u)
fi

if [[ $fail -eq 0 ]]; then
    echo "ok: starters and references share their regions; $checked names the references use are taught in time; $(wc -l <<<"$programs") names the lessons' programs use come from that lesson or an earlier one; programs exercises/README.md runs come with ./tutor ($tools_named)"
fi
exit $fail
