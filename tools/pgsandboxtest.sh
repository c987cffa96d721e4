#!/usr/bin/env bash
# pgsandboxtest.sh: tools/pgsandbox cleans up after itself. start, stop, start again, destroy,
# as a learner's `./tutor db` does: stop leaves no empty socket directory in /tmp, the next
# start works in a new one, and destroy leaves nothing of the sandbox behind.
#
#   tools/pgsandboxtest.sh
#
# As root the server runs as an unprivileged user with its data inside the socket directory,
# so that directory is not empty after stop; the check of an ordinary user's stop then runs as
# the user "postgres" when it can reach this script, else only the root checks run.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
pgsandbox=$here/pgsandbox
unset ALCH_DATABASE_URL

if [[ $(id -u) -eq 0 && -z ${PGSANDBOXTEST_AS_USER:-} ]] && id -u postgres >/dev/null 2>&1 &&
    runuser -u postgres -- test -r "$here/pgsandboxtest.sh" 2>/dev/null; then
    exec runuser -u postgres -- env PGSANDBOXTEST_AS_USER=1 PATH="$PATH" bash "$here/pgsandboxtest.sh"
fi

tmp=$(mktemp -d)
state=$tmp/state
trap '"$pgsandbox" destroy "$state" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
fail=0
check() { # description, command...
    local what=$1
    shift
    if "$@"; then echo "ok: $what"; else
        echo "FAIL: $what"
        fail=1
    fi
}
# shellcheck disable=SC2317  # called through check "..." running, which shellcheck does not follow
running() { "$pgsandbox" status "$state" >/dev/null 2>&1; }

"$pgsandbox" start "$state" >/dev/null
first=$(cat "$state/socketdir")
check "start: the server runs, its socket in $first" running
"$pgsandbox" stop "$state" 2>/dev/null
check "stop: the server is stopped" bash -c "! \"$pgsandbox\" status \"$state\" >/dev/null 2>&1"
if [[ $(id -u) -eq 0 ]]; then
    check "stop as root: the socket directory keeps the data" test -f "$first/data/PG_VERSION"
else
    check "stop: no empty socket directory is left behind ($first)" test ! -e "$first"
fi
"$pgsandbox" start "$state" >/dev/null
second=$(cat "$state/socketdir")
check "start again: the server runs (socket in $second)" running
"$pgsandbox" destroy "$state" 2>/dev/null
check "destroy: nothing of the sandbox is left in /tmp" test ! -e "$first" -a ! -e "$second"
exit $fail
