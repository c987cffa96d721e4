#!/usr/bin/env bash
# lint.symbols: the shared library exports exactly the functions the public headers declare.
#   tools/lint/symbols.sh LIBRARY.so GCC INCLUDE_DIR...
# Declared: every non-static function declared in lib/include/alch/*.h, as gcc's -aux-info
# lists them when it compiles `#include <alch/alch.h>` (static inline helpers are not
# symbols). Exported: `nm -D --defined-only` of the library. Both directions must match:
# a declaration without ALCH_API (or without a definition) is missing from the library; an
# exported name no public header declares is an internal function that leaked.
set -euo pipefail
lib=${1:?usage: symbols.sh LIBRARY.so GCC INCLUDE_DIR...}
gcc=${2:?usage: symbols.sh LIBRARY.so GCC INCLUDE_DIR...}
shift 2
incs=()
for d in "$@"; do incs+=("-I$d"); done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

printf '#include <alch/alch.h>\n' >"$tmp/all.c"
"$gcc" -std=c17 -D_DEFAULT_SOURCE "${incs[@]}" -fsyntax-only -aux-info "$tmp/aux" "$tmp/all.c"
# /* lib/include/alch/conn.h:52:NC */ extern int alch_conn_open (const char *, ...);
sed -nE 's|^/\* (.*/include/alch/[a-z_]+\.h):([0-9]+):[A-Z]+ \*/ extern .*[ *]([A-Za-z_][A-Za-z0-9_]*) \(.*|\3 \1:\2|p' \
    "$tmp/aux" | sort -u >"$tmp/declared.where"
cut -d' ' -f1 "$tmp/declared.where" | sort -u >"$tmp/declared"
nm -D --defined-only "$lib" | awk 'NF == 3 { print $3 }' | sort -u >"$tmp/exported"

ndecl=$(wc -l <"$tmp/declared")
nexp=$(wc -l <"$tmp/exported")
echo "lint.symbols: $ndecl functions declared in the public headers, $nexp symbols exported by $(basename "$lib")"
if ((ndecl == 0)); then
    echo "lint.symbols: no declaration found (did gcc -aux-info change its format?)" >&2
    exit 1
fi

fail=0
while read -r name; do
    where=$(awk -v n="$name" '$1 == n { print $2; exit }' "$tmp/declared.where")
    echo "FAIL: $name is declared at lib/include/${where#*/lib/include/} but $(basename "$lib") does not export it:" \
        "put ALCH_API before its declaration (and give it a definition)"
    fail=1
done < <(comm -23 "$tmp/declared" "$tmp/exported")
while read -r name; do
    echo "FAIL: $name is exported by $(basename "$lib") but no public header declares it:" \
        "an internal function is hidden (no ALCH_API, declared in a private header under lib/src)," \
        "a public one is declared with ALCH_API in lib/include/alch/"
    fail=1
done < <(comm -13 "$tmp/declared" "$tmp/exported")
((fail == 0)) && echo "lint.symbols: ok, the exported symbols are the public declarations"
exit "$fail"
