#!/usr/bin/env bash
# progression.sh: the exercises in the order a learner solves them, through ./tutor, in a
# temporary copy of the repository as committed (tools/repocopy.sh; the tree is never touched).
# For N = 0..TOTAL (the manifest's count, 9) the copy has exercises 1..N solved (the
# reference's regions, tools/regions) and N+1..TOTAL as the starters left them; ./tutor check
# must pass 1..N and fail N+1 with "not done yet", and ./tutor list must show N/TOTAL. Then,
# on the finished tree: ./tutor db migrate|diff|history|downgrade on a shop database of its
# own, as exercise 09's learner runs them; reset of one exercise keeps the others' progress
# and names its backup, solution shows one exercise only, and a capstone that reads an object
# after closing its session fails with the sanitizer's verdict and its "likely:" line.
#
#   tools/progression.sh SOURCE_DIR
#
# One build tree and one database for everything: ctest's sandbox (ALCH_URL_FILE) when run
# by CTest, else the copy's own (./tutor db).
set -euo pipefail
export ALCH_LANG=en # the sentences asserted here are the English ones, whatever the locale
src=$1
tmp=$(mktemp -d)
trap 'bash "$tmp/repo/tools/pgsandbox" destroy "$tmp/repo/build/sandbox" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
bash "$src/tools/repocopy.sh" "$src" "$tmp/repo"
cd "$tmp/repo"
if [[ -n ${ALCH_URL_FILE:-} && -z ${ALCH_DATABASE_URL:-} ]]; then
    ALCH_DATABASE_URL=$(cat "$ALCH_URL_FILE")
    export ALCH_DATABASE_URL
fi

fail=0
expect() { # description, pattern, output
    if grep -qE -- "$2" <<<"$3"; then
        echo "ok: $1"
    else
        echo "FAIL: $1 (no '$2' in:)"
        tail -n 25 <<<"$3" | sed 's/^/    /'
        fail=1
    fi
}
refuse() { # description, pattern, output: the pattern must not be there
    if grep -qE -- "$2" <<<"$3"; then
        echo "FAIL: $1 ('$2' in:)"
        tail -n 25 <<<"$3" | sed 's/^/    /'
        fail=1
    else
        echo "ok: $1"
    fi
}

