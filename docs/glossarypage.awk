# glossarypage.awk: make the Glossary page from glossary.txt and its Russian column,
# glossary.ru.txt: one table (term, Russian term, alch name, lesson) and one small page per
# term. Doxygen's search reads page titles, not page text, so a term's own page is what lets
# the search box find `selectinload` or `create_all`.
#
#   awk -f glossarypage.awk glossary.txt glossary.ru.txt > glossary.md            (English site)
#   awk -v lang=ru -f glossarypage.awk glossary.txt glossary.ru.txt > glossary.ru.md (Russian)
#
# Both pages have the same names (glossary, glossary_<term>), so the two sites link alike.
# A term of glossary.txt without its Russian line, or a Russian line for a term glossary.txt
# does not have, stops the page with a sentence naming it: no term in one language only.
BEGIN { FS = ";"; n = 0; bad = 0 }
/^#/ || NF < 3 { next }
FILENAME == ARGV[1] { n++; term[n] = $1; alch[n] = $2; lesson[n] = $3; note[n] = $4; at[$1] = n; next }
{
    if (!($1 in at)) {
        printf "glossarypage: %s: '%s' is not a term of %s; fix its spelling or remove the line\n", \
               FILENAME, $1, ARGV[1] > "/dev/stderr"
        bad = 1
        next
    }
    ru[at[$1]] = $2; ru_note[at[$1]] = $3
}
function id(i,    s) {
    s = tolower(term[i])
    sub(/[ (,].*/, "", s)
    gsub(/[^a-z0-9]+/, "_", s)
    return "glossary_" s
}
END {
    for (i = 1; i <= n; i++)
        if (ru[i] == "") {
            printf "glossarypage: '%s' of %s has no Russian line in %s: add '%s;русский термин;заметка'\n", \
                   term[i], ARGV[1], ARGV[2], term[i] > "/dev/stderr"
            bad = 1
        }
    if (bad) exit 1
    if (lang == "ru") russian(); else english()
}
function english(    i) {
    print "# Glossary: from SQLAlchemy and asyncio to alch {#glossary}"
    print ""
    print "A Python name on the left, the Russian term the course's Russian edition uses for it,"
    print "what alch calls it, and the lesson that teaches it. Each term has its own small page"
    print "too, so the search box above finds it."
    print ""
    print "| SQLAlchemy / asyncio | по-русски | alch | lesson |"
    print "|---|---|---|---|"
    for (i = 1; i <= n; i++)
        printf "| \\ref %s \"%s\" | %s | %s | \\ref lesson_%s \"%s\" |\n", id(i), term[i], ru[i], alch[i], lesson[i], lesson[i]
    print ""
    for (i = 1; i <= n; i++) printf "\\subpage %s\n", id(i)
    print ""
    for (i = 1; i <= n; i++) {
        print ""
        printf "\\page %s %s\n\n", id(i), term[i]
        printf "In SQLAlchemy or asyncio: %s. In alch: %s. %s.\n\n", term[i], alch[i], note[i]
        printf "In Russian: %s.\n\n", ru[i]
        printf "Taught in \\ref lesson_%s. Back to the \\ref glossary.\n", lesson[i]
    }
}
function russian(    i) {
    print "# Глоссарий: от SQLAlchemy и asyncio к alch {#glossary}"
    print ""
    print "Слева имя из Python, затем русский термин курса, имя в alch и урок, где это объясняется."
    print "У каждого термина есть и своя маленькая страница, поэтому его находит поиск вверху."
    print ""
    print "| SQLAlchemy / asyncio | русский термин | alch | урок |"
    print "|---|---|---|---|"
    for (i = 1; i <= n; i++)
        printf "| \\ref %s \"%s\" | %s | %s | \\ref lesson_%s \"%s\" |\n", id(i), term[i], ru[i], alch[i], lesson[i], lesson[i]
    print ""
    for (i = 1; i <= n; i++) printf "\\subpage %s\n", id(i)
    print ""
    for (i = 1; i <= n; i++) {
        print ""
        printf "\\page %s %s — %s\n\n", id(i), term[i], ru[i]
        printf "В SQLAlchemy или asyncio: %s. По-русски: %s. В alch: %s. %s.\n\n", term[i], ru[i], alch[i], ru_note[i]
        printf "Объясняется в \\ref lesson_%s. Назад к странице \\ref glossary.\n", lesson[i]
    }
}
