/* The migration tool of your database package: ./tutor db migrate|diff|history|downgrade runs
 * it on your shop's database, with your models (models.c) and your steps (migrations.c).
 *
 *   migrate_exercise URL migrate [ID]     apply the missing steps (up to ID), under echo
 *   migrate_exercise URL diff             the DDL your models need and the database lacks
 *   migrate_exercise URL history          every step, [x] applied or [ ] not yet
 *   migrate_exercise URL downgrade [ID]   undo the steps after ID (all of them without ID)
 *
 * Alembic's commands (upgrade, revision --autogenerate, history, downgrade) for this course. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrations.h"
#include "models.h"
#include "msg.h" /* its sentences in the learner's language (ALCH_LANG=ru) */

static int fail(alch_error *err)
{
    char *text = alch_error_format(err);
    fprintf(stderr, "%s\n", text ? text : check_text(MSG("out of memory", "не хватает памяти")));
    free(text);
    alch_error_clear(err);
    return 1;
}

/* The shop's models, as db_open() adds them, without creating anything. */
static int shop_base(alch_base **out, alch_error *err)
{
    int rc = alch_base_create(out, err);
    if (rc == 0)
        rc = alch_base_add(*out, &User_model, err);
    if (rc == 0)
        rc = alch_base_add(*out, &Category_model, err);
    if (rc == 0)
        rc = alch_base_add(*out, &Item_model, err);
    return rc;
}

static int where_now(alch_conn *conn, alch_error *err)
{
    const char *at = NULL;
    if (alch_migrate_current(conn, &db_migrations, &at, err) != 0)
        return fail(err);
    const char *head = db_migrations.count ? db_migrations.steps[db_migrations.count - 1].id : "";
    if (!at)
        printf("%s\n", check_text(MSG("your shop's database has no step applied",
                                      "в базе данных вашего магазина не применён ни один шаг")));
    else
        SAY("your shop's database is at %s%s\n", "база данных вашего магазина на шаге %s%s\n", at,
            strcmp(at, head) != 0
                ? ""
                : check_text(MSG(" (the head: the newest step)", " (head: самый новый шаг)")));
    return 0;
}

static int diff(alch_conn *conn, alch_error *err)
{
    alch_base *models = NULL;
    char *ddl = NULL;
    int rc = shop_base(&models, err);
    if (rc == 0)
        rc = alch_base_diff(models, conn, 0, &ddl, err);
    alch_base_free(models);
    if (rc != 0)
        return fail(err);
    if (*ddl == '\0')
        printf("%s\n",
               check_text(MSG("nothing: your shop's database matches your models",
                              "ничего: база данных вашего магазина совпадает с вашими моделями")));
    else
        SAY("%s\nreview it, paste it into a new step in database/migrations.c, then run "
            "./tutor db migrate\n",
            "%s\nпросмотрите его, вставьте в новый шаг в database/migrations.c, затем запустите "
            "./tutor db migrate\n",
            ddl);
    free(ddl);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        SAY_TO(stderr, "usage: %s URL migrate|diff|history|downgrade [ID]\n",
               "использование: %s URL migrate|diff|history|downgrade [ID]\n", argv[0]);
        return 2;
    }
    const char *url = argv[1], *cmd = argv[2], *target = argc == 4 ? argv[3] : NULL;
    alch_error err = ALCH_ERROR_INIT;
    alch_engine_options opts = alch_engine_options_default();
    opts.echo = strcmp(cmd, "migrate") == 0 || strcmp(cmd, "downgrade") == 0;
    alch_engine *tool = NULL; /* not the package's engine: db_open() would run create_all */
    alch_conn *conn = NULL;
    if (alch_engine_create(url, &opts, &tool, &err) != 0 ||
        alch_engine_connect(tool, &conn, &err) != 0) {
        alch_engine_free(tool);
        return fail(&err);
    }
    int status = 0;
    size_t n = 0;
    if (strcmp(cmd, "migrate") == 0) {
        if (alch_migrate_upgrade(conn, &db_migrations, target, &n, &err) != 0)
            status = fail(&err);
        else
            SAY("applied %zu step(s)\n", "применено шагов: %zu\n", n);
    } else if (strcmp(cmd, "downgrade") == 0) {
        if (alch_migrate_downgrade(conn, &db_migrations, target, &n, &err) != 0)
            status = fail(&err);
        else
            SAY("undid %zu step(s)\n", "отменено шагов: %zu\n", n);
    } else if (strcmp(cmd, "history") == 0) {
        if (alch_migrate_history(conn, &db_migrations, stdout, &err) != 0)
            status = fail(&err);
    } else if (strcmp(cmd, "diff") == 0) {
        status = diff(conn, &err);
    } else {
        SAY_TO(stderr, "unknown command '%s': migrate, diff, history or downgrade\n",
               "неизвестная команда '%s': migrate, diff, history или downgrade\n", cmd);
        status = 2;
    }
    if (status == 0 && strcmp(cmd, "diff") != 0) {
        alch_engine_set_echo(tool, false);
        status = where_now(conn, &err);
    }
    alch_conn_close(conn);
    alch_engine_free(tool);
    return status;
}
