/* The check chain's crash report, checked: a test program that crashes after one passing
 * check shows that check, then the crash with the mistake that usually causes it.
 * `crash segv` gets SIGSEGV (as a bad pointer does); `crash abort` aborts (as a double free
 * does). */
#include <string.h>

#include "check.h"

int main(int argc, char **argv)
{
    check(true, MSG("started", "запущено"), NO_MSG, NULL);
    if (argc > 1 && strcmp(argv[1], "abort") == 0)
        abort();
    raise(SIGSEGV); /* what reading through a freed or never-set pointer ends in */
    return 0;
}
