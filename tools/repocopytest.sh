#!/usr/bin/env bash
# repocopytest.sh: the tests that run the tutor copy the repository as committed, so a
# learner's work in progress cannot make `./tutor selftest` fail. In a scratch clone of
# SOURCE_DIR, a learner solves exercise 01 (uncommitted) and leaves a file of their own; the
# copy tools/repocopy.sh makes must hold the starter and not the learner's file.
#
#   tools/repocopytest.sh SOURCE_DIR      (exit 77: SOURCE_DIR is not a git checkout)
set -euo pipefail
src=$1
git -C "$src" rev-parse --verify -q HEAD >/dev/null 2>&1 || {
    echo "skipped: $src is not a git checkout (the copy is then the tree as it is)"
    exit 77
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git clone -q --no-hardlinks "$src" "$tmp/learner"
file=exercises/database/models.c
cp "$tmp/learner/solutions/database/models.c" "$tmp/learner/$file"
echo "my notes" >"$tmp/learner/notes.txt"
cmp -s "$tmp/learner/$file" <(git -C "$tmp/learner" show "HEAD:$file") && {
    echo "FAIL: the solution of exercise 01 is the same as its starter: nothing to test"
    exit 1
}

bash "$(dirname "${BASH_SOURCE[0]}")/repocopy.sh" "$tmp/learner" "$tmp/copy"
fail=0
if cmp -s "$tmp/copy/$file" <(git -C "$tmp/learner" show "HEAD:$file"); then
    echo "ok: the copy holds the committed starter of $file, not the learner's solution"
else
    echo "FAIL: the copy's $file is not the committed starter (the learner's edit was copied)"
    fail=1
fi
if [[ -e $tmp/copy/notes.txt ]]; then
    echo "FAIL: the learner's own file notes.txt was copied"
    fail=1
else
    echo "ok: the learner's own files stay out"
fi
if [[ -x $tmp/copy/tutor && -n $(git -C "$tmp/copy" log --oneline) ]]; then
    echo "ok: the copy is a git repository with the tutor, executable"
else
    echo "FAIL: the copy has no executable tutor or no commit"
    fail=1
fi
exit $fail
