#!/usr/bin/env bash
# rucheck.sh: check that a lesson's Russian page (README.ru.md) keeps in step with README.md.
#
#   tools/rucheck.sh [--every] LESSON_DIR...
#
# For each LESSON_DIR that has a README.ru.md (one without it is only reported, unless
# --every is given: then a missing Russian page is a failure):
#
#   - line 1 is exactly  <!-- translated-from: README.md @ COMMIT -->  where COMMIT is the full
#     40-hex commit of the English README.md the page was translated from (get it with
#     `git log -1 --format=%H -- lessons/NN-name/README.md`);
#   - line 2 is the title  # Урок NN: ...  (NN of the folder; the English one is # Lesson NN: ...);
#   - a blockquote right after the title (the seed's passage) ends with its source line,
#     `> — исходная статья, часть 1`; with ALCH_SEED_TEXT=FILE in the environment every other
#     quoted line must appear verbatim in FILE (the seed is not part of this repository), a
#     leading or trailing "…" marking a cut;
#   - the <!-- snippet: -->, <!-- output: --> and <!-- page: X Title --> markers are those of
#     README.md, in the same order (a page marker's title is translated: only X must agree);
#   - the fenced block under each snippet/output marker is byte-identical to the English one,
#     and the page has the same fenced blocks (```c, ```text, ```sh, ```python ...) in the
#     same order (the other blocks may translate their comments);
#   - links to other lessons (../NN-name/README.ru.md or ../NN-name/README.md) exist and point
#     to the same lessons as the English page's links.
#
# It only WARNS (prints "rucheck: warning: ...", exit status unchanged) when README.md has
# changed since COMMIT: the translation is then behind the English page. `.ci/run` runs this
# script first, so CI's log shows those warnings.
#
# Exit status: 0 when every Russian page present agrees with its English page, 1 otherwise,
# 2 on a usage error.
set -euo pipefail

readonly PROG=rucheck

every=false
if [[ ${1:-} == --every ]]; then
    every=true
    shift
