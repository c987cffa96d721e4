#!/usr/bin/env bash
# translations.sh: warn when an English file changed after its Russian translation was made.
#
#   tools/translations.sh [REPO]
#
# Every tracked Russian file (a name with ".ru." in it) records the commit of the English
# file it was translated from: on its first line, <!-- translated-from: README.md @ COMMIT -->
# (the English file is the README.md beside it), or, for a page whose first line must be its
# title, as a line "RUSSIAN ENGLISH COMMIT" of docs/translations.txt. The lessons' pages are
# left to tools/rucheck.sh, which checks much more and gives the same warning.
#
# Prints "translations: warning: ..." for each Russian file whose English file changed since
# its COMMIT (exit status 0: the translation is behind, nothing is wrong); fails (status 1)
# with a sentence for a Russian file with no record, a record naming a commit or a file that
# does not exist, or a record whose Russian file is gone.
set -euo pipefail
cd "${1:-$(dirname "${BASH_SOURCE[0]}")/..}"
readonly PROG=translations table=docs/translations.txt
git rev-parse --git-dir >/dev/null 2>&1 || {
    echo "$PROG: not a git checkout: nothing to compare"
    exit 0
}
failures=0 warnings=0 checked=0
fail() {
    printf '%s: %s\n' "$PROG" "$*" >&2
    failures=$((failures + 1))
}

# check RUSSIAN ENGLISH COMMIT WHERE: WHERE says where the record is, for the sentences.
check() {
    local ru=$1 en=$2 commit=$3 where=$4
    checked=$((checked + 1))
    [[ -f $ru ]] || { fail "$where names $ru, which does not exist: remove the line"; return; }
    [[ -f $en ]] || { fail "$where: the English file $en of $ru does not exist"; return; }
    git cat-file -e "$commit^{commit}" 2>/dev/null ||
        { fail "$where: $commit is not a commit of this repository"; return; }
    git cat-file -e "$commit:$en" 2>/dev/null ||
        { fail "$where: commit ${commit:0:12} has no $en"; return; }
    if ! git diff --quiet "$commit" -- "$en"; then
        printf '%s: warning: %s changed since %s, the commit %s was translated from: see git diff %s -- %s\n' \
            "$PROG" "$en" "${commit:0:12}" "$ru" "${commit:0:12}" "$en"
        warnings=$((warnings + 1))
    fi
}

declare -A recorded=()
if [[ -f $table ]]; then
    n=0
    while read -r ru en commit extra; do
        n=$((n + 1))
        [[ -z $ru || $ru == '#'* ]] && continue
        if [[ -z ${commit:-} || -n ${extra:-} ]]; then
            fail "$table:$n: expected three words, RUSSIAN ENGLISH COMMIT"
            continue
        fi
        recorded[$ru]=1
        check "$ru" "$en" "$commit" "$table:$n"
    done <"$table"
fi

while IFS= read -r ru; do
    [[ $ru == lessons/*/README.ru.md ]] && continue # tools/rucheck.sh
    [[ -n ${recorded[$ru]:-} ]] && continue
    line=$(head -n 1 "$ru")
    if [[ $line =~ ^\<\!--\ translated-from:\ ([^ ]+)\ @\ ([0-9a-f]{40})\ --\>$ ]]; then
        check "$ru" "$(dirname "$ru")/${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "$ru:1"
    else
        fail "$ru records no English commit: start it with <!-- translated-from: README.md @ COMMIT --> or add a line to $table"
    fi
done < <(git ls-files -- '*.ru.*')

echo "$PROG: $checked Russian files, $warnings behind their English file, $failures problems"
((failures == 0))
