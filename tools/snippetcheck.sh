#!/usr/bin/env bash
# snippetcheck.sh: check that a lesson's README quotes its programs and their output exactly.
#
#   tools/snippetcheck.sh [--update] LESSON_DIR
#
# In LESSON_DIR/README.md, a fenced block may be tied to a file of the lesson by an HTML
# comment on the line before it (blank lines in between are allowed):
#
#   <!-- snippet: engine.c checkout -->      then a ```c block: it must equal the region of
#                                            engine.c between the two lines `//! [checkout]`
#                                            (Doxygen's snippet markers), markers excluded,
#                                            with the region's common indentation removed;
#   <!-- output: engine.expected -->         then a ```text block: it must equal the file,
#                                            `{*}` wildcards included;
#   <!-- output: engine.expected 6-7 -->     the same, for lines 6 to 7 of the file only.
#
# Every ```c block must be such a snippet: C code in a lesson always comes from a program that
# CTest builds and runs. Other blocks (```sh, ```text without a comment) are left alone.
#
# --update rewrites the tied blocks of README.md from the files instead of checking them.
#
# Exit status: 0 when everything matches, 1 when something differs or is missing, 2 on a
# usage error.
set -euo pipefail

readonly PROG=snippetcheck

usage() {
    echo "usage: tools/snippetcheck.sh [--update] LESSON_DIR" >&2
    exit 2
}

update=false
if [[ ${1:-} == --update ]]; then
    update=true
    shift
