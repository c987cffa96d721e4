#!/usr/bin/env bash
# sitecheck.sh: check the generated site: a page per lesson, reachable from the front page,
# every quoted block of the README present on the page (a \snippet that did not resolve
# leaves a warning, which docs.build turns into a failure, and no code here), and a page
# per API group. Each lesson page links the same page of the other site (English · Русский).
# The Russian site (LANG ru) is made from the README.ru.md pages: a translated lesson's page
# has its Russian title, and the search index holds Cyrillic titles.
#
#   docs/sitecheck.sh HTML_DIR LESSONS_DIR [en|ru]
set -euo pipefail
html=$1
lessons=$2
lang=${3:-en}
if [[ $lang == ru ]]; then other=../../html; else other=../ru/html; fi
fail=0
problem() {
    echo "sitecheck: $*" >&2
    fail=1
}
[[ -f $html/index.html ]] || { echo "sitecheck: no $html/index.html: build the docs first" >&2; exit 1; }
pages=0
for dir in "$lessons"/[0-9][0-9]-*/; do
    folder=$(basename "$dir")
    nn=${folder:0:2}
    page=$html/lesson_$nn.html
    if [[ ! -f $page ]]; then
        problem "lesson $folder has no page ($page)"
        continue
    fi
    pages=$((pages + 1))
    grep -q "lesson_$nn.html" "$html/index.html" || problem "the front page does not link to lesson $nn"
    readme=$dir/README.md
    [[ $lang != ru || ! -f $dir/README.ru.md ]] || readme=$dir/README.ru.md
    blocks=$(grep -c '^```[a-z]' "$readme" || true)
    # a long lesson is split into pages lesson_NN, lesson_NNb, ... (lessonpage.awk)
    mapfile -t subpages < <(compgen -G "$html/lesson_${nn}[b-z].html" || true)
    fragments=$(cat "$page" "${subpages[@]}" | grep -o 'class="fragment"' | wc -l)
    ((fragments >= blocks)) ||
        problem "lesson $nn: $blocks code blocks in the README, $fragments on the page"
    for p in "$page" "${subpages[@]}"; do
        grep -qF "href=\"$other/$(basename "$p")\"" "$p" ||
            problem "$(basename "$p") does not link the same page of the other site ($other/$(basename "$p"))"
    done
    if [[ $readme == *.ru.md ]] && ! grep -q "<div class=\"title\">Урок $nn: " "$page"; then
        problem "lesson $nn: the page's title is not its Russian title ('Урок $nn: ...')"
    fi
    if grep -q 'snippet: \|\\snippet' "$page"; then
        problem "lesson $nn: an unresolved snippet is left on the page"
    fi
    # the code on the page is the program's: the first snippet's first line must be there
    first=$(awk '/^<!-- snippet: /{getline; getline; print; exit}' "$readme")
    if [[ -n $first ]]; then
        word=$(printf '%s' "$first" | grep -o '[A-Za-z_][A-Za-z_0-9]*' | sed -n 2p)
        [[ -z $word ]] || grep -q "$word" "$page" || problem "lesson $nn: '$word' from its first snippet is not on the page"
    fi
done
for page in lessons exercises glossary; do
    [[ -f $html/$page.html ]] || problem "no $page page ($html/$page.html)"
done
grep -q 'lessons.html' "$html/menudata.js" || problem "the top navigation has no Lessons entry"
# the search box finds a Python learner's words (Doxygen's search reads page titles)
for word in create_all async_sessionmaker asyncattrs selectinload scalar_one_or_none; do
    grep -qi "'$word" "$html"/search/pages_*.js || problem "the site's search does not find '$word'"
done
# the briefs of the most used calls are in both languages (\~english ... \~russian ... in the
# headers): each site shows its own, never the other's
ru_brief='Открыть сессию. Обращения к серверу не будет' en_brief='Open a session. No I/O happens'
if [[ $lang == ru ]]; then mine=$ru_brief theirs=$en_brief; else mine=$en_brief theirs=$ru_brief; fi
grep -q "$mine" "$html/group__session.html" || problem "the session API page does not show alch_session_open's brief in its language ('$mine')"
! grep -q "$theirs" "$html/group__session.html" || problem "the session API page shows the other language's brief ('$theirs')"
# the Russian site is Doxygen's Russian edition, and its search finds a Cyrillic title
if [[ $lang == ru ]]; then
    grep -q 'Создано системой' "$html/index.html" || problem "the Russian site's pages are not in Russian (OUTPUT_LANGUAGE)"
    grep -qi "\['урок" "$html"/search/pages_*.js || problem "the Russian site's search does not find 'урок'"
fi
for dir in "$lessons"/[0-9][0-9]-*/; do
    nn=$(basename "$dir" | cut -c1-2)
    [[ -f $html/lesson_${nn}_programs.html ]] || problem "lesson $nn has no page of its whole programs"
done
for group in driver engine session base models requests async; do
    [[ -f $html/group__$group.html ]] || problem "no API page for the group '$group'"
done
((fail == 0)) && echo "sitecheck ($lang): $pages lesson pages, 7 API groups: fine"
exit $fail
