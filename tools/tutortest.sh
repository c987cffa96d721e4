#!/usr/bin/env bash
# tutortest.sh: the tutor, end to end, in a temporary copy of the repository as committed
# (tools/repocopy.sh; the tree is never touched): see the first build's progress, start on
# exercise 1, ask for hints, be refused the solution, copy a solution in, see exercises pass
# and the next one become current, and see a compile error with its file and line.
#
#   tools/tutortest.sh SOURCE_DIR [KEEP_DIR]
#   tools/tutortest.sh --remove KEEP_DIR
#
# With KEEP_DIR the copy is made in KEEP_DIR/repo and kept, built, for the watch-mode test
# (tools/watchtest.sh); --remove destroys its database and deletes it.
set -euo pipefail
export ALCH_LANG=en # the sentences asserted here are the English ones, whatever the locale
remove_copy() { # dir: its sandbox destroyed, then the files
    if [[ -f $1/repo/tools/pgsandbox ]]; then
        bash "$1/repo/tools/pgsandbox" destroy "$1/repo/build/sandbox" >/dev/null 2>&1 || true
    fi
    rm -rf "$1"
}
if [[ $1 == --remove ]]; then
    remove_copy "$2"
    exit 0
fi
src=$1
if [[ -n ${2:-} ]]; then
    remove_copy "$2"
    mkdir -p "$2"
    tmp=$(cd "$2" && pwd -P)
    trap 'bash "$tmp/repo/tools/pgsandbox" stop "$tmp/repo/build/sandbox" >/dev/null 2>&1 || true' EXIT
else
    tmp=$(mktemp -d)
    trap 'remove_copy "$tmp"' EXIT
fi
# HEAD, not the working tree: a learner who solved exercise 01 still gets a green selftest.
bash "$(dirname "${BASH_SOURCE[0]}")/repocopy.sh" "$src" "$tmp/repo"
cd "$tmp/repo"
fail=0
expect() { # description, pattern, output
    if grep -qE -- "$2" <<<"$3"; then
        echo "ok: $1"
    else
        echo "FAIL: $1 (no '$2' in:)"
        tail -n 15 <<<"$3" | sed 's/^/    /'
        fail=1
    fi
}

out=$(./tutor check 1 2>&1 || true)
expect "the first build says it takes a few minutes" "the first build takes a few minutes" "$out"
expect "and shows how far it is" "^  [0-9]+% built$" "$out"
expect "exercise 1 starts unfinished" "not done yet: exercise 01" "$out"
expect "the chain shows what passed" '\[ok\] the database answers' "$out"
out=$(./tutor run 1 2>&1 || true)
expect "run 1: the lesson's programs ran" "^Lesson 01 ran successfully\.$" "$out"
expect "run 1: next is the exercise on it" \
    "^Next: exercise 01 \(driver\), which practises lesson 01: start \./tutor and edit exercises/database/models\.c$" "$out"
expect "run 1: then the next lesson" \
    "^Then lesson 02 \(the engine\): read it with \./tutor lesson 2, run it with \./tutor run 2\.$" "$out"
out=$(./tutor hint 1 2>&1)
expect "hint level 1" "Hint 1 of 2 for exercise 01" "$out"
out=$(./tutor hint 1 2>&1)
expect "hint level 2" "Hint 2 of 2 for exercise 01: alch_conn_open" "$out"
# every hint whole, ';' and all (they were once cut at the first ';')
for nn in 07 08; do
    for level in 1 2; do
        want=$(grep -E "^$nn hint: " exercises/manifest.txt | sed -n "${level}p")
        out=$(./tutor hint "$nn" 2>&1)
        if [[ $out == "Hint $level of 2 for exercise $nn: ${want#"$nn hint: "}" ]]; then
            echo "ok: hint $level of exercise $nn is shown whole"
        else
            echo "FAIL: hint $level of exercise $nn is not the manifest's line:"
            printf '    %s\n    (manifest) %s\n' "$out" "$want"
            fail=1
        fi
    done
done
out=$(./tutor solution 1 2>&1 || true)
expect "the solution is refused before the exercise passes" "does not pass yet" "$out"
out=$(./tutor list 2>&1)
expect "list: exercise 1 is current" '(>|▶).*01  driver' "$out"

# exercises 01-05 solved, as a learner who wrote them (exercise 09's lines in models.c stay)
for nn in 01 02 03 04 05; do tools/regions put exercises/database/models.c solutions/database/models.c $nn; done
total=$(grep -cE '^[0-9]{2};' exercises/manifest.txt)
out=$(./tutor check 1 2>&1)
expect "exercise 1 passes with the solution" "Exercise 01 passes" "$out"
expect "check: next is exercise 02" \
    "^Next: exercise 02 \(engine\), which practises lesson 02: \./tutor check 2, or \./tutor to check each save\.$" "$out"
out=$(./tutor 2>&1 || true)
expect "watch mode moves on to the first unfinished exercise" "Exercise 06: requests" "$out"
expect "and shows its first hint" "Hint 1 of 2 for exercise 06" "$out"
expect "the progress bar moves on as exercises pass" "Progress.*\\] 5/$total" "$out"
out=$(./tutor list 2>&1)
expect "list: five done" "5/$total" "$out"
out=$(./tutor run 2 2>&1 || true)
expect "run 2 with exercises 01-05 passed: next is lesson 03" \
    "^Next, lesson 03 \(the session factory\): read it with \./tutor lesson 3, run it with \./tutor run 3\.$" "$out"
out=$(./tutor solution 1 2>&1)
expect "the solution opens once it passes" "The reference for exercise 01" "$out"

# inside exercise 06's lines: reset puts back those lines only
sed -i 's|^/\* END exercise 06 \*/$|int broken(void) { return 1 }\n&|' exercises/database/requests.c
out=$(./tutor check 6 2>&1 || true)
expect "a compile error shows its file and line" 'exercises/database/requests.c:[0-9]+:[0-9]+: error' "$out"
./tutor reset 6 >/dev/null 2>&1
out=$(./tutor check 6 2>&1 || true)
expect "reset puts the starter back" "not done yet: exercise 06" "$out"

exit $fail
