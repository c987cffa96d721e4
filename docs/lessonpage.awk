# lessonpage.awk: turn a lesson's README.md into a page of the Doxygen site.
#
#   awk -v nn=03 -v dir=03-session-factory -v prv=02 -v nxt=04 -f lessonpage.awk README.md
#
# - the title gets the page's label: "# Lesson 03: ..." becomes "# Lesson 03: ... {#lesson_03}";
# - a ```c block tied to a program by <!-- snippet: file.c name --> becomes
#   \snippet dir/file.c name, so the site quotes the compiled program itself;
# - the other blocks (the output, Python, shell) stay as they are: snippetcheck.sh keeps the
#   outputs equal to the files the tests check;
# - links to the previous and next lessons and to the front page go at the top and bottom,
#   and the page of the lesson's whole programs (lesson_NN_programs) is linked at the end.
function nav() {
    line = ""
    if (prv != "") line = line "\\ref lesson_" prv " \"Previous: lesson " prv "\" &middot; "
    line = line "\\ref lessons \"All lessons\""
    if (nxt != "") line = line " &middot; \\ref lesson_" nxt " \"Next: lesson " nxt "\""
    return line
}
# Links between lessons, written for GitHub as ../NN-name/README.md, point at the pages.
function relink(text,    out, m) {
    out = ""
    while (match(text, /\(\.\.\/[0-9][0-9]-[^)\/]*\/README\.md\)/)) {
        m = substr(text, RSTART, RLENGTH)
        out = out substr(text, 1, RSTART - 1) "(lesson_" substr(m, 5, 2) ".html)"
        text = substr(text, RSTART + RLENGTH)
    }
    return out text
}
BEGIN { snippet = ""; skipping = 0; titled = 0 }
skipping {
    if ($0 ~ /^```/) skipping = 0
    next
}
!titled && /^# / {
    print $0 " {#lesson_" nn "}"
    print ""
    print nav()
    titled = 1
    next
}
/^<!-- snippet: / {
    split($0, f, " ")
    snippet = "\\snippet " dir "/" f[3] " " f[4]
    next
}
/^<!-- output: / { next }
snippet != "" && /^```c/ {
    print snippet
    snippet = ""
    skipping = 1
    next
}
{ print relink($0) }
END {
    print ""
    print "The programs of this lesson in full, as the tests build and run them: \\subpage lesson_" nn "_programs"
    print ""
    print nav()
    print ""
}
