# Test helpers: the PostgreSQL sandbox fixture, library tests, lessons, the install check.
#
# The sandbox is a private cluster per build tree (tools/pgsandbox, state in
# ${CMAKE_BINARY_DIR}/pgtest, socket in a short /tmp directory), started by the test
# pgsandbox.start (FIXTURES_SETUP alch_pg) and destroyed by pgsandbox.stop (FIXTURES_CLEANUP),
# so the presets ci and asan can run at the same time without sharing a server. When
# ALCH_DATABASE_URL is set in ctest's environment, the fixture only records it and every test
# uses that server instead.
#
#   alch_add_test(NAME <name> SOURCES <files...> [DB] [SERIAL] [LABELS <labels...>])
#   alch_add_lesson(<dir> [PROGRAMS <prog...>])

set(ALCH_PGSANDBOX "${PROJECT_SOURCE_DIR}/tools/pgsandbox")
set(ALCH_PGTEST_DIR "${CMAKE_BINARY_DIR}/pgtest")
# Where the PgBouncer and standby fixtures (lib/tests/CMakeLists.txt) keep their state and
# write their URLs; lesson programs that run behind them read those URLs too.
set(ALCH_PGB_DIR "${CMAKE_BINARY_DIR}/pgbouncer")
set(ALCH_STANDBY_DIR "${CMAKE_BINARY_DIR}/standby")
set(ALCH_TEST_ENV
    "ALCH_URL_FILE=${ALCH_PGTEST_DIR}/url"
    "ALCH_SANDBOX_DIR=${ALCH_PGTEST_DIR}"
    "ALCH_PGSANDBOX=${ALCH_PGSANDBOX}"
    "ALCH_LANG=en") # the checks' sentences asserted in English, whatever the locale

find_program(ALCH_VALGRIND valgrind)
option(ALCH_VALGRIND_TESTS "Also run each library test under Valgrind (when found)" ON)
if(ALCH_VALGRIND AND ALCH_VALGRIND_TESTS AND NOT ALCH_SANITIZE)
    set(ALCH_WITH_VALGRIND TRUE)
else()
    set(ALCH_WITH_VALGRIND FALSE)
endif()

# --- the fixture ---------------------------------------------------------------------------
add_test(NAME pgsandbox.start COMMAND "${ALCH_PGSANDBOX}" start "${ALCH_PGTEST_DIR}")
set_tests_properties(pgsandbox.start PROPERTIES
    FIXTURES_SETUP alch_pg LABELS lib TIMEOUT 180)
add_test(NAME pgsandbox.stop COMMAND "${ALCH_PGSANDBOX}" destroy "${ALCH_PGTEST_DIR}")
set_tests_properties(pgsandbox.stop PROPERTIES
    FIXTURES_CLEANUP alch_pg LABELS lib TIMEOUT 120)

# --- library tests -------------------------------------------------------------------------
# A cmocka test program linked with alch_test_support (alch_internal, cmocka, libpq), allowed
# to use alch's private headers. DB: needs the sandbox; SERIAL: runs alone (it restarts the server);
# NOVALGRIND: no Valgrind twin (a measurement that Valgrind would slow down 30-fold).
function(alch_add_test)
    cmake_parse_arguments(PARSE_ARGV 0 T "DB;SERIAL;NOVALGRIND" "NAME" "SOURCES;LABELS")
    if(NOT T_NAME OR NOT T_SOURCES)
        message(FATAL_ERROR "alch_add_test: NAME and SOURCES are required")
    endif()
    if(T_UNPARSED_ARGUMENTS)
        message(FATAL_ERROR "alch_add_test(${T_NAME}): unknown arguments ${T_UNPARSED_ARGUMENTS}")
    endif()

    add_executable(${T_NAME} ${T_SOURCES})
    target_link_libraries(${T_NAME} PRIVATE alch_test_support)
    target_include_directories(${T_NAME} PRIVATE "${PROJECT_SOURCE_DIR}/lib/src")
    alch_warnings(${T_NAME})

    set(runs ${T_NAME})
    set(labels lib ${T_LABELS})
    add_test(NAME ${T_NAME} COMMAND ${T_NAME})
    set_tests_properties(${T_NAME} PROPERTIES LABELS "${labels}" TIMEOUT 120)
    if(ALCH_WITH_VALGRIND AND NOT T_NOVALGRIND)
        list(APPEND runs ${T_NAME}.valgrind)
        add_test(NAME ${T_NAME}.valgrind
                 COMMAND "${ALCH_VALGRIND}" --error-exitcode=99 --leak-check=full
                         --errors-for-leak-kinds=definite,indirect --track-fds=no -q
                         $<TARGET_FILE:${T_NAME}>)
        set_tests_properties(${T_NAME}.valgrind PROPERTIES
            LABELS "${labels};valgrind" TIMEOUT 600)
        # timing bounds in the tests allow for Valgrind's slowdown when this is set
        set_property(TEST ${T_NAME}.valgrind APPEND PROPERTY ENVIRONMENT ALCH_UNDER_VALGRIND=1)
    endif()

    foreach(run IN LISTS runs)
        if(T_DB)
            set_tests_properties(${run} PROPERTIES FIXTURES_REQUIRED alch_pg)
            set_property(TEST ${run} APPEND PROPERTY ENVIRONMENT ${ALCH_TEST_ENV})
        endif()
        if(T_SERIAL)
            set_tests_properties(${run} PROPERTIES RUN_SERIAL TRUE)
        endif()
    endforeach()
