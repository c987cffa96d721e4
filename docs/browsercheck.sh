#!/usr/bin/env bash
# browsercheck.sh: look at the site the way a reader does, in a real browser (headless
# Chromium). Every lesson page, every API group page and the front page are loaded at
# 1280 px wide; the check fails on what a reader would see that is not meant to be there:
#
#   - markup shown as text: \ilinebr, <tt>, <td (anywhere, code included: Doxygen 1.9.4
#     puts a broken table row inside a code span);
#   - Markdown left as text outside code: ** (bold that did not render), a backtick (a
#     code span that did not render);
#   - a lesson whose pages (lesson_NN, lesson_NNb, ...) show fewer code fragments than its
#     README has code blocks (a block swallowed by a broken span or table);
#   - an image or diagram wider than the window;
#   - a front page whose first screen (1280 x 800) does not link lesson 01;
#   - an API group page that lists no function; an `*_async` call the Async group page does
#     not link;
#   - a lesson page without its "English · Русский" link to the same page of the other site
#     (and that link is followed both ways from the first translated lesson).
#
# With LANG ru it reads the Russian site (docs/ru/html): the lessons' README.ru.md give the
# code blocks to count, a translated lesson's page must show its Russian title ("Урок NN: ..."),
# and the search box, given a Cyrillic word, must find the lessons' Russian titles. There it
# reads the course's pages and the API groups, not every API page again.
#
# It writes a screenshot of the front page and of each lesson page (full length, 1280 px
# wide) to OUT_DIR, for a person to look at.
#
#   docs/browsercheck.sh HTML_DIR LESSONS_DIR HEADERS_DIR OUT_DIR [en|ru]
#
# With NO_SCREENSHOTS=1 in the environment it only checks (quicker while editing a lesson).
#
# Exits 77 (CTest's "skipped") when no Chromium is installed: `apt-get install chromium`.
set -euo pipefail
html=$(cd "$1" && pwd)
lessons=$2
headers=$3
out=$4
lang=${5:-en}
if [[ $lang == ru ]]; then other_site=$html/../../html; else other_site=$html/../ru/html; fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

browser=""
for b in chromium chromium-browser google-chrome; do
    if command -v "$b" >/dev/null; then
        browser=$b
        break
    fi
done
if [[ -z $browser ]]; then
    echo "browsercheck: no Chromium found: skipped (apt-get install chromium)"
    exit 77
fi
[[ -f $html/index.html ]] || { echo "browsercheck: no $html/index.html: build the docs first" >&2; exit 1; }

# A private profile, no sandbox when root (CI), no D-Bus, no GPU.
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
run_browser() {
    local dir
    dir=$(mktemp -d -p "$profile")
    DBUS_SESSION_BUS_ADDRESS=disabled: timeout 300 "$browser" --headless --no-sandbox \
        --disable-gpu --no-first-run --disable-extensions --hide-scrollbars \
        --user-data-dir="$dir" --allow-file-access-from-files "$@" 2>/dev/null
}

# The pages, and how many code blocks each lesson page must show: a README's code blocks
# become the page's fragments (a ```c block as a \snippet, the others as they are).
# The pages: the front page, the lessons, the API groups, then every other page of the API
# text (headers, structs, indexes; not the source listings, which are code). A lesson page
# must show as many code fragments as its README has code blocks (a ```c block becomes a
# \snippet, the others stay as they are).
pages=(index.html)
declare -A want=()
for page in "$html"/lesson_*.html "$html"/group__*.html; do
    pages+=("$(basename "$page")")
