/* Exercise 09 (lesson 08): items get a quantity, through a migration. The check makes the
 * shop as exercise 08 left it (step 0001 only, two teas for sale), then applies your steps
 * and looks at what they did: the column, the data kept, the version table, a second run, and
 * the diff between your models and the database. */
#include "check.h"
#include "migrations.h"
#include "models.h"

static void run(alch_conn *conn, const char *sql)
{
    alch_error err = ALCH_ERROR_INIT;
    if (alch_conn_execute(conn, sql, NULL, 0, NULL, &err) != 0)
        check(false, "the shop of exercise 08 takes its two teas",
              "step 0001 (given) was changed: put it back as the starter has it", &err);
}

/* The diff as the check's failure says it: each line indented. */
static void check_diff_empty(const char *ddl)
{
    if (ddl && *ddl == '\0') {
        check(true, "the diff is empty: the database matches the models", NULL, NULL);
        return;
    }
    printf("FAIL: the diff is empty: the database matches the models\n");
    printf("  likely: the model and your step say different things; the diff says what the "
           "database lacks for the models (./tutor db diff):\n");
    for (const char *p = ddl ? ddl : "(no diff)"; *p;) {
        const char *nl = strchr(p, '\n');
        int n = nl ? (int)(nl - p) : (int)strlen(p);
        printf("    %.*s\n", n, p);
        p += n + (nl != NULL);
    }
    exit(1);
}

/* Item's quantity column, or NULL: found through the model, so this check also compiles
 * against a struct Item without the field. */
static const alch_column *quantity_column(void)
{
    for (size_t i = 0; i < Item_model.ncolumns; i++)
        if (strcmp(Item_model.columns[i].name, "quantity") == 0)
            return &Item_model.columns[i];
    return NULL;
}

/* A new item, its quantity NULL (left to the server's default) or set. */
static Item *new_item(const alch_column *q, const char *name, bool has_quantity, int32_t n)
{
    Item *it = calloc(1, Item_model.size);
    check(it != NULL, "memory for an item", NULL, NULL);
    it->name = (char *)name;
    it->description = "tea";
    it->price = 500;
    it->category = 1;
    *(alch_opt_i32 *)((char *)it + q->offset) = (alch_opt_i32){n, !has_quantity};
    return it;
}

