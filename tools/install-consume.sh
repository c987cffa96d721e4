#!/usr/bin/env bash
# install-consume.sh BUILD_DIR SOURCE_DIR
#
# Proves that an installed alch is usable from outside: installs BUILD_DIR into a temporary
# prefix, then builds tools/consumer against it twice, with CMake's find_package(alch) and with
# pkg-config, and runs both programs. The temporary directory is removed at the end.
set -euo pipefail

[[ $# -eq 2 ]] || {
    echo "usage: $0 BUILD_DIR SOURCE_DIR" >&2
    exit 2
}
build=$(cd "$1" && pwd)
source=$(cd "$2" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/alch-consume.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
prefix=$tmp/prefix

step() { printf '== %s\n' "$*"; }

# A sanitized alch (preset asan) needs its consumers built with the same runtime.
flags=()
if grep -q '^ALCH_SANITIZE:BOOL=ON$' "$build/CMakeCache.txt" 2>/dev/null; then
    # shellcheck disable=SC2054 # the comma belongs to the flag
    flags=(-fsanitize=address,undefined -fno-omit-frame-pointer)
fi

step "install alch into $prefix"
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 || {
    cat "$tmp/install.log"
    exit 1
}

step "find_package(alch): configure, build and run tools/consumer"
cmake -S "$source/tools/consumer" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS="${flags[*]}" \
    -DCMAKE_EXE_LINKER_FLAGS="${flags[*]}" >"$tmp/configure.log" 2>&1 || {
    cat "$tmp/configure.log"
    exit 1
}
cmake --build "$tmp/consumer" >"$tmp/build.log" 2>&1 || {
    cat "$tmp/build.log"
    exit 1
}
"$tmp/consumer/consumer"

# The README's recipe, as written: PKG_CONFIG_PATH names the installed pkgconfig folder and
# nothing else is said (alch.pc finds its prefix from where it lies).
readme_pkgconfig() {
    local prefix=$1 out=$2 pc
    pc=$(find "$prefix" -name alch.pc -print -quit)
    [[ -n $pc ]] || {
        echo "alch.pc was not installed under $prefix" >&2
        exit 1
    }
    # shellcheck disable=SC2046 # word splitting of pkg-config's output is intended
    PKG_CONFIG_PATH="$(dirname "$pc")" cc -std=c17 -Wall -Werror "${flags[@]}" -o "$out" \
        "$source/tools/consumer/main.c" \
        $(PKG_CONFIG_PATH="$(dirname "$pc")" pkg-config --cflags --libs --static alch)
    "$out"
}

step "pkg-config alch: compile main.c as strict C17 and run it"
readme_pkgconfig "$prefix" "$tmp/consumer-pc"

step "the installed tree moved elsewhere: pkg-config still finds it"
mv "$prefix" "$tmp/moved"
readme_pkgconfig "$tmp/moved" "$tmp/consumer-moved"

step "ok: alch installs and links both ways"
