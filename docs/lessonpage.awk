# lessonpage.awk: turn a lesson's README.md into a page of the Doxygen site.
#
#   awk -v nn=03 -v dir=03-session-factory -v prv=02 -v nxt=04 -v lang=en \
#       -v other=../ru/html/ -f lessonpage.awk README.md
#
# lang (en or ru) is the site's language: the words the script adds (the links, the notes)
# are in it; the Russian site reads README.ru.md. other is where the other site's pages are,
# relative to this site's: every page gets an "English · Русский" line linking the same page
# there. A Russian page's first line (<!-- translated-from: ... -->) is left out.
#
# - the title gets the page's label: "# Lesson 03: ..." becomes "# Lesson 03: ... {#lesson_03}";
# - a ```c block tied to a program by <!-- snippet: file.c name --> becomes
#   \snippet dir/file.c name, so the site quotes the compiled program itself;
# - the other blocks (the output, Python, shell) stay as they are: snippetcheck.sh keeps the
#   outputs equal to the files the tests check;
# - a line <!-- page: b Title --> starts a sub-page, lesson_NNb "Lesson NNb: Title";
# - links to the previous and next pages and to the lessons go at the top and bottom,
#   and the page of the lesson's whole programs (lesson_NN_programs) is linked at the end;
# - the Russian site given an English README (a lesson not translated yet) says so.
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
    if (p != "") line = line "\\ref " p " \"" w["prev"] label(p) "\" &middot; "
    line = line "\\ref lessons \"" w["all"] "\""
    if (n != "") line = line " &middot; \\ref " n " \"" w["next"] label(n) "\""
    return line
}
function label(id) { return w["lesson"] substr(id, 8) }
# "English · Русский": the language of this page as text, the other one a link to the same page.
function languages(id) {
    if (lang == "ru") return "[English](" other id ".html) &middot; **Русский**"
    return "**English** &middot; [Русский](" other id ".html)"
}
# The words this script adds, in the site's language.
function words() {
    if (lang == "ru") {
        w["prev"] = "Назад: "; w["next"] = "Дальше: "; w["all"] = "Все уроки"
        w["lesson"] = "урок "; w["Lesson"] = "Урок "
        w["continued"] = "Продолжение на следующей странице: "
        w["programs"] = "Программы этого урока целиком, в том виде, в каком тесты их собирают и запускают: "
        w["untranslated"] = "Этот урок ещё не переведён на русский: ниже английский текст."
    } else {
        w["prev"] = "Previous: "; w["next"] = "Next: "; w["all"] = "All lessons"
        w["lesson"] = "lesson "; w["Lesson"] = "Lesson "
        w["continued"] = "Continued on the next page: "
        w["programs"] = "The programs of this lesson in full, as the tests build and run them: "
    }
}
# Links between lessons, written for GitHub as ../NN-name/README.md, point at the pages.
function relink(text,    out, m) {
    out = ""
    while (match(text, /\(\.\.\/[0-9][0-9]-[^)\/]*\/README(\.ru)?\.md\)/)) {
        m = substr(text, RSTART, RLENGTH)
        out = out substr(text, 1, RSTART - 1) "(lesson_" substr(m, 5, 2) ".html)"
        text = substr(text, RSTART + RLENGTH)
    }
    return out text
}
BEGIN { snippet = ""; skipping = 0; titled = 0; at = 1; words(); pagelist() }
NR == 1 && /^<!-- translated-from: / { next }
skipping {
    if ($0 ~ /^```/) skipping = 0
    next
}
!titled && /^# / {
    print $0 " {#lesson_" nn "}"
    print ""
    print languages("lesson_" nn)
    print ""
    print nav(1)
    if (lang == "ru" && FILENAME !~ /README\.ru\.md$/) {
        print ""
        print w["untranslated"]
    }
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
    print w["continued"] "\\subpage lesson_" nn part[at + 1]
    print ""
    print nav(at)
    at++
    print ""
    print "\\page lesson_" nn part[at] " " w["Lesson"] nn part[at] ": " title
    print ""
    print languages("lesson_" nn part[at])
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
    print w["programs"] "\\subpage lesson_" nn "_programs"
    print ""
    print nav(at)
    print ""
}
