/* Lesson 06, program 4: a big answer, read in batches.
 *
 * alch_session_scalars() holds every row at once. For a table of a million items, ask for
 * them in batches instead: the memory used is one batch, whatever the table's size. */
#include <stdio.h>
#include <stdlib.h>

#include "requests.h"

int main(void)
{
    alch_error err = ALCH_ERROR_INIT;
    if (models_init(getenv("ALCH_DATABASE_URL"), true, &err) != 0)
        return 1;
    alch_engine_set_echo(engine, true);
    alch_session *s;
    alch_session_open(session_factory, &s, &err);

    //! [stream]
    alch_stmt *st = alch_select(&Item_model);
    alch_order_by(st, ALCH_COL(Item, id));
    alch_stream *stream;
    if (alch_session_stream(s, st, 2, &stream, &err) == 0) {
        alch_list batch;
        while (alch_stream_next(stream, &batch, &err) == 1) {
            printf("a batch of %zu:", batch.count);
            for (size_t i = 0; i < batch.count; i++)
                printf(" %s", ((Item *)batch.items[i])->name);
            printf("\n");
        }
        alch_stream_close(stream);
    }
    alch_stmt_free(st);
    //! [stream]

    alch_error_clear(&err);
    alch_session_close(s);
    models_close();
    return 0;
}
