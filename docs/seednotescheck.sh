#!/usr/bin/env bash
# seednotescheck.sh: the page of the seed's inaccuracies exists in both languages, in step.
#
#   bash docs/seednotescheck.sh docs/seed-notes.md docs/seed-notes.ru.md
#
# Both pages must have the same numbered points (## 1. ... in the same order) and quote the
# same lines of the seed, in the same order. With ALCH_SEED_TEXT=FILE in the environment,
# every quoted line must also appear word for word in the seed. Exit status 0 or 1.
set -euo pipefail
en=$1 ru=$2
status=0
points() { grep -o '^## [0-9]*\.' "$1" || true; }
quotes() { grep '^> ..*' "$1" || true; }
if ! diff <(points "$en") <(points "$ru") >/dev/null; then
    echo "seednotescheck: $en and $ru do not have the same numbered points (## N.): translate the point that is missing" >&2
    status=1
fi
if ! diff <(quotes "$en") <(quotes "$ru") >/dev/null; then
    echo "seednotescheck: $en and $ru do not quote the same lines of the seed in the same order:" >&2
    diff <(quotes "$en") <(quotes "$ru") | grep '^[<>]' | sed 's/^/    /' >&2
    status=1
fi
if [[ -n ${ALCH_SEED_TEXT:-} ]]; then
    while IFS= read -r line; do
        grep -qF -- "${line#> }" "$ALCH_SEED_TEXT" ||
            { echo "seednotescheck: $en quotes a line the seed does not have word for word: ${line#> }" >&2; status=1; }
    done < <(quotes "$en")
fi
((status == 0)) && echo "seednotescheck: $(points "$en" | wc -l) points, $(quotes "$en" | wc -l) quoted lines, the same in both pages"
exit "$status"
