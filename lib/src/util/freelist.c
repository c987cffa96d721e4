/* Chunks kept for reuse: see freelist.h. */
#include "util/freelist.h"

#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define HIDE(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define SHOW(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#define LINK(p) ASAN_UNPOISON_MEMORY_REGION((p), sizeof(void *))
#elif defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define HIDE(p, n) VALGRIND_MAKE_MEM_NOACCESS((p), (n))
#define SHOW(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n)) /* as malloc leaves it */
#define LINK(p) VALGRIND_MAKE_MEM_DEFINED((p), sizeof(void *)) /* the link we wrote */
#endif
#endif
#ifndef HIDE
#define HIDE(p, n) ((void)(p), (void)(n))
#define SHOW(p, n) ((void)(p), (void)(n))
#define LINK(p) ((void)(p))
#endif

void *alch__freelist_get(alch__freelist *fl)
{
    void **p = fl->head;
    if (!p)
        return malloc(fl->size);
    LINK(p); /* the link first, then the whole chunk */
    fl->head = *p;
    fl->n--;
    SHOW(p, fl->size);
    return p;
}

void alch__freelist_put(alch__freelist *fl, void *p)
{
    if (!p)
        return;
    if (fl->n >= fl->max) {
        free(p);
        return;
    }
    *(void **)p = fl->head;
    fl->head = p;
    fl->n++;
    HIDE(p, fl->size);
}

void alch__freelist_drain(alch__freelist *fl)
{
    while (fl->head) {
        void **p = fl->head;
        LINK(p);
        fl->head = *p;
        free(p);
    }
    fl->n = 0;
}
