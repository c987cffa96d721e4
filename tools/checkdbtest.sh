#!/usr/bin/env bash
# checkdbtest.sh: the database of an exercise check run by the tutor (ALCH_CHECK_KEEP_DB=1,
# exercises/tests/check.h). The check keeps alch_check_<name> between runs and empties it
# first; makes no other database; and, when another check holds it, makes a fresh one of its
# own and drops it, leaving the held one untouched. Without the variable (CTest), a fresh
# database each run, dropped at the end.
#
#   tools/checkdbtest.sh CHECK      (a passing check, e.g. build/ci/exercises/solution_01_driver)
#
# On the sandbox of ALCH_URL_FILE (ctest's fixture alch_pg) or ALCH_DATABASE_URL.
set -euo pipefail
check=$1
url=${ALCH_DATABASE_URL:-$(cat "${ALCH_URL_FILE:?set ALCH_DATABASE_URL or ALCH_URL_FILE}")}
export ALCH_DATABASE_URL=$url
name=$(basename "$check")
db=alch_check_ex${name:9:2} # solution_01_driver -> alch_check_ex01
kept=$(sed -E "s|^(postgres(ql)?://[^/?]*)/[^?]*|\\1/$db|" <<<"$url")
[[ $kept == *"/$db"* ]] || { echo "checkdbtest: cannot put the database into $url" >&2; exit 2; }
# shellcheck source=tools/testlib.sh
source "$(dirname "${BASH_SOURCE[0]}")/testlib.sh" # ok, bad, fail, now_ms
sql() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
databases() { sql "$url" -c "SELECT count(*) FROM pg_database"; }
same() { # description, what is, what should be
    if [[ $2 == "$3" ]]; then ok "$1"; else bad "$1 (got '$2', expected '$3')"; fi
}
run() { # description, then the environment's additions: the check must pass
    local what=$1 out
    shift
    if out=$(env "$@" "$check" 2>&1); then
        ok "$what"
    else
        bad "$what:"
        printf '%s\n' "$out" | sed 's/^/    /'
    fi
}
stray() { sql "$kept" -c "SELECT count(*) FROM pg_tables WHERE tablename = 'stray'"; }
holder=""
# shellcheck disable=SC2317 # run by the trap
cleanup() { [[ -z $holder ]] || kill "$holder" 2>/dev/null || true; }
trap cleanup EXIT

sql "$url" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
n0=$(databases)
run "the first run passes" ALCH_CHECK_KEEP_DB=1
same "it keeps its database $db" "$(sql "$url" -c "SELECT count(*) FROM pg_database WHERE datname = '$db'")" 1
same "and makes no other (databases before and after)" "$n0 $(databases)" "$n0 $((n0 + 1))"

sql "$kept" -c "CREATE TABLE stray (id int); CREATE SCHEMA leftover; CREATE TABLE leftover.t (id int)"
run "the second run passes" ALCH_CHECK_KEEP_DB=1
same "it emptied the database first (schema leftover, table stray)" \
    "$(sql "$kept" -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'leftover'") $(stray)" "0 0"
same "still no other database" "$(databases)" $((n0 + 1))

# another check holds it: this one makes a database of its own and drops it
sql "$kept" -c "CREATE TABLE stray (id int)"
{ echo "SELECT pg_advisory_lock(4242424242);"; sleep 30; } | psql -X -q "$kept" >/dev/null 2>&1 &
holder=$!
held=0
for _ in $(seq 200); do # until the lock shows in pg_locks (20 s at most)
    held=$(sql "$kept" -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242424242 AND granted")
    [[ $held == 0 ]] || break
    sleep 0.1
done
if [[ $held == 1 ]]; then
    run "with its database held by another check, the check passes" ALCH_CHECK_KEEP_DB=1
    same "and leaves the held database as it was (table stray)" "$(stray)" 1
    same "its own database is dropped" "$(databases)" $((n0 + 1))
else
    bad "could not hold the lock for the test (psql did not take it in 20 s)"
fi
kill "$holder" 2>/dev/null || true
holder=""

run "without ALCH_CHECK_KEEP_DB (CTest) the check passes"
same "with a database of its own, dropped" "$(databases)" $((n0 + 1))
sql "$url" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
exit $fail
