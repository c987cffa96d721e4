# exercisespage.awk: make exercises/README.md a page of the site ({#exercises}), its lesson
# numbers links to the lessons.
#
#   awk -f exercisespage.awk exercises/README.md > exercises.md
#   awk -f exercisespage.awk exercises/README.ru.md > ru/exercises.md
# (the Russian site reads README.ru.md, whose first line names the English commit: left out)
NR == 1 && /^<!-- translated-from: / { next }
!titled && /^# / { print $0 " {#exercises}"; titled = 1; next }
# the table's lesson column: "| 01     |" becomes a link to lesson 01
/^\| [0-9][0-9] +\|/ {
    n = split($0, cell, "|")
    if (cell[4] ~ /^ *[0-9][0-9] *$/) {
        nn = cell[4]
        gsub(/ /, "", nn)
        line = "|" cell[2] "|" cell[3] "| \\ref lesson_" nn " \"" nn "\" |"
        for (i = 5; i < n; i++) line = line cell[i] "|"
        print line
        next
    }
}
{ print }
