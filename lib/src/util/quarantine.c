/* Freed handles kept a while: see quarantine.h. */
#include "util/quarantine.h"

void alch__quarantine_put(alch__quarantine *q, void *p)
{
    size_t i = atomic_fetch_add(&q->next, 1) % ALCH__QUARANTINE_SIZE;
    void *old = atomic_exchange(&q->slot[i], p); /* each old header is taken exactly once */
    if (old)
        q->release(old);
}

void alch__quarantine_drain(alch__quarantine *q)
{
    for (size_t i = 0; i < ALCH__QUARANTINE_SIZE; i++) {
        void *old = atomic_exchange(&q->slot[i], NULL);
        if (old)
            q->release(old);
    }
}
