# testlib.sh: the verdict lines of the tools' test scripts (sourced): ok/FAIL lines as the
# exercise checks print them, and a clock. The script ends with `exit $fail`.
# shellcheck shell=bash disable=SC2034  # fail: read by the script that sources this
fail=0
ok() { echo "ok: $1"; }
bad() {
    echo "FAIL: $1"
    fail=1
}
now_ms() { echo $((${EPOCHREALTIME/[.,]/} / 1000)); }
