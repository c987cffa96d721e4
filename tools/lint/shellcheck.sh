#!/usr/bin/env bash
# lint.shellcheck: every shell script of the repository passes shellcheck (Debian's package).
#   tools/lint/shellcheck.sh SOURCE_DIR
# The scripts are the tracked files whose first line is a sh/bash shebang (or that end in
# .sh): tutor, tools/pgsandbox, the fixtures, the CI script, the docs' checkers. A finding that
# is a real false positive carries a `# shellcheck disable=SCnnnn  # why` comment at its line.
# Exit 77 (skipped) when shellcheck is missing, unless ALCH_LINT_REQUIRED=1 (CI sets it).
set -euo pipefail
src=${1:?usage: shellcheck.sh SOURCE_DIR}
cd "$src"

if ! command -v shellcheck >/dev/null; then
    echo "lint.shellcheck: shellcheck is not installed (apt-get install shellcheck)" >&2
    [[ ${ALCH_LINT_REQUIRED:-0} == 1 ]] && exit 1
    exit 77
fi

# Tracked files when this is a git work tree (a fresh clone in CI), else every file outside
# build/ (an unpacked archive).
list_files() {
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git ls-files -z
    else
        find . -path ./build -prune -o -type f -print0
    fi
}

scripts=()
while IFS= read -r -d '' f; do
    [[ -f $f ]] || continue
    if [[ $f == *.sh ]] || head -n 1 -- "$f" 2>/dev/null | grep -qE '^#!.*[/ ](ba|da)?sh([[:space:]]|$)'; then
        scripts+=("$f")
    fi
done < <(list_files)

if ((${#scripts[@]} == 0)); then
    echo "lint.shellcheck: no shell script found in $src" >&2
    exit 1
fi
echo "lint.shellcheck: ${#scripts[@]} scripts (shellcheck $(shellcheck --version | sed -n 's/^version: //p'))"
printf '  %s\n' "${scripts[@]}"
# -x follows `source`d files; the severity is the default (style notes included).
if shellcheck -x -f gcc -- "${scripts[@]}"; then
    echo "lint.shellcheck: no finding"
else
    echo "lint.shellcheck: fix each finding above, or, for a real false positive, put" \
        "'# shellcheck disable=SCnnnn  # why' on the line before it" >&2
    exit 1
fi
