#!/usr/bin/env bash
# archstats.sh: the shape of lib/src at two commits, side by side (issue 16's before/after).
#
#   tools/archstats.sh [BEFORE [AFTER]]      (default: 1ca4222 HEAD)
#
# 1ca4222 is the commit before the first of issue 16 (cd4b7bd, the relocatable alch.pc); the
# issue's own figures (url.c 1,010 lines, row.c's switches) are those of 1ca4222. Work of other
# issues landed in between too (migrate/, the statement builder's growth): the figures are of
# the tree, not of issue 16 alone.
#
# For each commit, from `git archive` into a temporary directory (the clone is not touched):
#   - files and lines per folder of lib/src, and the files added, removed or moved between;
#   - the functions the public headers declare (gcc -aux-info, as tools/lint/symbols.sh) and
#     the symbols libalch.so exports (nm -D --defined-only; the library is built with
#     -DBUILD_SHARED_LIBS=ON, target alch only, -j2: about a minute each);
#   - the public names removed and added (renames are read from these two lists by hand);
#   - the ten longest functions of lib/src (universal-ctags: first to last line);
#   - name lookups per folder: call sites of strcmp, strncmp, alch_model_column and
#     alch_base_find. A static count, not a run-time one: which of them run per request is
#     said in lib/README.md.
# Not run by CI. Needs git, cmake, gcc, nm, ctags (universal-ctags), libpq and libuv headers.
set -euo pipefail

before=${1:-1ca4222}
after=${2:-HEAD}
root=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d /tmp/archstats.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# unpack REV NAME: the commit's tree in $tmp/NAME
unpack() {
    mkdir -p "$tmp/$2"
    git -C "$root" archive "$1" | tar -x -C "$tmp/$2"
}

# per_folder DIR: "folder files lines" for each folder of DIR/lib/src
per_folder() {
    local d
    for d in "$1"/lib/src/*/; do
        local n l
        n=$(find "$d" -type f \( -name '*.c' -o -name '*.h' \) | wc -l)
        l=$(find "$d" -type f \( -name '*.c' -o -name '*.h' \) -exec cat {} + | wc -l)
        printf '%s %s %s\n' "$(basename "$d")" "$n" "$l"
    done
}

# declared DIR BUILD: the functions the public headers declare, one per line
declared() {
    printf '#include <alch/alch.h>\n' >"$tmp/all.c"
    gcc -std=c17 -D_DEFAULT_SOURCE -I"$1/lib/include" -I"$2/lib/include" \
        -I"$(pg_config --includedir)" -fsyntax-only -aux-info "$tmp/aux" "$tmp/all.c"
    sed -nE 's|^/\* .*/include/alch/[a-z_]+\.h:[0-9]+:[A-Z]+ \*/ extern .*[ *]([A-Za-z_][A-Za-z0-9_]*) \(.*|\1|p' \
        "$tmp/aux" | sort -u
}

# exported DIR BUILD: build libalch.so and list what it exports
exported() {
    cmake -S "$1" -B "$2" -DBUILD_SHARED_LIBS=ON -DALCH_BUILD_TESTS=OFF \
        -DCMAKE_BUILD_TYPE=Release >"$2.log" 2>&1
    cmake --build "$2" --target alch -j2 >>"$2.log" 2>&1
    nm -D --defined-only "$(find "$2" -name 'libalch.so' | head -n 1)" | awk 'NF == 3 { print $3 }' |
        sort -u
}

# longest DIR: "lines function file" for the ten longest functions of DIR/lib/src
longest() {
    (cd "$1" && ctags -x --_xformat='%N %F %n %e' --kinds-C=f -R lib/src) |
        awk '{ print $4 - $3 + 1, $1, $2 }' | sort -rn | head -n 10
}

# lookups DIR: "folder call-sites" of name lookups
lookups() {
    local d
    for d in "$1"/lib/src/*/; do
        printf '%s %s\n' "$(basename "$d")" \
            "$(cat "$d"*.c | grep -oE '\b(strn?cmp|alch_model_column|alch_base_find)\(' | wc -l)"
    done
}

for side in before after; do
    rev=${!side}
    unpack "$rev" "$side"
    per_folder "$tmp/$side" >"$tmp/$side.folders"
    exported "$tmp/$side" "$tmp/$side.build" >"$tmp/$side.exported"
    declared "$tmp/$side" "$tmp/$side.build" >"$tmp/$side.declared"
    longest "$tmp/$side" >"$tmp/$side.longest"
    lookups "$tmp/$side" >"$tmp/$side.lookups"
    (cd "$tmp/$side" && find lib/src -type f | sort) >"$tmp/$side.files"
done

echo "# lib/src at $(git -C "$root" rev-parse --short "$before") (before) and $(git -C "$root" rev-parse --short "$after") (after)"
echo
echo "## Files and lines per folder"
echo
echo "| folder | files before | files after | lines before | lines after | name lookups before | after |"
echo "|---|---|---|---|---|---|---|"
join -a1 -a2 -e0 -o 0,1.2,2.2,1.3,2.3 <(sort "$tmp/before.folders") <(sort "$tmp/after.folders") |
    join -a1 -e0 -o 1.1,1.2,1.3,1.4,1.5,2.2 - <(sort "$tmp/before.lookups") |
    join -a1 -e0 -o 1.1,1.2,1.3,1.4,1.5,1.6,2.2 - <(sort "$tmp/after.lookups") |
    awk '{ printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7 }'
echo
echo "## Files moved, removed, added"
echo
git -C "$root" diff --find-renames=40% --name-status "$before" "$after" -- lib/src |
    awk '{ if ($1 ~ /^R/) print "- moved: " $2 " -> " $3; else if ($1 == "D") print "- removed: " $2;
           else if ($1 == "A") print "- added: " $2 }'
echo
echo "## Public API"
echo
for side in before after; do
    echo "- $side: $(wc -l <"$tmp/$side.declared") functions declared in include/alch/*.h," \
        "$(wc -l <"$tmp/$side.exported") symbols exported by libalch.so"
done
echo "- declared before, not after: $(comm -23 "$tmp/before.declared" "$tmp/after.declared" | tr '\n' ' ')"
echo "- declared after, not before: $(comm -13 "$tmp/before.declared" "$tmp/after.declared" | tr '\n' ' ')"
echo
echo "## The ten longest functions (lines)"
for side in before after; do
    echo
    echo "$side:"
    echo
    awk '{ printf "- %s %s (%s)\n", $1, $2, $3 }' "$tmp/$side.longest"
done
