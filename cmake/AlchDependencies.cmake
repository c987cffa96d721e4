# Finds what alch is built on. Each failure names the Debian package that provides it,
# so the fix is one apt-get away.
find_package(PkgConfig)
if(NOT PKG_CONFIG_FOUND)
    message(FATAL_ERROR "pkg-config not found: install it with `apt-get install pkgconf`")
endif()

function(alch_require_pkg name module debian)
    pkg_check_modules(${name} QUIET IMPORTED_TARGET GLOBAL ${module})
    if(NOT ${name}_FOUND)
        message(FATAL_ERROR
            "${module} not found (pkg-config module '${module}'). "
            "Install it with: sudo apt-get install ${debian}   (or run ./tutor, which does it)")
    endif()
    message(STATUS "Found ${module} ${${name}_VERSION}")
endfunction()

alch_require_pkg(LIBPQ libpq libpq-dev)
alch_require_pkg(LIBUV libuv libuv1-dev)
if(ALCH_BUILD_TESTS)
    alch_require_pkg(CMOCKA cmocka libcmocka-dev)
endif()
