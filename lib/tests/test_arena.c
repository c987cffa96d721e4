/* The arena's memory: blocks kept across a reset, huge pages for a large arena. No database. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/arena.h"

enum { PIECES = 200, PIECE = 500 };

static bool all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* A stream's batch after batch: the same allocations after a reset land in the same blocks,
 * zeroed, and the arena holds no more than after the first round. */
static void test_reset_keeps_blocks(void **state)
{
    (void)state;
    alch__arena a = {0};
    unsigned char *first[PIECES];
    size_t held = 0;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < PIECES; i++) {
            unsigned char *p = alch__arena_alloc(&a, PIECE);
            assert_non_null(p);
            assert_true(all_zero(p, PIECE));
            if (round == 0)
                first[i] = p;
            else
                assert_ptr_equal(p, first[i]);
            memset(p, 0xab, PIECE);
        }
        if (round == 0)
            held = a.held;
        assert_int_equal(a.held, held);
        alch__arena_reset(&a);
    }
    /* one allocation larger than a block has its own, freed at the reset */
    assert_non_null(alch__arena_alloc(&a, 100 * 1024));
    assert_true(a.held > held);
    alch__arena_reset(&a);
    assert_int_equal(a.held, held);
    alch__arena_free(&a);
    assert_int_equal(a.held, 0);
    assert_null(a.head);
    assert_null(a.kept);
}

/* Is the mapping holding p allowed transparent huge pages (/proc/self/smaps, THPeligible)?
 * -1 when the kernel does not say. */
static int thp_eligible(const void *p)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f)
        return -1;
    char line[512];
    bool inside = false;
    int eligible = -1;
    uintptr_t at = (uintptr_t)p;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            inside = lo <= at && at < hi;
            continue;
        }
        if (inside && sscanf(line, "THPeligible: %d", &eligible) == 1)
            break;
    }
    fclose(f);
    return eligible;
}

static bool thp_offered(void)
{
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    char line[128] = "";
    if (f) {
        if (!fgets(line, sizeof line, f))
            line[0] = '\0';
        fclose(f);
    }
    return line[0] && !strstr(line, "[never]");
}

/* Past 1 MiB an arena's blocks are 2 MiB on a 2 MiB boundary, offered for huge pages: rows
 * loaded by the hundred thousand then fault once per 2 MiB instead of once per 4 KiB. */
static void test_large_arena_huge_pages(void **state)
{
    (void)state;
    alch__arena a = {0};
    const uintptr_t huge = 2 * 1024 * 1024;
    unsigned char *p = NULL, *last = NULL;
    size_t pairs = 0;
    while (a.held < 7 * huge) {
        p = alch__arena_alloc(&a, 64);
        assert_non_null(p);
        /* two neighbours in a huge block never straddle a 2 MiB boundary: it is aligned */
        if (a.held > huge + huge / 4 && last && p == last + 64) {
            assert_true((uintptr_t)last / huge == ((uintptr_t)p + 63) / huge);
            pairs++;
        }
        last = p;
    }
    assert_true(pairs > 3 * huge / 64);
    int eligible = thp_eligible(p);
    if (eligible < 0 || !thp_offered())
        printf("transparent huge pages are not offered here: alignment checked only\n");
    else
        assert_int_equal(eligible, 1);
    alch__arena_free(&a);
    assert_int_equal(a.held, 0);
}

/* One large allocation (a result's structs): zeroed, on a 2 MiB boundary, writable to its
 * end, offered for huge pages. */
static void test_huge_alloc(void **state)
{
    (void)state;
    size_t size = 3 * ALCH__HUGE_PAGE + 100;
    unsigned char *p = alch__huge_alloc(size);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % ALCH__HUGE_PAGE, 0);
    assert_true(all_zero(p, 4096) && all_zero(p + size - 4096, 4096));
    memset(p + size - 4096, 0xab, 4096);
    int eligible = thp_eligible(p + size - 1);
    if (eligible < 0 || !thp_offered())
        printf("transparent huge pages are not offered here: alignment checked only\n");
    else
        assert_int_equal(eligible, 1);
    alch__huge_free(p, size);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_keeps_blocks),
        cmocka_unit_test(test_large_arena_huge_pages),
        cmocka_unit_test(test_huge_alloc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