fi
[[ $# -eq 1 ]] || usage
dir=${1%/}
readme=$dir/README.md
[[ -f $readme ]] || {
    echo "$PROG: $readme not found" >&2
    exit 1
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

failures=0
fail() {
    printf '%s: %s\n' "$PROG" "$*" >&2
    failures=$((failures + 1))
}

# extract_region FILE NAME OUT WHERE: write the dedented region NAME of FILE to OUT.
# Fails (with a message) unless the marker line appears exactly twice, around a non-empty region.
extract_region() {
    local file=$1 name=$2 out=$3 where=$4
    awk -v marker="//! [$name]" -v file="$file" -v prog="$PROG" -v where="$where" '
        function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
        trim($0) == marker { marks++; if (marks == 1) first = NR; next }
        marks == 1 { body[++n] = $0 }
        END {
            if (marks != 2) {
                printf "%s: %s: in %s, the marker line \"%s\" appears %d time(s); a region " \
                       "needs exactly two (one before it, one after it)\n", prog, where, file, \
                       marker, marks > "/dev/stderr"
                exit 1
            }
            if (n == 0) {
                printf "%s: %s: in %s, the region %s (line %d) is empty\n", prog, where,    \
                       file, marker, first > "/dev/stderr"
                exit 1
            }
            indent = -1
            for (i = 1; i <= n; i++) {
                if (body[i] ~ /^[ \t]*$/) continue
                match(body[i], /^ */)
                if (indent < 0 || RLENGTH < indent) indent = RLENGTH
            }
            if (indent < 0) indent = 0
            for (i = 1; i <= n; i++)
                print (body[i] ~ /^[ \t]*$/ ? "" : substr(body[i], indent + 1))
        }' "$file" >"$out"
}

mapfile -t lines <"$readme"
nlines=${#lines[@]}
declare -a result=() # the README as --update would write it
checked=0
i=0
while ((i < nlines)); do
    line=${lines[i]}
    kind='' lang='' source='' name='' range=''
    if [[ $line =~ ^\<!--[[:space:]]*snippet:[[:space:]]*([^[:space:]]+)[[:space:]]+([^[:space:]]+)[[:space:]]*--\>[[:space:]]*$ ]]; then
        kind=snippet lang=c source=${BASH_REMATCH[1]} name=${BASH_REMATCH[2]}
    elif [[ $line =~ ^\<!--[[:space:]]*output:[[:space:]]*([^[:space:]]+)([[:space:]]+([0-9]+)-([0-9]+))?[[:space:]]*--\>[[:space:]]*$ ]]; then
        kind=output lang=text source=${BASH_REMATCH[1]}
        [[ -z ${BASH_REMATCH[2]} ]] || range="${BASH_REMATCH[3]}-${BASH_REMATCH[4]}"
    elif [[ $line =~ ^\<!--[[:space:]]*(snippet|output)([[:space:]:]|$) ]]; then
        fail "$readme:$((i + 1)): cannot read this comment; write <!-- snippet: FILE.c NAME --> or <!-- output: FILE.expected [FIRST-LAST] -->"
        result+=("$line")
        i=$((i + 1))
        continue
    elif [[ $line =~ ^\`\`\`c[[:space:]]*$ ]]; then
        fail "$readme:$((i + 1)): a \`\`\`c block with no <!-- snippet: FILE.c NAME --> comment before it; lesson code must be quoted from a program"
    fi
    result+=("$line")
    i=$((i + 1))
    [[ -n $kind ]] || continue

    where="$readme:$i"
    # the fence: the next non-blank line
    while ((i < nlines)) && [[ -z ${lines[i]//[[:space:]]/} ]]; do
        result+=("${lines[i]}")
        i=$((i + 1))
    done
    if ((i >= nlines)) || ! [[ ${lines[i]} =~ ^\`\`\`${lang}[[:space:]]*$ ]]; then
        fail "$where: the $kind comment must be followed by a \`\`\`$lang block"
        continue
    fi
    result+=("${lines[i]}")
    fence_line=$((i + 1))
    i=$((i + 1))
    block=()
    while ((i < nlines)) && [[ ${lines[i]} != '```' ]]; do
        block+=("${lines[i]}")
        i=$((i + 1))
    done
    if ((i >= nlines)); then
        fail "$readme:$fence_line: this \`\`\`$lang block is never closed with \`\`\`"
        continue
    fi
    i=$((i + 1)) # past the closing fence

    file=$dir/$source
    want=$tmp/want
    if [[ ! -f $file ]]; then
        fail "$where: $source does not exist in $dir"
        result+=("${block[@]}" '```')
        continue
    fi
    if [[ $kind == snippet ]]; then
        if ! extract_region "$file" "$name" "$want" "$where"; then
            failures=$((failures + 1))
            result+=("${block[@]}" '```')
            continue
        fi
        what="the region [$name] of $source"
    elif [[ -n $range ]]; then
        first=$((10#${range%-*})) last=$((10#${range#*-}))
        total=$(wc -l <"$file")
        if ((first < 1 || first > last || last > total)); then
            fail "$where: lines $range are not a range of $source, which has $total lines"
            result+=("${block[@]}" '```')
            continue
        fi
        sed -n "${first},${last}p" "$file" >"$want"
        what="lines $range of $source"
    else
        cp "$file" "$want"
        what=$source
    fi
    checked=$((checked + 1))

    if $update; then
        mapfile -t fresh <"$want"
        result+=("${fresh[@]}" '```')
        continue
    fi
    result+=("${block[@]}" '```')
    got=$tmp/got
    if ((${#block[@]})); then printf '%s\n' "${block[@]}" >"$got"; else : >"$got"; fi
    if ! cmp -s "$want" "$got"; then
        fail "$readme:$fence_line: this \`\`\`$lang block differs from $what (- $source, + README.md):"
        diff -u --label "$source" --label README.md "$want" "$got" | tail -n +3 >&2 || true
    fi
done

if $update; then
    if ((failures == 0)); then
        printf '%s\n' "${result[@]}" >"$tmp/readme"
        if cmp -s "$tmp/readme" "$readme"; then
            echo "$PROG: $readme is up to date ($checked quoted blocks)"
        else
            cp "$tmp/readme" "$readme"
            echo "$PROG: updated $readme ($checked quoted blocks)"
        fi
    fi
elif ((failures == 0)); then
    echo "$PROG: $readme: $checked quoted blocks match their files"
fi
if ((failures > 0)); then
    echo "$PROG: $failures problem(s) in $readme" >&2
    exit 1
fi