fi
[[ $# -ge 1 ]] || {
    echo "usage: tools/rucheck.sh [--every] LESSON_DIR..." >&2
    exit 2
}

failures=0
warnings=0
pages=0
fail() {
    printf '%s: %s\n' "$PROG" "$*" >&2
    failures=$((failures + 1))
}
warn() {
    printf '%s: warning: %s\n' "$PROG" "$*"
    warnings=$((warnings + 1))
}

# structure FILE: one record per marker and per fenced block, "LINE<TAB>TEXT", where TEXT is
# the marker (a page marker reduced to its letter), the fence line, and for a block under a
# snippet/output marker every line of it. A fence inside a blockquote ("> ```") is not a block.
structure() {
    awk '
        function emit(s) { printf "%d\t%s\n", NR, s }
        inblock {
            if ($0 == "```") { inblock = 0; if (tied) emit("```"); tied = 0; next }
            if (tied) emit($0)
            next
        }
        /^<!-- (snippet|output): / { emit($0); pending = 1; next }
        /^<!-- page: [b-z] / { emit("<!-- page: " $3 " -->"); next }
        /^```/ { emit($0); inblock = 1; tied = pending; pending = 0; next }
        /[^ \t]/ { pending = 0 }
    ' "$1"
}

# lesson_links FILE: the lesson folders FILE links to, sorted, one per line.
lesson_links() {
    grep -o '(\.\./[0-9][0-9]-[^)/]*/README\(\.ru\)\?\.md)' "$1" | sed 's|^(\.\./||; s|/.*||' |
        sort -u || true
}

check_lesson() {
    local dir=${1%/} en ru folder nn first title commit
    en=$dir/README.md
    ru=$dir/README.ru.md
    folder=$(basename "$dir")
    nn=${folder:0:2}
    if [[ ! -f $en ]]; then
        fail "$en not found"
        return
    fi
    if [[ ! -f $ru ]]; then
        if $every; then
            fail "$ru is missing: every lesson has a Russian page (translate $en; the format is in tools/rucheck.sh)"
        else
            echo "$PROG: $folder has no Russian page yet (README.ru.md)"
        fi
        return
    fi
    pages=$((pages + 1))
    local before=$failures

    # line 1: the English commit
    first=$(sed -n 1p "$ru")
    if [[ $first =~ ^\<!--\ translated-from:\ README\.md\ @\ ([0-9a-f]{40})\ --\>$ ]]; then
        commit=${BASH_REMATCH[1]}
        check_commit "$dir" "$commit"
    else
        fail "$ru:1: the first line must be <!-- translated-from: README.md @ COMMIT --> with the full 40-hex commit of the English page (git log -1 --format=%H -- $en), not: $first"
    fi

    # line 2: the title, in the English title's place
    title=$(sed -n 2p "$ru")
    # Cyrillic letters are U+0400..U+04FF: UTF-8 lead bytes 0xD0-0xD3, whatever the locale
    if ! [[ $title == "# Урок $nn: "* ]] || ! printf '%s' "${title#*:}" | LC_ALL=C grep -q $'[\xd0-\xd3]'; then
        fail "$ru:2: the second line must be the title '# Урок $nn: ...' in Russian (the English page starts with '$(head -n 1 "$en")'), not: $title"
    fi
    check_quote "$ru"

    # markers and blocks
    local tmp
    tmp=$(mktemp -d)
    structure "$en" >"$tmp/en"
    structure "$ru" >"$tmp/ru"
    cut -f2- "$tmp/en" >"$tmp/en.text"
    cut -f2- "$tmp/ru" >"$tmp/ru.text"
    if ! cmp -s "$tmp/en.text" "$tmp/ru.text"; then
        # the first record that differs, with the line of each file
        local n enline ruline
        n=$(cmp "$tmp/en.text" "$tmp/ru.text" 2>/dev/null | awk '{ print $NF }' || true)
        if [[ -z $n ]]; then # one is a prefix of the other
            n=$(($(wc -l <"$tmp/en.text") < $(wc -l <"$tmp/ru.text") ? $(wc -l <"$tmp/en.text") + 1 : $(wc -l <"$tmp/ru.text") + 1))
        fi
        enline=$(sed -n "${n}s/\t/: /p" "$tmp/en")
        ruline=$(sed -n "${n}s/\t/: /p" "$tmp/ru")
        fail "$ru: its markers and quoted blocks must be README.md's, in the same order and byte for byte; the first difference:
    README.md:${enline:-(end of the file)}
    README.ru.md:${ruline:-(end of the file)}"
    fi

    # links to other lessons
    local target
    while read -r target; do
        [[ -f $dir/$target ]] || fail "$ru: the link ($target) points to a file that does not exist"
    done < <(grep -o '(\.\./[0-9][0-9]-[^)/]*/README\(\.ru\)\?\.md)' "$ru" | tr -d '()' || true)
    lesson_links "$en" >"$tmp/en.links"
    lesson_links "$ru" >"$tmp/ru.links"
    if ! cmp -s "$tmp/en.links" "$tmp/ru.links"; then
        fail "$ru: it links to other lessons than README.md does (- README.md, + README.ru.md):
$(diff "$tmp/en.links" "$tmp/ru.links" | grep '^[<>]' | sed 's/^</    -/; s/^>/    +/')"
    fi
    rm -rf "$tmp"
    ((failures > before)) || echo "$PROG: $ru agrees with README.md"
}

# check_commit DIR COMMIT: COMMIT must be known (unless the clone is shallow or not a git
# checkout), and README.md unchanged since it; a change is a warning, not a failure.
check_commit() {
    local dir=$1 commit=$2 top rel changed
    if ! top=$(git -C "$dir" rev-parse --show-toplevel 2>/dev/null); then
        echo "$PROG: $dir is not in a git checkout: cannot tell whether README.md changed since $commit"
        return
    fi
    rel=$(realpath --relative-to="$top" "$dir")/README.md
    if ! git -C "$top" cat-file -e "$commit^{commit}" 2>/dev/null; then
        if [[ $(git -C "$top" rev-parse --is-shallow-repository) == true ]]; then
            warn "$rel: commit $commit is not in this shallow clone: cannot tell whether the English page changed since"
        else
            fail "$dir/README.ru.md:1: commit $commit does not exist; write the commit of the English page: git log -1 --format=%H -- $rel"
        fi
        return
    fi
    if ! git -C "$top" cat-file -e "$commit:$rel" 2>/dev/null; then
        fail "$dir/README.ru.md:1: $rel did not exist at commit $commit; write the commit of the English page: git log -1 --format=%H -- $rel"
        return
    fi
    if ! git -C "$top" diff --quiet "$commit" -- "$rel"; then
        changed=$(git -C "$top" diff --numstat "$commit" -- "$rel" | awk '{ print "+" $1 " -" $2 " lines" }')
        warn "$rel changed since $commit, from which README.ru.md was translated ($changed): bring the translation up to date (git diff ${commit:0:12} -- $rel), then set its first line to the new commit ($(git -C "$top" log -1 --format=%H -- "$rel"))"
    fi
}

# check_quote FILE: the blockquote after the title, if any, ends with its source line, and
# (with ALCH_SEED_TEXT) quotes the seed verbatim.
check_quote() {
    local ru=$1 line n=0 last='' text
    local -a quoted=()
    while IFS= read -r line; do
        n=$((n + 1))
        ((n > 2)) || continue
        if ((${#quoted[@]} == 0)) && [[ -z $line ]]; then continue; fi
        [[ $line == '>'* ]] || break
        quoted+=("$line")
    done <"$ru"
    ((${#quoted[@]})) || return 0
    last=${quoted[-1]}
    if ! [[ $last =~ ^\>\ —\ . ]]; then
        fail "$ru: the seed's passage quoted after the title must end with the line saying where it is from, e.g. '> — исходная статья, часть 1'; the last quoted line is: $last"
        return
    fi
    [[ -n ${ALCH_SEED_TEXT:-} ]] || return 0
    for line in "${quoted[@]::${#quoted[@]}-1}"; do
        text=${line#>}
        text=${text# }
        text=${text#…} # an ellipsis marks a cut: the rest must still be the seed's words
        text=${text%…}
        [[ -n ${text//[[:space:]]/} ]] || continue
        grep -qF -- "$text" "$ALCH_SEED_TEXT" ||
            fail "$ru: this quoted line is not in the seed ($ALCH_SEED_TEXT) word for word: $text"
    done
}

for dir in "$@"; do
    check_lesson "$dir"
done
echo "$PROG: $pages Russian page(s) checked, $failures problem(s), $warnings warning(s)"
((failures == 0))
