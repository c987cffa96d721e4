/**
 * @file main.c
 * @brief The smallest program built against an installed alch: prints the versions.
 */
#include <stdio.h>

#include <alch/alch.h>

int main(void)
{
    int pq = alch_libpq_version();
    printf("alch %s, libpq %d.%d (%d)\n", ALCH_VERSION_STRING, pq / 10000, pq % 10000, pq);
    return pq > 0 ? 0 : 1;
}