done
for page in "$html"/*.html; do
    p=$(basename "$page")
    case $p in
    index.html | lesson_* | group__* | *_source.html | glossary_*) ;; # glossary_*: one line each
    lessons.html | exercises.html | glossary.html | seed_notes.html) pages+=("$p") ;;
    *) [[ $lang == ru ]] || pages+=("$p") ;;
    esac
done
declare -A ru_title=()
first_translated=''
fail=0
for dir in "$lessons"/[0-9][0-9]-*/; do
    nn=$(basename "$dir" | cut -c1-2)
    readme=$dir/README.md
    if [[ -f $dir/README.ru.md ]]; then
        [[ -n $first_translated ]] || first_translated=lesson_$nn
        if [[ $lang == ru ]]; then
            readme=$dir/README.ru.md
            title=$(sed -n '2s/^# //p' "$readme")
            ru_title[lesson_$nn]=${title//\`/}
        fi
    fi
    want[lesson_$nn]=$(grep -c '^```[a-z]' "$readme" || true)
    # the target of the language line: the same page of the other site
    for page in "$html/lesson_$nn.html" "$html/lesson_$nn"[b-z].html; do
        [[ -f $page ]] || continue
        [[ -f $other_site/$(basename "$page") ]] || {
            echo "browsercheck: $(basename "$page") links the other site's $(basename "$page"), which $other_site does not have (the docs target builds both sites)" >&2
            fail=1
        }
    done
done

# The harness: one page holding every page in a 1280 px frame; once all are loaded, a
# script walks each one and writes its findings into <pre id="report">, which
# --dump-dom prints.
harness=$out/harness.html
{
    echo '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
    echo '<pre id="report">not run</pre>'
    for p in "${pages[@]}"; do
        echo "<iframe src=\"file://$html/$p\" style=\"width:1280px;height:800px;border:0\"></iframe>"
    done
    echo '<script>'
    printf 'const want = {'
    for k in "${!want[@]}"; do printf '"%s":%s,' "$k" "${want[$k]}"; done
    echo '};'
    printf 'const lang = "%s", site = "file://%s", roundTrip = "%s";\n' "$lang" "$html" "$first_translated"
    printf 'const ruTitle = {'
    for k in "${!ru_title[@]}"; do printf '"%s":"%s",' "$k" "${ru_title[$k]//\"/\\\"}"; done
    echo '};'
    printf 'const asyncCalls = ['
    grep -ho '\balch_[a-z_]*_async(' "$headers"/*.h | sort -u | sed 's/($//; s/.*/"&",/' | tr -d '\n'
    echo '];'
    cat <<'EOF'
const lines = [];
const got = {};
const skip = 'code, pre, div.fragment, .memproto, .memItemLeft, .memItemRight, script, style, '
    + 'table.memname, .mdescLeft, #MSearchBox, #MSearchSelectWindow, #MSearchResultsWindow';
function say(page, what) { lines.push('FAIL ' + page + ': ' + what); }
function visible(el) { return el && el.getClientRects().length > 0; }
function check(frame) {
    const page = decodeURIComponent(frame.src.split('/').pop());
    const name = page.replace(/\.html$/, '');
    const doc = frame.contentDocument;
    const body = doc.body;
    // markup shown as text, code included
    const all = body.innerText;
    for (const bad of ['\\ilinebr', '<tt>', '</tt>', '<td', '</td>']) {
        let at = all.indexOf(bad);
        if (at >= 0)
            say(page, 'shows "' + bad + '" as text: "' + all.substr(Math.max(0, at - 40), 100)
                .replace(/\s+/g, ' ') + '"');
    }
    // Markdown left as text, outside code
    const walk = doc.createTreeWalker(body, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
        const el = n.parentElement;
        if (!visible(el) || el.closest(skip)) continue;
        const t = n.textContent;
        const block = (el.closest('p, li, td, th, h1, h2, h3, h4, dd, dt, div') || el)
            .innerText.replace(/\s+/g, ' ').substr(0, 120);
        if (t.includes('**')) say(page, 'shows "**" as text in "' + block + '"');
        if (t.includes('`')) say(page, 'shows a backtick as text in "' + block + '"');
    }
    // every code block of the README is on the lesson's pages (lesson_NN, lesson_NNb, ...)
    const lesson = name.match(/^(lesson_[0-9][0-9])[b-z]?$/);
    if (lesson) got[lesson[1]] = (got[lesson[1]] || 0) + doc.querySelectorAll('div.fragment').length;
    // nothing wider than the window
    const width = doc.documentElement.clientWidth;
    for (const img of doc.querySelectorAll('img, object, iframe, svg')) {
        if (!visible(img) || img.parentElement.closest('svg')) continue;
        const r = img.getBoundingClientRect();
        if (r.right > width + 1)
            say(page, 'an image (' + (img.getAttribute('src') || img.getAttribute('data') || img.tagName)
                + ') is ' + Math.round(r.width) + ' px wide and ends at ' + Math.round(r.right)
                + ' px, past the ' + width + ' px window');
    }
    // the front page starts with the lessons: the first is linked above the fold
    if (name === 'index') {
        const first = doc.querySelector('a[href="lesson_01.html"]');
        const top = first ? Math.round(first.getBoundingClientRect().top) : -1;
        if (top < 0 || top > frame.clientHeight)
            say(page, 'the link to lesson 01 is not in the first ' + frame.clientHeight
                + ' px of the front page (at ' + top + ' px)');
    }
    // the async group links every *_async call; the others list their functions
    if (name === 'group__async') {
        const linked = new Set([...doc.querySelectorAll('a.el')].map(a => a.textContent.replace(/\(\)$/, '')));
        for (const f of asyncCalls)
            if (!linked.has(f)) say(page, f + '() is not listed on the async group page');
        lines.push('FUNCS ' + page + ' ' + asyncCalls.filter(f => linked.has(f)).length);
    } else if (name.startsWith('group__')) {
        const funcs = doc.querySelectorAll('tr[class^="memitem:"] td.memItemRight a.el');
        let n = 0;
        for (const a of funcs) if (/\(/.test(a.parentElement.textContent)) n++;
        if (n == 0) say(page, 'the API group lists no function');
        lines.push('FUNCS ' + page + ' ' + n);
    }
    // a lesson page links the same page of the other site; the Russian one has its Russian title
    const otherName = lang === 'ru' ? 'English' : 'Русский';
    if (lesson) {
        const link = [...doc.querySelectorAll('a')].find(a => a.textContent.trim() === otherName);
        if (!link) say(page, 'has no "' + otherName + '" link to the same page of the other site');
        else if (!link.href.endsWith('/' + page))
            say(page, 'its "' + otherName + '" link leads to ' + link.href + ', not to the other site\'s ' + page);
    }
    if (ruTitle[name]) {
        const t = doc.querySelector('div.title');
        const shown = t ? t.textContent.trim() : '(no title)';
        if (shown !== ruTitle[name]) say(page, 'shows the title "' + shown + '", not "' + ruTitle[name] + '"');
    }
    lines.push('PAGE ' + page + ' ' + doc.documentElement.scrollHeight);
}
// One more frame, for what a reader does: follow the language link there and back, and (on
// the Russian site) type a Cyrillic word into the search box.
function load(frame, url) {
    return new Promise(done => { frame.onload = () => done(); frame.src = url; });
}
const sleep = ms => new Promise(done => setTimeout(done, ms));
const titleOf = frame => ((frame.contentDocument.querySelector('div.title') || {}).textContent || '').trim();
async function follow(frame, text) {
    const link = [...frame.contentDocument.querySelectorAll('a')].find(a => a.textContent.trim() === text);
    if (!link) return false;
    await load(frame, link.href);
    return true;
}
async function reader() {
    const frame = document.createElement('iframe');
    frame.style.cssText = 'width:1280px;height:800px;border:0';
    document.body.appendChild(frame);
    if (roundTrip) {
        const here = lang === 'ru' ? 'Урок ' : 'Lesson ', there = lang === 'ru' ? 'Lesson ' : 'Урок ';
        const nn = roundTrip.substr(7);
        await load(frame, site + '/' + roundTrip + '.html');
        const start = titleOf(frame);
        if (!(await follow(frame, lang === 'ru' ? 'English' : 'Русский')))
            say(roundTrip + '.html', 'no language link to follow');
        else if (!titleOf(frame).startsWith(there + nn + ':'))
            say(roundTrip + '.html', 'its language link opened "' + titleOf(frame) + '", not ' + there + nn);
        else if (!(await follow(frame, lang === 'ru' ? 'Русский' : 'English')))
            say(roundTrip + '.html', 'the other site\'s page has no link back');
        else if (titleOf(frame) !== start || !start.startsWith(here + nn + ':'))
            say(roundTrip + '.html', 'the link back opened "' + titleOf(frame) + '", not "' + start + '"');
        else lines.push('ROUNDTRIP ' + roundTrip + ': "' + start + '" -> other site -> back');
    }
    if (lang === 'ru') {
        // The search box's own index and results page, as its Search() picks them (that
        // function loads them into a nested frame headless Chromium does not let us read).
        const word = 'урок 0';
        await load(frame, site + '/index.html');
        const w = frame.contentWindow;
        for (let i = 0; i < 50 && !w.searchBox; i++) await sleep(100);
        const box = w.searchBox;
        const idx = w.indexSectionsWithContent[box.searchIndex].indexOf(word.substr(0, 1));
        if (idx < 0) { say('index.html', 'the search index has no entry starting with "' + word[0] + '"'); return; }
        await load(frame, site + '/' + box.resultsPath + '/' + w.indexSectionNames[box.searchIndex]
                   + '_' + idx.toString(16) + box.extension + '?' + escape(word));
        let found = [];
        for (let i = 0; i < 50 && found.length === 0; i++) {
            await sleep(100);
            found = [...frame.contentDocument.querySelectorAll('.SRResult')]
                .filter(e => e.style.display === 'block')
                .map(e => e.querySelector('.SRSymbol').textContent.trim());
        }
        const titles = found.filter(t => t.startsWith('Урок '));
        if (titles.length === 0)
            say('index.html', 'the search box finds no lesson for "' + word + '" (found: ' + JSON.stringify(found) + ')');
        else lines.push('SEARCH "' + word + '": ' + titles.length + ' results, e.g. ' + titles[0]);
    }
}
window.addEventListener('load', async () => {
    try {
        for (const f of document.querySelectorAll('iframe')) check(f);
        for (const name in want)
            if ((got[name] || 0) < want[name])
                say(name + '.html', want[name] + ' code blocks in the README, ' + (got[name] || 0)
                    + ' on the lesson\'s pages');
        await reader();
        lines.push('DONE');
    } catch (e) { lines.push('ERROR ' + e); }
    document.getElementById('report').textContent = lines.join('\n') + '\n';
});
</script></body></html>
EOF
} > "$harness"

report=$out/report.txt
run_browser --virtual-time-budget=60000 --dump-dom "file://$harness" |
    sed -n '/<pre id="report">/,/<\/pre>/p' |
    sed -e 's/<[^>]*>//g' -e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&quot;/"/g' -e 's/&amp;/\&/g' \
        > "$report"
if ! grep -q '^DONE' "$report"; then
    echo "browsercheck: the browser did not finish the check:" >&2
    cat "$report" >&2
    exit 1
fi

# Screenshots, full length, of the front page and every lesson, two browsers at a time.
shots=()
if [[ -z ${NO_SCREENSHOTS:-} ]]; then
    while read -r _ page height; do
        [[ $page == index.html || $page =~ ^lesson_[0-9][0-9][b-z]?\.html$ ]] || continue
        # on the Russian site, only the translated lessons (the others are the English pages)
        [[ $lang != ru || $page == index.html || -n ${ru_title[${page:0:9}]:-} ]] || continue
        ((height > 20000)) && height=20000
        run_browser --window-size="1280,$height" --screenshot="$out/${page%.html}.png" \
            "file://$html/$page" >/dev/null &
        shots+=("$out/${page%.html}.png")
        (($(jobs -rp | wc -l) < 2)) || wait -n
    done < <(grep '^PAGE ' "$report")
    wait
fi
for shot in "${shots[@]}"; do
    [[ -s $shot ]] || { echo "browsercheck: the screenshot $shot was not written" >&2; exit 1; }
done

grep -E '^(ROUNDTRIP|SEARCH) ' "$report" | sed 's/^/browsercheck: /' || true
if grep -q '^FAIL' "$report"; then
    grep '^FAIL' "$report" | sed 's/^FAIL /browsercheck: /' >&2
    fail=1
fi
n=$(grep -c '^PAGE ' "$report" || true)
echo "browsercheck: $n pages read in $browser at 1280 px, ${#shots[@]} screenshots in $out"
((fail == 0)) && echo "browsercheck: no markup shown as text, every code block shown, nothing too wide"
exit $fail
