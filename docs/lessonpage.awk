# lessonpage.awk: turn a lesson's README.md into a page of the Doxygen site.
#
#   awk -v nn=03 -v dir=03-session-factory -v prv=02 -v nxt=04 -f lessonpage.awk README.md
#
# - the title gets the page's label: "# Lesson 03: ..." becomes "# Lesson 03: ... {#lesson_03}";
# - a ```c block tied to a program by <!-- snippet: file.c name --> becomes
#   \snippet dir/file.c name, so the site quotes the compiled program itself;
# - the other blocks (the output, Python, shell) stay as they are: snippetcheck.sh keeps the
#   outputs equal to the files the tests check;
# - a line <!-- page: b Title --> starts a sub-page, lesson_NNb "Lesson NNb: Title";
# - links to the previous and next pages and to the lessons go at the top and bottom,
#   and the page of the lesson's whole programs (lesson_NN_programs) is linked at the end.
# The pages of this lesson: "" (lesson_NN itself), then one letter per <!-- page: --> marker.
function pagelist(    line, k) {
    npages = 1
    part[1] = ""
    while ((getline line < ARGV[1]) > 0)
        if (line ~ /^<!-- page: [b-z] /) {
            split(line, k, " ")
            part[++npages] = k[3]
        }
    close(ARGV[1])
}
# Previous, all lessons, next: across sub-pages first, then across lessons.
function nav(i,    line, p, n) {
    p = i > 1 ? "lesson_" nn part[i - 1] : (prv != "" ? "lesson_" prv : "")
    n = i < npages ? "lesson_" nn part[i + 1] : (nxt != "" ? "lesson_" nxt : "")
    line = ""
    if (p != "") line = line "\\ref " p " \"Previous: " label(p) "\" &middot; "
    line = line "\\ref lessons \"All lessons\""
    if (n != "") line = line " &middot; \\ref " n " \"Next: " label(n) "\""
    return line
}
function label(id) { return "lesson " substr(id, 8) }
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
BEGIN { snippet = ""; skipping = 0; titled = 0; at = 1; pagelist() }
skipping {
    if ($0 ~ /^```/) skipping = 0
    next
}
!titled && /^# / {
    print $0 " {#lesson_" nn "}"
    print ""
    print nav(1)
    titled = 1
    next
}
# <!-- page: b The pool --> starts the lesson's next page (lesson_NNb): a long lesson is read
# a page at a time, in order, while its README stays one file for GitHub and the checks.
/^<!-- page: [b-z] / {
    title = $0
    sub(/^<!-- page: [b-z] /, "", title)
    sub(/ *-->$/, "", title)
    print ""
    print "Continued on the next page: \\subpage lesson_" nn part[at + 1]
    print ""
    print nav(at)
    at++
    print ""
    print "\\page lesson_" nn part[at] " Lesson " nn part[at] ": " title
    print ""
    print nav(at)
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
    print nav(at)
    print ""
}
