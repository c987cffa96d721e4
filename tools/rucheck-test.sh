#!/usr/bin/env bash
# rucheck-test.sh: tools/rucheck.sh on a small lesson in a throwaway git repository: a Russian
# page that agrees passes; each kind of drift fails with its sentence; an English page changed
# since the translation only warns.
#
#   tools/rucheck-test.sh
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
git init -q .
git config user.email test@example.invalid
git config user.name test
mkdir -p lessons/01-first lessons/02-second
cat >lessons/01-first/README.md <<'EOF'
# Lesson 01: the first

Words. Next: [lesson 02](../02-second/README.md).

<!-- snippet: a.c main -->
```c
int x = 1;
```

```python
x = 1  # a comment
```

<!-- page: b The second page -->

<!-- output: a.expected -->
```text
1
```
EOF
echo '# Lesson 02: the second' >lessons/02-second/README.md
echo '# Урок 02: второй' >lessons/02-second/README.ru.md
git add -A
git commit -qm english
commit=$(git log -1 --format=%H -- lessons/01-first/README.md)
good() {
    cat <<EOF
<!-- translated-from: README.md @ $commit -->
# Урок 01: первый

> Обычно в структуре проекта создается пакет database, который содержит два модуля:
>
> — исходная статья, часть 1

Слова. Дальше: [урок 02](../02-second/README.ru.md).

<!-- snippet: a.c main -->
\`\`\`c
int x = 1;
\`\`\`

\`\`\`python
x = 1  # комментарий
\`\`\`

<!-- page: b Вторая страница -->

<!-- output: a.expected -->
\`\`\`text
1
\`\`\`
EOF
}
ru=lessons/01-first/README.ru.md
failed=0
# expect STATUS PATTERN WHAT: run rucheck on lesson 01, its exit status and output must match.
expect() {
    local want=$1 pattern=$2 what=$3 status=0 out
    out=$(bash "$here/rucheck.sh" ${EVERY:+--every} lessons/01-first 2>&1) || status=$?
    if [[ $status != "$want" ]] || ! grep -qF -- "$pattern" <<<"$out"; then
        echo "FAIL: $what: wanted status $want and '$pattern', got status $status:" >&2
        printf '    %s\n' "${out//$'\n'/$'\n    '}" >&2
        failed=$((failed + 1))
    else
        echo "ok: $what"
    fi
}
# variant SED_SCRIPT: the good page edited by sed.
variant() { good | sed "$1" >"$ru"; }

expect 0 'has no Russian page yet' 'no Russian page: reported, not a failure'
EVERY=1 expect 1 'every lesson has a Russian page' '--every: a missing Russian page fails'
good >"$ru"
expect 0 'README.ru.md agrees with README.md' 'a page that agrees passes'
echo 'Обычно в структуре проекта создается пакет database, который содержит два модуля:' >seed.txt
ALCH_SEED_TEXT=seed.txt expect 0 'README.ru.md agrees with README.md' 'a quote found in the seed passes'
ALCH_SEED_TEXT=/dev/null expect 1 'is not in the seed' 'a quote not found in the seed fails'
variant '1s/@ [0-9a-f]*/@ 1234567/'
expect 1 'full 40-hex commit' 'a short commit fails'
variant '1s/@ [0-9a-f]*/@ 0123456789012345678901234567890123456789/'
expect 1 'does not exist' 'an unknown commit fails'
variant '2s/.*/# Lesson 01: the first/'
expect 1 "the second line must be the title '# Урок 01: ...'" 'an English title fails'
variant '/^> —/d'
expect 1 "must end with the line saying where it is from" 'a quote without its source fails'
variant 's/int x = 1;/int x = 2;/'
expect 1 'README.md:7: int x = 1;' 'a changed snippet block fails, naming the line'
variant 's/a.expected/b.expected/'
expect 1 'README.md:16: <!-- output: a.expected -->' 'a changed output marker fails'
variant 's/page: b/page: c/'
expect 1 'README.md:14: <!-- page: b -->' 'a page marker with another letter fails'
# shellcheck disable=SC2016 # backticks of a sed address, not a command substitution
variant '/^```python/,/^```$/d'
expect 1 'README.md:10: ```python' 'a missing untied block fails'
variant 's/02-second/03-third/'
expect 1 'points to a file that does not exist' 'a broken link fails'
good >"$ru"
sed -i 's/Words\./Other words./' lessons/01-first/README.md
git commit -qam 'english changed'
expect 0 'lessons/01-first/README.md changed since' 'an English page changed since: a warning only'

((failed == 0)) && echo "rucheck-test: every case behaves"
exit $((failed > 0))
