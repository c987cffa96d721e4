# Warnings every alch target is built with; ALCH_WERROR turns them into errors (preset "ci").
add_library(alch_warnings INTERFACE)
target_compile_options(alch_warnings INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wformat=2 -Wvla -Wno-unused-parameter
    $<$<BOOL:${ALCH_WERROR}>:-Werror>)
# Strict C17 hides POSIX; libuv's and our sources need it (poll(), pthread types in uv.h).
target_compile_definitions(alch_warnings INTERFACE _DEFAULT_SOURCE)
if(ALCH_FUZZ)
    if(NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
        message(FATAL_ERROR "ALCH_FUZZ needs clang (libFuzzer): configure with the preset fuzz, "
                            "or -DCMAKE_C_COMPILER=clang (Debian: apt-get install clang "
                            "libclang-rt-14-dev)")
    endif()
    # every target is instrumented for the fuzzer; only the harnesses link its main()
    target_compile_options(alch_warnings INTERFACE
        -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
        -fno-omit-frame-pointer)
    target_link_options(alch_warnings INTERFACE -fsanitize=address,undefined)
elseif(ALCH_SANITIZE)
    target_compile_options(alch_warnings INTERFACE
        -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
    target_link_options(alch_warnings INTERFACE -fsanitize=address,undefined)
endif()

function(alch_warnings target)
    target_link_libraries(${target} PRIVATE $<BUILD_INTERFACE:alch_warnings>)
endfunction()