mapfile -t exercises < <(grep -E '^[0-9]{2};' exercises/manifest.txt)
total=${#exercises[@]}
t_start=$SECONDS
# solution N shows exercise N only (here against the untouched starters)
out=$(./tutor solution 1 --force 2>&1)
expect "solution 1 shows exercise 01" "alch_conn_server_version" "$out"
refuse "and nothing of exercises 02-05" "alch_engine_create|ALCH_VARCHAR" "$out"
out=$(./tutor solution 6 --force 2>&1)
expect "solution 6 shows exercise 06" "alch_on_conflict_do_nothing" "$out"
refuse "and not exercise 07's db_serve" "db_serve|alch_session_execute_async" "$out"

for ((n = 0; n <= total; n++)); do
    if ((n > 0)); then
        IFS=';' read -r nn _ _ files <<<"${exercises[n - 1]}"
        for file in $files; do tools/regions put "exercises/$file" "solutions/$file" "$nn"; done
    fi
    # one tutor run checks 1..N+1 in turn (one library build, one database)
    out=$(./tutor check $(seq 1 $((n < total ? n + 1 : n))) 2>&1 || true)
    for ((k = 1; k <= n; k++)); do
        kk=$(printf '%02d' "$k")
        expect "with 1..$n solved, exercise $kk passes" "Exercise $kk passes" "$out"
    done
    if ((n < total)); then
        kk=$(printf '%02d' $((n + 1)))
        expect "with 1..$n solved, exercise $kk is not done yet" "not done yet: exercise $kk" "$out"
        refuse "and does not pass" "Exercise $kk passes" "$out"
    fi
    out=$(./tutor list 2>&1)
    expect "with 1..$n solved, list shows $n/$total" "\\] $n/$total\$" "$out"
done
echo "(the progression took $((SECONDS - t_start)) s)"

# ./tutor db: the finished package's migrations on a shop database made for this test (or the
# copy's own sandbox database "shop" when run by hand)
if [[ -n ${ALCH_DATABASE_URL:-} ]]; then
    saved_url=$ALCH_DATABASE_URL
    psql -X -q "$saved_url" -c 'DROP DATABASE IF EXISTS progression_shop' \
        -c 'CREATE DATABASE progression_shop'
    ALCH_DATABASE_URL=$(sed -E 's|^([^?]*//[^/]*)/[^?]*|\1/progression_shop|' <<<"$saved_url")
fi
shop_sql() { ./tutor db psql -q -At -c "$1" 2>&1 || true; }
[[ -n ${ALCH_DATABASE_URL:-} ]] ||
    shop_sql() { tools/pgsandbox psql build/sandbox --database shop -- -q -At -c "$1" 2>&1 || true; }
out=$(./tutor db migrate 0001_shop 2>&1 || true)
expect "db migrate 0001_shop: the shop of exercise 08" "applied 1 step\\(s\\)" "$out"
expect "and says where the database is" "your shop's database is at 0001_shop\$" "$out"
shop_sql "INSERT INTO categories (name) VALUES ('Tea'); INSERT INTO items (name, description, price, category) VALUES ('Oolong', 'Half-oxidised', 700, 1)" >/dev/null
out=$(./tutor db diff 2>&1 || true)
expect "db diff: what the model has and the database lacks" \
    "^ALTER TABLE items ADD COLUMN quantity INTEGER DEFAULT 0 NOT NULL;\$" "$out"
out=$(./tutor db history 2>&1 || true)
expect "db history: 0001 applied" "^\\[x\\] 0001_shop +users, categories and items\$" "$out"
expect "and 0002 not yet" "^\\[ \\] 0002_item_quantity +items get a quantity\$" "$out"
out=$(./tutor db migrate 2>&1 || true)
expect "db migrate: the step under echo" "^\\[alch\\] migrate: upgrade 0002_item_quantity \\(items get a quantity\\)\$" "$out"
expect "its SQL" "^\\[alch\\] ALTER TABLE items ADD COLUMN quantity INTEGER DEFAULT 0 NOT NULL\$" "$out"
expect "at the head" "your shop's database is at 0002_item_quantity \\(the head" "$out"
expect "the item kept its data, quantity 0" "^Oolong\\|700\\|0\$" "$(shop_sql 'SELECT name, price, quantity FROM items')"
out=$(./tutor db diff 2>&1 || true)
expect "db diff after it: nothing" "nothing: your shop's database matches your models" "$out"
out=$(./tutor db migrate 2>&1 || true)
expect "db migrate again applies nothing" "applied 0 step\\(s\\)" "$out"
out=$(./tutor db downgrade 0001_shop 2>&1 || true)
expect "db downgrade 0001_shop undoes 0002" "undid 1 step\\(s\\)" "$out"
expect "and the column is gone" "^0\$" "$(shop_sql "SELECT count(*) FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'quantity'")"
if [[ -n ${saved_url:-} ]]; then
    ALCH_DATABASE_URL=$saved_url
    psql -X -q "$saved_url" -c 'DROP DATABASE progression_shop'
fi

# reset one exercise: the others keep their progress, the file is backed up and named
out=$(./tutor reset 7 --yes 2>&1)
expect "reset 7 names its backup" "Your version of the whole file: build/backup/requests.c\\." "$out"
backup=$(sed -n 's/^Your version of the whole file: //p' <<<"$out")
expect "the backup holds exercise 07's solution" "alch_session_execute_async" "$(cat "$backup")"
out=$(./tutor list 2>&1)
expect "after reset 7, the $((total - 1)) others still pass" "\\] $((total - 1))/$total\$" "$out"
expect "and exercise 07 is current" "(>|▶) +07" "$out"
out=$(./tutor check 6 2>&1 || true)
expect "exercise 06, in the same file, still passes" "Exercise 06 passes" "$out"
tools/regions put exercises/database/requests.c solutions/database/requests.c 07

# a use-after-free in the capstone: the request read after it was freed
perl -0pi -e 's/(    r->reply\(text, r->data\);\n)(    alch_stmt_free\(r->st\);\n    free\(r\);\n)/$2    r->reply(text, r->data); \/* r is freed already *\/\n/' \
    exercises/database/shop.c
expect "the use-after-free is in the capstone" "r is freed already" "$(cat exercises/database/shop.c)"
out=$(./tutor check 8 2>&1 || true)
refuse "a capstone that reads a freed object does not pass" "Exercise 08 passes" "$out"
expect "it fails with the sanitizer's verdict" "AddressSanitizer: heap-use-after-free" "$out"
expect "and the mistake behind it" "likely: a session, a result or an object used after it was freed" "$out"
expect "and the learner's line" "at exercises/database/shop.c:[0-9]+, in finish" "$out"

# nothing hidden: the learner's own line behind a compiler error in a header's macro
tools/regions put exercises/database/shop.c solutions/database/shop.c 08
sed -i 's/ALCH_COLUMN(Item, price, ALCH_INTEGER)/ALCH_COLUMN(Item, price, ALCH_BIGINT)/' \
    exercises/database/models.c
out=$(./tutor check 5 2>&1 || true)
expect "a C type that cannot hold the column's SQL type does not compile" "\\[x\\] compiles" "$out"
expect "and the compiler's note names the learner's line" \
    "exercises/database/models.c:[0-9]+:[0-9]+: note: in expansion of macro" "$out"
tools/regions put exercises/database/models.c solutions/database/models.c 05

# the capstone's expected and got answers
sed -i 's/"no such item\\n"/"no item\\n"/' exercises/database/shop.c
out=$(./tutor check 8 2>&1 || true)
expect "a wrong answer names the command" 'after "item 99":' "$out"
expect "and shows the expected answer" 'expected: "no such item\\n"' "$out"
expect "and the one it got" 'got: +"no item\\n"' "$out"
tools/regions put exercises/database/shop.c solutions/database/shop.c 08

# the test's own ERROR line when the database cannot be reached
out=$(ALCH_DATABASE_URL='postgresql://nobody@127.0.0.1:1/none' ./tutor check 1 2>&1 || true)
expect "a database that cannot be reached is said" "ERROR: cannot connect to the test server" "$out"
expect "and the check says it stopped" "\\[x\\] the check stopped" "$out"

exit $fail
