/* Lesson 01, program 1: which driver and which event loop is this program running on?
 *
 * The seed installs its driver with `pip install sqlalchemy asyncpg`. Here the driver is
 * libpq and the event loop is libuv; this program asks each one for its version. */
#include <stdio.h>

#include <uv.h>

#include <alch/alch.h>

int main(void)
{
    //! [libpq]
    /* libpq reports its version as one number: 150018 means 15.18
     * (major * 10000 + minor, for libpq 10 and newer). */
    int pq = alch_libpq_version();
    printf("libpq, the driver:      %d.%d\n", pq / 10000, pq % 10000);
    //! [libpq]

    //! [libuv]
    /* libuv gives a ready-made string, such as "1.44.2". */
    printf("libuv, the event loop:  %s\n", uv_version_string());
    //! [libuv]

    //! [alch]
    /* alch's version comes from its header, alch/version.h. */
    printf("alch, the library:      %s\n", ALCH_VERSION_STRING);
    //! [alch]

    //! [match]
    /* A -dev package installs headers (read when compiling) and the library (loaded
     * when running). Both must have the same major version. */
    unsigned int compiled = UV_VERSION_HEX;
    unsigned int running = uv_version();
    printf("libuv headers match the library: %s\n", compiled >> 16 == running >> 16 ? "yes" : "no");
    //! [match]
    return 0;
}
