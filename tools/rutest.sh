#!/usr/bin/env bash
# rutest.sh: the learner's loop in Russian (ALCH_LANG=ru), in a copy of the repository as
# committed (tools/repocopy.sh): `./tutor list`, a hint, a failing `./tutor check 1` on the
# starter and `./tutor` outside a terminal (the overview, one check) print these exact Russian
# sentences; LANG=ru_RU.UTF-8 picks Russian too, ALCH_LANG=en
# keeps English; the check chain's crash report (check_crash) says its "вероятно:" line.
#
#   tools/rutest.sh SOURCE_DIR BUILD_DIR CHECK_CRASH
#
# BUILD_DIR: this tree's build, taken as it is (ALCH_TUTOR_BUILD); its checks run on the
# tests' sandbox (ALCH_URL_FILE, as CTest gives it).
set -euo pipefail
src=$1 build=$2 crash=$3
if git -C "$src" rev-parse >/dev/null 2>&1 && ! git -C "$src" diff --quiet HEAD -- exercises/database; then
    echo "skipped: exercises/database differs from HEAD (the build's checks are not the starter's)"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash "$src/tools/repocopy.sh" "$src" "$tmp/repo"
cd "$tmp/repo"
unset LANG LC_ALL LC_MESSAGES ALCH_LANG
fail=0
same() { # description, expected, got
    if [[ $2 == "$3" ]]; then
        echo "ok: $1"
    else
        echo "FAIL: $1:"
        diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | sed 's/^/    /' || true
        fail=1
    fi
}

same "ALCH_LANG=ru ./tutor list" "$(cat <<'TXT'
Прогресс [------------------------------] 0/9
   >  01  driver           (урок 01)
  [ ] 02  engine           (урок 02)
  [ ] 03  session-factory  (урок 03)
  [ ] 04  base             (урок 04)
  [ ] 05  models           (урок 05)
  [ ] 06  requests         (урок 06)
  [ ] 07  shop             (урок 07)
  [ ] 08  capstone         (урок 07)
  [ ] 09  migration        (урок 08)

./tutor check N   ./tutor hint N   ./tutor solution N   ./tutor (режим наблюдения)
TXT
)" "$(ALCH_LANG=ru ./tutor list 2>&1)"

same "LANG=ru_RU.UTF-8 ./tutor hint 2 (the manifest's hint.ru line)" \
    "Подсказка 1 из 2 к упражнению 02: Движок — первое, что создаёт db_open(): всё остальное берёт у него соединения." \
    "$(LANG=ru_RU.UTF-8 ./tutor hint 2 2>&1)"
same "ALCH_LANG=en wins over LANG=ru_RU.UTF-8" \
    "Hint 2 of 2 for exercise 02: rc = alch_engine_create(url, NULL, &engine, err); and return rc when it is not 0." \
    "$(ALCH_LANG=en LANG=ru_RU.UTF-8 ./tutor hint 2 2>&1)"
same "a mistake said in Russian" "tutor: упражнения 42 нет ('./tutor list' показывает список)" \
    "$(ALCH_LANG=ru ./tutor check 42 2>&1)"

url=$(cat "$ALCH_URL_FILE")
rc=0
out=$(ALCH_LANG=ru ALCH_TUTOR_BUILD=$build ALCH_DATABASE_URL=$url ./tutor check 1 2>&1) || rc=$?
same "ALCH_LANG=ru ./tutor check 1 on the starter fails, in Russian" "$(cat <<'TXT'
Упражнение 01: driver   (вы правите exercises/database/models.c; урок 01)
  [ok] компилируется
  [ok] компонуется
  [ok] база данных отвечает
  ещё не сделано: упражнение 01: db_ping() в database/models.c
  [x] упражнение ещё не сделано (см. TODO выше)
TXT
)" "$out"
if [[ $rc -ne 0 ]]; then
    echo "ok: and its status is $rc"
else
    echo "FAIL: ./tutor check 1 passed on the starter"
    fail=1
fi

# ./tutor with no command, outside a terminal: the overview, one round of watch mode
out=$(ALCH_LANG=ru ALCH_TUTOR_BUILD=$build ALCH_DATABASE_URL=$url ./tutor </dev/null 2>&1) || true
for line in "Уроки:" "Ваша база данных: $url" "Дальше:" "  ./tutor lesson 01    прочитать урок 01" \
    "Прогресс [------------------------------] 0/9" \
    "Упражнение 01 опирается на урок 01: сначала прочитайте его (./tutor lesson 1), запустите его программы" \
    "  [x] упражнение ещё не сделано (см. TODO выше)" \
    "Подсказка 1 из 2 к упражнению 01: db_ping() открывает соединение по URL, читает из него одно число и закрывает его: connect.c из урока 01 делает первый и последний шаг." \
    "(не терминал: только одна проверка. В терминале ./tutor следит за вашими файлами.)"; do
    if grep -qxF -- "$line" <<<"$out"; then
        echo "ok: ./tutor (watch mode, once) says: $line"
    else
        echo "FAIL: ./tutor (watch mode, once) does not say: $line"
        fail=1
    fi
done
[[ $fail == 0 ]] || printf '    %s\n' "${out//$'\n'/$'\n'    }"

out=$(ALCH_LANG=ru "$crash" segv 2>&1) || true
same "the crash report in Russian (check.h)" "$(cat <<'TXT'
ok: запущено
FAIL: программа упала (SIGSEGV: плохой указатель)
  вероятно: сессия, результат или объект использованы после освобождения: объекты, загруженные сессией, умирают с alch_session_close(), строки — с alch_result_free(); или указатель от вызова, который не удался (сначала проверьте его код возврата)
TXT
)" "$out"
exit "$fail"