endfunction()

# --- lessons -------------------------------------------------------------------------------
# Each program of lessons/NN-name/ (example.c by default) is built as lesson_NN_<prog> in the
# build tree and run by outcheck against <prog>.expected, in a fresh database of its own.
# SOURCES: more .c files of the lesson folder linked into every program (a lesson's module).
# BEHIND_PGBOUNCER: programs (of PROGRAMS) that also get ALCH_PGBOUNCER_URL, the sandbox's
# "alch" database through PgBouncer (fixture alch_pgb), and no database of their own.
# WITH_STANDBY: programs that run on the primary and standby of fixture alch_standby instead
# of the sandbox: ALCH_DATABASE_URL is the writer's URL (target_session_attrs=read-write),
# ALCH_READER_URL the reader's (prefer-standby). test_failover spends that fixture (it stops
# the primary), so it DEPENDS on these tests. ./tutor run starts the same servers for these
# programs (LESSON_NEEDS in tutor).
function(alch_add_lesson dir)
    cmake_parse_arguments(PARSE_ARGV 1 L "" "" "PROGRAMS;SOURCES;BEHIND_PGBOUNCER;WITH_STANDBY")
    if(L_UNPARSED_ARGUMENTS)
        message(FATAL_ERROR "alch_add_lesson(${dir}): unknown arguments ${L_UNPARSED_ARGUMENTS}")
    endif()
    get_filename_component(src "${dir}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    get_filename_component(folder "${src}" NAME)
    if(NOT folder MATCHES "^([0-9][0-9])-")
        message(FATAL_ERROR "alch_add_lesson: '${folder}' is not named NN-name (e.g. 01-install)")
    endif()
    set(nn "${CMAKE_MATCH_1}")
    if(NOT L_PROGRAMS)
        set(L_PROGRAMS example)
    endif()
    set(bin "${CMAKE_CURRENT_BINARY_DIR}/${folder}")

    foreach(prog IN LISTS L_PROGRAMS)
        set(target lesson_${nn}_${prog})
        foreach(needed "${src}/${prog}.c" "${src}/${prog}.expected")
            if(NOT EXISTS "${needed}")
                message(FATAL_ERROR "alch_add_lesson(${folder}): ${needed} is missing")
            endif()
        endforeach()
        list(TRANSFORM L_SOURCES PREPEND "${src}/" OUTPUT_VARIABLE extra)
        add_executable(${target} "${src}/${prog}.c" ${extra})
        target_link_libraries(${target} PRIVATE alch)
        alch_warnings(${target})
        set_target_properties(${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${bin}")

        string(TOLOWER "lesson_${nn}_${prog}" db)
        string(REGEX REPLACE "[^a-z0-9_]" "_" db "${db}")
        set(where --db ${db})
        set(fixtures alch_pg)
        set(labels lesson)
        if(prog IN_LIST L_BEHIND_PGBOUNCER)
            set(where --env "ALCH_PGBOUNCER_URL=${ALCH_PGB_DIR}/url")
            list(APPEND fixtures alch_pgb)
        elseif(prog IN_LIST L_WITH_STANDBY)
            set(where --env "ALCH_DATABASE_URL=${ALCH_STANDBY_DIR}/url"
                      --env "ALCH_READER_URL=${ALCH_STANDBY_DIR}/reader_url")
            list(APPEND fixtures alch_standby)
            list(APPEND labels slow)
        endif()
        add_test(NAME lesson.${nn}.${prog}
                 COMMAND outcheck --url-file "${ALCH_PGTEST_DIR}/url" ${where}
                         "${src}/${prog}.expected" -- $<TARGET_FILE:${target}>
                 WORKING_DIRECTORY "${bin}")
        set_tests_properties(lesson.${nn}.${prog} PROPERTIES
            LABELS "${labels}" FIXTURES_REQUIRED "${fixtures}" TIMEOUT 120)
    endforeach()
endfunction()

# --- install and consume -------------------------------------------------------------------
# Installs alch into a temporary prefix and builds a tiny consumer against it, once through
# find_package(alch) and once through pkg-config.
add_test(NAME install.consume
         COMMAND bash "${PROJECT_SOURCE_DIR}/tools/install-consume.sh"
                 "${CMAKE_BINARY_DIR}" "${PROJECT_SOURCE_DIR}")
set_tests_properties(install.consume PROPERTIES LABELS lib TIMEOUT 300)
