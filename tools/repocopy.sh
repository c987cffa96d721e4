#!/usr/bin/env bash
# repocopy.sh: copy the repository as committed (HEAD) into a new directory, for the tests that
# run the tutor as a learner would. A learner's uncommitted work (a solved exercise, an edited
# lesson) is not copied, so `./tutor selftest` stays green while the learner works.
#
#   tools/repocopy.sh SOURCE_DIR DEST_DIR
#
# Outside a git checkout (an unpacked tarball) the files are copied as they are, build/ left out.
# DEST_DIR becomes a git repository with one commit, as `./tutor reset` needs.
set -euo pipefail
src=$1
dest=$2
mkdir -p "$dest"
if git -C "$src" rev-parse --verify -q HEAD >/dev/null 2>&1; then
    git -C "$src" archive --format=tar HEAD | tar -x -C "$dest"
else
    (cd "$src" && find . -path ./build -prune -o -type f -print0) |
        (cd "$src" && xargs -0 cp --parents -t "$dest")
fi
cd "$dest"
git init -q && git add -A && git -c user.email=t@t -c user.name=t commit -qm starter
