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
    if (alch_conn_execute_text(conn, sql, NULL, 0, NULL, &err) != 0)
        check(false,
              MSG("the shop of exercise 08 takes its two teas",
                  "магазин упражнения 08 принимает свои два чая"),
              MSG("step 0001 (given) was changed: put it back as the starter has it",
                  "шаг 0001 (данный) изменён: верните его таким, как в заготовке"),
              &err);
}

/* The diff as the check's failure says it: each line indented. */
static void check_diff_empty(const char *ddl)
{
    const check_msg diff_empty = MSG("the diff is empty: the database matches the models",
                                     "разница пуста: база данных совпадает с моделями");
    if (ddl && *ddl == '\0') {
        check(true, diff_empty, NO_MSG, NULL);
        return;
    }
    printf("FAIL: %s\n", check_text(diff_empty));
    printf("%s\n", check_text(MSG("  likely: the model and your step say different things; the "
                                  "diff says what the database lacks for the models "
                                  "(./tutor db diff):",
                                  "  вероятно: модель и ваш шаг говорят разное; разница (diff) "
                                  "показывает, чего базе данных не хватает для моделей "
                                  "(./tutor db diff):")));
    for (const char *p = ddl ? ddl : check_text(MSG("(no diff)", "(разницы нет)")); *p;) {
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
    check(it != NULL, MSG("memory for an item", "память для товара"), NO_MSG, NULL);
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
            MSG("exercise 09: the quantity in the model (database/models.h and models.c), and "
                "step 0002 in database/migrations.c",
                "упражнение 09: количество (quantity) в модели (database/models.h и models.c) "
                "и шаг 0002 в database/migrations.c"));
    check(q != NULL, MSG("Item_model has a column quantity", "у Item_model есть столбец quantity"),
          MSG("ALCH_COLUMN(Item, quantity, ALCH_INTEGER, .server_default = \"0\") in item_columns",
              "ALCH_COLUMN(Item, quantity, ALCH_INTEGER, .server_default = \"0\") в item_columns"),
          NULL);
    check(q->ctype == ALCH_C_OPT_I32,
          MSG("Item.quantity is an alch_opt_i32", "Item.quantity имеет тип alch_opt_i32"),
          MSG("alch_opt_i32 quantity; in struct Item: a field left {.is_null = true} gets the "
              "server's default, a plain int32_t would send 0 as a value you set",
              "alch_opt_i32 quantity; в struct Item: поле, оставленное {.is_null = true}, "
              "получает значение по умолчанию сервера, а простой int32_t отправил бы 0 как "
              "заданное вами значение"),
          NULL);
    check(
        db_migrations.count >= 2,
        MSG("database/migrations.c has a step after 0001_shop",
            "в database/migrations.c есть шаг после 0001_shop"),
        MSG("{.id = \"0002_item_quantity\", .description = ..., .upgrade = ..., .downgrade = ...}",
            "{.id = \"0002_item_quantity\", .description = ..., .upgrade = ..., .downgrade = ...}"),
        NULL);
    alch_error err = ALCH_ERROR_INIT;
    alch_conn *conn = NULL;
    check(alch_conn_open(url, &conn, &err) == 0,
          MSG("a connection for the migrations", "соединение для миграций"), NO_MSG, &err);

    /* the shop of exercise 08, with its data */
    const char *first = db_migrations.steps[0].id;
    int rc = alch_migrate_upgrade(conn, &db_migrations, first, NULL, &err);
    check(rc == 0 && strcmp(first, "0001_shop") == 0,
          MSG("step 0001 makes the shop of exercise 08", "шаг 0001 создаёт магазин упражнения 08"),
          MSG("step 0001_shop is given: keep it first in the list, as the starter has it",
              "шаг 0001_shop дан: оставьте его первым в списке, как в заготовке"),
          &err);
    run(conn, "INSERT INTO categories (name) VALUES ('Tea')");
    run(conn, "INSERT INTO items (name, description, price, category) VALUES "
              "('Green tea', 'Steamed', 450, 1), ('Oolong', 'Half-oxidised', 700, 1)");

    size_t applied = 0;
    rc = alch_migrate_upgrade(conn, &db_migrations, NULL, &applied, &err);
    check(rc == 0,
          MSG("your steps apply to that database", "ваши шаги применяются к этой базе данных"),
          MSG("read the error: it names the step and the server's reason",
              "прочитайте ошибку: в ней названы шаг и причина, указанная сервером"),
          &err);
    check(applied == db_migrations.count - 1,
          MSG("each of your steps ran once", "каждый ваш шаг выполнен один раз"), NO_MSG, NULL);
    check(scalar(url, "SELECT count(*) FROM information_schema.columns WHERE table_name = "
                      "'items' AND column_name = 'quantity' AND data_type = 'integer' AND "
                      "is_nullable = 'NO'") == 1,
          MSG("items.quantity is INTEGER NOT NULL", "items.quantity имеет тип INTEGER NOT NULL"),
          MSG("ALTER TABLE items ADD COLUMN quantity INTEGER DEFAULT 0 NOT NULL",
              "ALTER TABLE items ADD COLUMN quantity INTEGER DEFAULT 0 NOT NULL"),
          NULL);
    check(scalar(url, "SELECT count(*) FROM information_schema.columns WHERE table_name = "
                      "'items' AND column_name = 'quantity' AND column_default = '0'") == 1,
          MSG("with the server default 0", "со значением по умолчанию сервера 0"),
          MSG("DEFAULT 0 in the step: the rows already there need a value",
              "DEFAULT 0 в шаге: строкам, которые уже есть, нужно значение"),
          NULL);
    check(scalar(url, "SELECT count(*) FROM items WHERE (name, description, price, category, "
                      "quantity) IN (('Green tea', 'Steamed', 450, 1, 0), "
                      "('Oolong', 'Half-oxidised', 700, 1, 0))") == 2 &&
              scalar(url, "SELECT count(*) FROM items") == 2,
          MSG("the two teas kept their data (and got the default quantity, 0)",
              "два чая сохранили свои данные (и получили количество по умолчанию, 0)"),
          MSG("a step that drops and re-creates items loses the shop's data: ALTER TABLE it",
              "шаг, который удаляет и заново создаёт items, теряет данные магазина: "
              "используйте ALTER TABLE"),
          NULL);

    const char *at = NULL;
    rc = alch_migrate_current(conn, &db_migrations, &at, &err);
    char what[192];
    check(rc == 0 && at && strcmp(at, db_migrations.steps[db_migrations.count - 1].id) == 0,
          MSGF(what, "the version table says head (%s)",
               "таблица версий указывает на последний шаг (head, %s)",
               db_migrations.steps[db_migrations.count - 1].id),
          NO_MSG, &err);
    rc = alch_migrate_upgrade(conn, &db_migrations, NULL, &applied, &err);
    check(rc == 0 && applied == 0,
          MSG("migrating twice changes nothing", "повторная миграция ничего не меняет"), NO_MSG,
          &err);

    /* the models against the database: db_open()'s create_all skips the tables that exist */
    rc = db_open(url, &err);
    check(rc == 0,
          MSG("db_open() succeeds on the migrated database",
              "db_open() выполняется успешно на мигрированной базе данных"),
          NO_MSG, &err);
    TODO_IF(alch_base_count(base) == 0 || session_factory == NULL,
            MSG("exercises 02-05: db_open() in database/models.c, which exercise 09 needs",
                "упражнения 02-05: db_open() в database/models.c, он нужен упражнению 09"));
    char *ddl = NULL;
    rc = alch_base_diff(base, conn, 0, &ddl, &err);
    check(rc == 0, MSG("the diff runs", "разница (diff) вычисляется"), NO_MSG, &err);
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
    check(rc == 0,
          MSG("new items go in, with and without a quantity",
              "новые товары записываются, с количеством и без"),
          NO_MSG, &err);
    check(scalar(url, "SELECT quantity FROM items WHERE name = 'Sencha'") == 0 &&
              scalar(url, "SELECT quantity FROM items WHERE name = 'Pu-erh'") == 12,
          MSG("a quantity left {.is_null = true} gets the default, a set one is kept",
              "количество, оставленное {.is_null = true}, получает значение по умолчанию, "
              "заданное сохраняется"),
          MSG("ALCH_COLUMN(Item, quantity, ALCH_INTEGER, .server_default = \"0\")",
              "ALCH_COLUMN(Item, quantity, ALCH_INTEGER, .server_default = \"0\")"),
          NULL);
    Item *back = NULL;
    alch_session_open(session_factory, &s, &err);
    rc = alch_session_get(s, &Item_model, alch_v(counted->id), (void **)&back, &err);
    alch_opt_i32 got = back ? *(alch_opt_i32 *)((char *)back + q->offset) : (alch_opt_i32){0, true};
    alch_session_close(s);
    check(rc == 0 && !got.is_null && got.value == 12,
          MSG("and an item read back has its quantity",
              "и у прочитанного обратно товара есть его количество"),
          NO_MSG, &err);
    free(fresh);
    free(counted);

    alch_conn_close(conn);
    db_close();
    check_done(url);
    return 0;
}
