#!/usr/bin/env bash
# sitecheck.sh: check the generated site: a page per lesson, reachable from the front page,
# every quoted block of the README present on the page (a \snippet that did not resolve
# leaves a warning, which docs.build turns into a failure, and no code here), and a page
# per API group.
#
#   docs/sitecheck.sh HTML_DIR LESSONS_DIR
set -euo pipefail
html=$1
lessons=$2
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
    blocks=$(grep -c '^```[a-z]' "$dir/README.md" || true)
    # a long lesson is split into pages lesson_NN, lesson_NNb, ... (lessonpage.awk)
    mapfile -t subpages < <(compgen -G "$html/lesson_${nn}[b-z].html" || true)
    fragments=$(cat "$page" "${subpages[@]}" | grep -o 'class="fragment"' | wc -l)
    ((fragments >= blocks)) ||
        problem "lesson $nn: $blocks code blocks in the README, $fragments on the page"
    if grep -q 'snippet: \|\\snippet' "$page"; then
        problem "lesson $nn: an unresolved snippet is left on the page"
    fi
    # the code on the page is the program's: the first snippet's first line must be there
    first=$(awk '/^<!-- snippet: /{getline; getline; print; exit}' "$dir/README.md")
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
for dir in "$lessons"/[0-9][0-9]-*/; do
    nn=$(basename "$dir" | cut -c1-2)
    [[ -f $html/lesson_${nn}_programs.html ]] || problem "lesson $nn has no page of its whole programs"
done
for group in driver engine session base models requests async; do
    [[ -f $html/group__$group.html ]] || problem "no API page for the group '$group'"
done
((fail == 0)) && echo "sitecheck: $pages lesson pages, 7 API groups: fine"
exit $fail
