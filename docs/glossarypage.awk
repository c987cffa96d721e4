# glossarypage.awk: make the Glossary page from glossary.txt: one table (term, alch name,
# lesson) and one small page per term. Doxygen's search reads page titles, not page text,
# so a term's own page is what lets the search box find `selectinload` or `create_all`.
#
#   awk -f glossarypage.awk glossary.txt > glossary.md
BEGIN { FS = ";"; n = 0 }
/^#/ || NF < 3 { next }
{ n++; term[n] = $1; alch[n] = $2; lesson[n] = $3; note[n] = $4 }
function id(i,    s) {
    s = tolower(term[i])
    sub(/[ (,].*/, "", s)
    gsub(/[^a-z0-9]+/, "_", s)
    return "glossary_" s
}
END {
    print "# Glossary: from SQLAlchemy and asyncio to alch {#glossary}"
    print ""
    print "A Python name on the left, what alch calls it, and the lesson that teaches it. Each"
    print "term has its own small page too, so the search box above finds it."
    print ""
    print "| SQLAlchemy / asyncio | alch | lesson |"
    print "|---|---|---|"
    for (i = 1; i <= n; i++)
        printf "| \\ref %s \"%s\" | %s | \\ref lesson_%s \"%s\" |\n", id(i), term[i], alch[i], lesson[i], lesson[i]
    print ""
    for (i = 1; i <= n; i++) printf "\\subpage %s\n", id(i)
    print ""
    for (i = 1; i <= n; i++) {
        print ""
        printf "\\page %s %s\n\n", id(i), term[i]
        printf "In SQLAlchemy or asyncio: %s. In alch: %s. %s.\n\n", term[i], alch[i], note[i]
        printf "Taught in \\ref lesson_%s. Back to the \\ref glossary.\n", lesson[i]
    }
}
