/* Lesson 06, program 3: mistakes the builder catches before any SQL is sent.
 *
 * The first one is in many copies of the seed's bot: the item id arrives inside a text
 * (Telegram's callback data "item_5"), and callback.data.split('_')[1] passes the text "5"
 * on as if it were a number. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "requests.h"

static void print_error(alch_error *err)
{
    char *text = alch_error_format(err);
    printf("%s\n", text ? text : "out of memory");
    free(text);
    alch_error_clear(err);
}

//! [parse_id]
/* "item_5" -> 5; false when the text after '_' is not a whole number. */
static bool parse_id(const char *callback_data, int64_t *id)
{
    const char *digits = strchr(callback_data, '_');
    if (!digits || !digits[1])
        return false;
    char *end;
    errno = 0;
    long long n = strtoll(digits + 1, &end, 10);
    if (errno || *end != '\0' || n <= 0)
        return false;
    *id = n;
    return true;
}
//! [parse_id]

int main(void)
{
    alch_error err = ALCH_ERROR_INIT;
    if (models_init(getenv("ALCH_DATABASE_URL"), true, &err) != 0) {
        print_error(&err);
        return 1;
    }
    alch_engine_set_echo(engine, true);
    alch_session *s;
    alch_session_open(session_factory, &s, &err);
    Item *item;

    //! [string_id]
    const char *callback_data = "item_5";
    const char *id_text = strchr(callback_data, '_') + 1; /* "5": still a text */
    alch_stmt *st = alch_select(&Item_model);
    alch_where(st, alch_eq(ALCH_COL(Item, id), id_text));
    if (alch_session_scalar_one_or_none(s, st, (void **)&item, &err) != 0)
        print_error(&err);
    alch_stmt_free(st);
    //! [string_id]

    //! [fixed]
    int64_t id;
    if (!parse_id(callback_data, &id))
        printf("'%s' does not name an item\n", callback_data);
    else if (get_item(s, id, &item, &err) == 0 && item)
        printf("item %lld is %s\n", (long long)id, item->name);
    if (!parse_id("item_5; DROP TABLE items", &id))
        printf("'%s' does not name an item\n", "item_5; DROP TABLE items");
    //! [fixed]

    //! [null]
    st = alch_select(&Item_model);
    alch_where(st, alch_eq(ALCH_COL(Item, description), alch_null()));
    if (alch_session_scalars(s, st, NULL, &err) != 0)
        print_error(&err);
    alch_stmt_free(st);
    //! [null]

    //! [join]
    st = alch_select(&Item_model);
    alch_where(st, alch_eq(ALCH_COL(Category, name), "Tea"));
    if (alch_session_scalars(s, st, NULL, &err) != 0)
        print_error(&err);
    alch_join(st, &Category_model); /* the fix: join along items.category */
    alch_list items;
    if (alch_session_scalars(s, st, &items, &err) == 0)
        printf("%zu items in Tea\n", items.count);
    alch_stmt_free(st);
    //! [join]

    alch_session_close(s);
    models_close();
    return 0;
}