int main(void)
{
    char *url = check_connects("ex09");
    const alch_column *q = quantity_column();
    TODO_IF(db_migrations.count < 2 && !q,
            "exercise 09: the quantity in the model (database/models.h and models.c), and step "
            "0002 in database/migrations.c");
    check(q != NULL, "Item_model has a column quantity",
          "ALCH_COLUMN(Item, quantity, ALCH_INTEGER, .server_default = \"0\") in item_columns",
          NULL);
    check(q->ctype == ALCH_C_OPT_I32, "Item.quantity is an alch_opt_i32",
          "alch_opt_i32 quantity; in struct Item: a field left {.is_null = true} gets the "
          "server's default, a plain int32_t would send 0 as a value you set", NULL);
    check(db_migrations.count >= 2, "database/migrations.c has a step after 0001_shop",
          "{.id = \"0002_item_quantity\", .description = ..., .upgrade = ..., .downgrade = ...}",
          NULL);
    alch_error err = ALCH_ERROR_INIT;
    alch_conn *conn = NULL;
    check(alch_conn_open(url, &conn, &err) == 0, "a connection for the migrations", NULL, &err);

    /* the shop of exercise 08, with its data */
    const char *first = db_migrations.steps[0].id;
    int rc = alch_migrate_upgrade(conn, &db_migrations, first, NULL, &err);
    check(rc == 0 && strcmp(first, "0001_shop") == 0, "step 0001 makes the shop of exercise 08",
          "step 0001_shop is given: keep it first in the list, as the starter has it", &err);
    run(conn, "INSERT INTO categories (name) VALUES ('Tea')");
    run(conn, "INSERT INTO items (name, description, price, category) VALUES "
              "('Green tea', 'Steamed', 450, 1), ('Oolong', 'Half-oxidised', 700, 1)");

    size_t applied = 0;
    rc = alch_migrate_upgrade(conn, &db_migrations, NULL, &applied, &err);
    check(rc == 0, "your steps apply to that database",
          "read the error: it names the step and the server's reason", &err);
    check(applied == db_migrations.count - 1, "each of your steps ran once", NULL, NULL);
    check(scalar(url, "SELECT count(*) FROM information_schema.columns WHERE table_name = "
                      "'items' AND column_name = 'quantity' AND data_type = 'integer' AND "
                      "is_nullable = 'NO'") == 1,
          "items.quantity is INTEGER NOT NULL",
          "ALTER TABLE items ADD COLUMN quantity INTEGER DEFAULT 0 NOT NULL", NULL);
    check(scalar(url, "SELECT count(*) FROM information_schema.columns WHERE table_name = "
                      "'items' AND column_name = 'quantity' AND column_default = '0'") == 1,
          "with the server default 0",
          "DEFAULT 0 in the step: the rows already there need a value", NULL);
    check(scalar(url, "SELECT count(*) FROM items WHERE (name, description, price, category, "
                      "quantity) IN (('Green tea', 'Steamed', 450, 1, 0), "
                      "('Oolong', 'Half-oxidised', 700, 1, 0))") == 2 &&
              scalar(url, "SELECT count(*) FROM items") == 2,
          "the two teas kept their data (and got the default quantity, 0)",
          "a step that drops and re-creates items loses the shop's data: ALTER TABLE it", NULL);

    const char *at = NULL;
    rc = alch_migrate_current(conn, &db_migrations, &at, &err);
    char what[160];
    snprintf(what, sizeof what, "the version table says head (%s)",
             db_migrations.steps[db_migrations.count - 1].id);
    check(rc == 0 && at && strcmp(at, db_migrations.steps[db_migrations.count - 1].id) == 0, what,
          NULL, &err);
    rc = alch_migrate_upgrade(conn, &db_migrations, NULL, &applied, &err);
    check(rc == 0 && applied == 0, "migrating twice changes nothing", NULL, &err);

    /* the models against the database: db_open()'s create_all skips the tables that exist */
    rc = db_open(url, &err);
    check(rc == 0, "db_open() succeeds on the migrated database", NULL, &err);
    TODO_IF(alch_base_count(base) == 0 || session_factory == NULL,
            "exercises 02-05: db_open() in database/models.c, which exercise 09 needs");
    char *ddl = NULL;
    rc = alch_base_diff(base, conn, 0, &ddl, &err);
    check(rc == 0, "the diff runs", NULL, &err);
    check_diff_empty(ddl);
    free(ddl);

    /* the model writes and reads the new column */
    alch_session *s = NULL;
    rc = alch_session_open(session_factory, &s, &err);
    Item *fresh = new_item(q, "Sencha", false, 0), *counted = new_item(q, "Pu-erh", true, 12);
    if (rc == 0)
        rc = alch_session_add(s, &Item_model, fresh, &err);
    if (rc == 0)
        rc = alch_session_add(s, &Item_model, counted, &err);
    if (rc == 0)
        rc = alch_session_commit(s, &err);
    alch_session_close(s);
    check(rc == 0, "new items go in, with and without a quantity", NULL, &err);
    check(scalar(url, "SELECT quantity FROM items WHERE name = 'Sencha'") == 0 &&
              scalar(url, "SELECT quantity FROM items WHERE name = 'Pu-erh'") == 12,
          "a quantity left {.is_null = true} gets the default, a set one is kept",
          "ALCH_COLUMN(Item, quantity, ALCH_INTEGER, .server_default = \"0\")", NULL);
    Item *back = NULL;
    alch_session_open(session_factory, &s, &err);
    rc = alch_session_get(s, &Item_model, alch_v(counted->id), (void **)&back, &err);
    alch_opt_i32 got = back ? *(alch_opt_i32 *)((char *)back + q->offset) : (alch_opt_i32){0, true};
    alch_session_close(s);
    check(rc == 0 && !got.is_null && got.value == 12, "and an item read back has its quantity",
          NULL, &err);
    free(fresh);
    free(counted);

    alch_conn_close(conn);
    db_close();
    alch_test_db_drop(url);
    return 0;
}
