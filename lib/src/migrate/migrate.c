/* Versioned migrations: an ordered list of steps, each applied once, in its own transaction,
 * recorded in the version table, under an advisory lock (Alembic's upgrade, downgrade,
 * current and history).
 *
 * The truth is in the database, read again under the lock before anything changes: a second
 * program that waited for the lock sees the steps the first one recorded and applies none of
 * them. A step's statements and its row commit together, so a step is applied or it is not.
 * The lock is a session lock, held from the first step to the last and released on every path
 * (a program that dies loses its connection, and the server releases the lock with it). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alch/migrate.h"
#include "driver/driver.h"
#include "driver/error_internal.h"
#include "migrate/migrate_internal.h"
#include "util/buf.h"
#include "util/suggest.h"

/* ---- the list ------------------------------------------------------------------------- */

static int check_list(const alch_conn *conn, const alch_migrations *m, const char *fn,
                      alch_error *err)
{
    if (!conn || !m || (m->count && !m->steps))
        return alch__error_set(err, ALCH_EMISUSE, "%s needs a connection and a list of steps", fn);
    if (alch_conn_in_transaction(conn)) {
        alch__error_set(err, ALCH_EMISUSE, "%s: a transaction is open on this connection", fn);
        alch__error_hint(err, "commit or roll it back first: each step runs in a transaction "
                              "of its own");
        return ALCH_EMISUSE;
    }
    for (size_t i = 0; i < m->count; i++) {
        const alch_migration *s = &m->steps[i];
        if (!s->id || !s->id[0])
            return alch__error_set(err, ALCH_EARGUMENT, "migration step %zu has no id", i + 1);
        for (size_t j = 0; j < i; j++)
            if (strcmp(m->steps[j].id, s->id) == 0)
                return alch__error_set(err, ALCH_EARGUMENT,
                                       "migration id '%s' is used by steps %zu and %zu: each "
                                       "step needs an id of its own",
                                       s->id, j + 1, i + 1);
        if (!s->upgrade == !s->upgrade_fn)
            return alch__error_set(err, ALCH_EARGUMENT,
                                   "migration step '%s' needs exactly one of .upgrade (SQL) and "
                                   ".upgrade_fn (C)",
                                   s->id);
        if (s->downgrade && s->downgrade_fn)
            return alch__error_set(err, ALCH_EARGUMENT,
                                   "migration step '%s' has both .downgrade and .downgrade_fn: "
                                   "keep one",
                                   s->id);
    }
    return 0;
}

static long find_step(const alch_migrations *m, const char *id)
{
    for (size_t i = 0; i < m->count; i++)
        if (strcmp(m->steps[i].id, id) == 0)
            return (long)i;
    return -1;
}

/* The index of target, or -1 for NULL; an unknown id is an error with the closest id. */
static int find_target(const alch_migrations *m, const char *target, long *out, alch_error *err)
{
    *out = -1;
    if (!target)
        return 0;
    *out = find_step(m, target);
    if (*out >= 0)
        return 0;
    const char **ids = calloc(m->count ? m->count : 1, sizeof *ids);
    if (!ids)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    for (size_t i = 0; i < m->count; i++)
        ids[i] = m->steps[i].id;
    const char *near = alch__suggest(target, ids, m->count);
    alch__error_set(err, ALCH_EARGUMENT, "no migration step has the id '%s'", target);
    if (near)
        alch__error_hint(err, "did you mean '%s'?", near);
    free(ids);
    return ALCH_EARGUMENT;
}

/* ---- the version table ------------------------------------------------------------------ */

static const char version_ddl[] =
    "CREATE TABLE IF NOT EXISTS " ALCH_VERSION_TABLE " (\n"
    "    id TEXT NOT NULL,\n"
    "    description TEXT NOT NULL,\n"
    "    applied_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,\n"
    "    CONSTRAINT pk_" ALCH_VERSION_TABLE " PRIMARY KEY (id)\n"
    ")";

/* What the database records: applied[i] for each step of the list, and `at`, the number of
 * steps applied (they must be the first `at` of the list). */
typedef struct version_state {
    bool *applied;
    size_t at;
} version_state;

static int table_exists(alch_conn *conn, bool *exists, alch_error *err)
{
    alch_value name = alch_text(ALCH_VERSION_TABLE);
    alch_result *res;
    int rc =
        alch_conn_execute_text(conn, "SELECT to_regclass($1) IS NOT NULL", &name, 1, &res, err);
    if (rc == 0)
        rc = alch_result_get_bool(res, 0, 0, exists, err);
    if (rc == 0)
        alch_result_free(res);
    return rc;
}

/* The recorded ids against the list: each must be a step, and they must be a prefix of it. */
static int check_recorded(const alch_migrations *m, version_state *st, alch_result *res,
                          alch_error *err)
{
    for (size_t r = 0; r < alch_result_rows(res); r++) {
        const char *id;
        int rc = alch_result_get_text(res, r, 0, &id, err);
        if (rc)
            return rc;
        long i = find_step(m, id);
        if (i < 0) {
            alch__error_set(err, ALCH_EARGUMENT,
                            "the database records migration step '%s', which this program's "
                            "list does not have",
                            id);
            alch__error_hint(err, "a newer program migrated this database: run that one, or "
                                  "add the step to this list");
            return ALCH_EARGUMENT;
        }
        st->applied[i] = true;
        if ((size_t)i + 1 > st->at)
            st->at = (size_t)i + 1;
    }
    for (size_t i = 0; i < st->at; i++) {
        if (st->applied[i])
            continue;
        alch__error_set(err, ALCH_EARGUMENT,
                        "migration step '%s' is not applied, but the later step '%s' is",
                        m->steps[i].id, m->steps[st->at - 1].id);
        alch__error_hint(err, "new steps go at the end of the list, after the ones the "
                              "database already has");
        return ALCH_EARGUMENT;
    }
    return 0;
}

/* known: the version table is known to exist (the upgrade has just made sure of it). */
static int read_state(alch_conn *conn, const alch_migrations *m, bool known, version_state *st,
                      alch_error *err)
{
    st->at = 0;
    st->applied = calloc(m->count ? m->count : 1, sizeof *st->applied);
    if (!st->applied)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    bool exists = known;
    int rc = known ? 0 : table_exists(conn, &exists, err);
    if (rc || !exists)
        return rc;
    alch_result *res;
    rc = alch_conn_execute_text(conn, "SELECT id FROM " ALCH_VERSION_TABLE " ORDER BY id", NULL, 0,
                                &res, err);
    if (rc)
        return rc;
    rc = check_recorded(m, st, res, err);
    alch_result_free(res);
    return rc;
}

static const char *at_name(const alch_migrations *m, size_t at)
{
    return at ? m->steps[at - 1].id : "its start (no step applied)";
}

/* ---- running one step ---------------------------------------------------------------- */

static int run_sql(alch_conn *conn, const char *sql, alch_error *err)
{
    char **stmts;
    size_t n;
    if (alch__split_sql(sql, &stmts, &n) != 0)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = alch_conn_execute_text(conn, stmts[i], NULL, 0, NULL, err);
    alch__split_free(stmts, n);
    return rc;
}

/* Put the step's name in front of the message of the error that stopped it. */
static void name_the_step(alch_error *err, const alch_migration *s, const char *what,
                          const char *stays)
{
    if (!err)
        return;
    alch__buf b = ALCH__BUF_INIT;
    alch__buf_printf(&b, "migration step '%s' (%s) failed to %s and was rolled back; the "
                         "database stays at %s: %s",
                     s->id, s->description ? s->description : "no description", what, stays,
                     err->message ? err->message : alch_strerror(err->code));
    char *text = alch__buf_finish(&b);
    if (!text)
        return;
    free(err->message);
    err->message = text;
    if (!err->hint)
        alch__error_hint(err, "fix the step and run again: the steps before it are kept");
}

/* One step, one transaction: BEGIN, the step, its row in the version table, COMMIT. */
static int apply_step(alch_conn *conn, const alch_migrations *m, size_t i, bool up,
                      alch_error *err)
{
    const alch_migration *s = &m->steps[i];
    alch__echo_line(alch__conn_echo(conn), "migrate: %s %s (%s)", up ? "upgrade" : "downgrade",
                    s->id, s->description ? s->description : "");
    int rc = alch_conn_begin(conn, err);
    if (rc)
        return rc;
    const char *sql = up ? s->upgrade : s->downgrade;
    alch_migration_fn fn = up ? s->upgrade_fn : s->downgrade_fn;
    rc = sql ? run_sql(conn, sql, err) : fn(conn, s->data, err);
    if (rc == 0 && fn && alch_conn_busy(conn))
        rc = alch__error_set(err, ALCH_EMISUSE, "the step's function returned while a "
                                                "statement was still running");
    if (rc == 0 && !alch_conn_in_transaction(conn))
        rc = alch__error_set(err, ALCH_EMISUSE,
                             "the step's function ended its transaction: leave COMMIT and "
                             "ROLLBACK to alch_migrate_*");
    if (rc == 0 && up) {
        alch_value row[] = {alch_text(s->id), alch_text(s->description ? s->description : "")};
        rc = alch_conn_execute_text(
            conn, "INSERT INTO " ALCH_VERSION_TABLE " (id, description) VALUES ($1, $2)", row, 2,
            NULL, err);
    } else if (rc == 0) {
        alch_value id = alch_text(s->id);
        rc = alch_conn_execute_text(conn, "DELETE FROM " ALCH_VERSION_TABLE " WHERE id = $1", &id,
                                    1, NULL, err);
    }
    if (rc == 0)
        rc = alch_conn_commit(conn, err);
    if (rc) {
        alch_error scratch = ALCH_ERROR_INIT;
        alch_conn_rollback(conn, &scratch);
        alch_error_clear(&scratch);
        name_the_step(err, s, up ? "apply" : "undo", at_name(m, up ? i : i + 1));
    }
    return rc;
}

/* ---- the lock ----------------------------------------------------------------------- */

/* A session lock: it outlives the transactions of the steps. On a pooled connection the
 * statement opens an implicit transaction, ended at once (the lock stays). */
static int advisory(alch_conn *conn, const char *sql, alch_error *err)
{
    alch_value key = alch_int(ALCH_MIGRATION_LOCK_KEY);
    int rc = alch_conn_execute_text(conn, sql, &key, 1, NULL, err);
    if (rc == 0)
        rc = alch_conn_commit(conn, err);
    return rc;
}

static int lock(alch_conn *conn, alch_error *err)
{
    return advisory(conn, "SELECT pg_advisory_lock($1)", err);
}

static void unlock(alch_conn *conn)
{
    alch_error scratch = ALCH_ERROR_INIT;
    alch_conn_rollback(conn, &scratch);
    advisory(conn, "SELECT pg_advisory_unlock($1)", &scratch);
    alch_error_clear(&scratch);
}

/* Under the lock: the version table, the state, then the steps one by one. */
static int upgrade_locked(alch_conn *conn, const alch_migrations *m, long target, size_t *done,
                          alch_error *err)
{
    int rc = alch_conn_execute_text(conn, version_ddl, NULL, 0, NULL, err);
    version_state st = {NULL, 0};
    if (rc == 0)
        rc = read_state(conn, m, true, &st, err);
    if (rc == 0)
        rc = alch_conn_commit(conn, err);
    size_t end = target < 0 ? m->count : (size_t)target + 1;
    if (rc == 0 && st.at >= end)
        alch__echo_line(alch__conn_echo(conn), "migrate: at %s, nothing to upgrade",
                        at_name(m, st.at));
    for (size_t i = st.at; rc == 0 && i < end; i++) {
        rc = apply_step(conn, m, i, true, err);
        *done += rc == 0;
    }
    free(st.applied);
    return rc;
}

int alch_migrate_upgrade(alch_conn *conn, const alch_migrations *m, const char *target,
                         size_t *applied, alch_error *err)
{
    size_t done = 0;
    long t;
    int rc = check_list(conn, m, "alch_migrate_upgrade", err);
    if (rc == 0)
        rc = find_target(m, target, &t, err);
    if (rc == 0)
        rc = lock(conn, err);
    if (rc == 0) {
        rc = upgrade_locked(conn, m, t, &done, err);
        unlock(conn);
    }
    if (applied)
        *applied = done;
    return rc;
}

static int downgrade_locked(alch_conn *conn, const alch_migrations *m, long target,
                            size_t *done, alch_error *err)
{
    version_state st = {NULL, 0};
    int rc = read_state(conn, m, false, &st, err);
    if (rc == 0)
        rc = alch_conn_commit(conn, err);
    size_t stop = (size_t)(target + 1); /* steps [stop, at) are undone, newest first */
    for (size_t i = stop; rc == 0 && i < st.at; i++) {
        const alch_migration *s = &m->steps[i];
        if (!s->downgrade && !s->downgrade_fn) {
            rc = alch__error_set(err, ALCH_EARGUMENT,
                                 "migration step '%s' has no downgrade, so the database cannot "
                                 "go back past it; nothing was undone",
                                 s->id);
            alch__error_hint(err, "give the step a .downgrade, or downgrade to '%s'", s->id);
        }
    }
    if (rc == 0 && stop >= st.at)
        alch__echo_line(alch__conn_echo(conn), "migrate: at %s, nothing to downgrade",
                        at_name(m, st.at));
    for (size_t i = st.at; rc == 0 && i > stop; i--) {
        rc = apply_step(conn, m, i - 1, false, err);
        *done += rc == 0;
    }
    free(st.applied);
    return rc;
}

int alch_migrate_downgrade(alch_conn *conn, const alch_migrations *m, const char *target,
                           size_t *undone, alch_error *err)
{
    size_t done = 0;
    long t;
    int rc = check_list(conn, m, "alch_migrate_downgrade", err);
    if (rc == 0)
        rc = find_target(m, target, &t, err);
    if (rc == 0)
        rc = lock(conn, err);
    if (rc == 0) {
        rc = downgrade_locked(conn, m, t, &done, err);
        unlock(conn);
    }
    if (undone)
        *undone = done;
    return rc;
}

/* ---- reading ------------------------------------------------------------------------ */

/* Read the state without a lock; the transaction a pooled connection opened is rolled back. */
static int peek(alch_conn *conn, const alch_migrations *m, const char *fn, version_state *st,
                alch_error *err)
{
    *st = (version_state){NULL, 0};
    int rc = check_list(conn, m, fn, err);
    if (rc == 0)
        rc = read_state(conn, m, false, st, err);
    alch_error scratch = ALCH_ERROR_INIT;
    alch_conn_rollback(conn, &scratch);
    alch_error_clear(&scratch);
    return rc;
}

int alch_migrate_current(alch_conn *conn, const alch_migrations *m, const char **id,
                         alch_error *err)
{
    if (!id)
        return alch__error_set(err, ALCH_EMISUSE, "alch_migrate_current needs somewhere to put "
                                                  "the id");
    *id = NULL;
    version_state st;
    int rc = peek(conn, m, "alch_migrate_current", &st, err);
    if (rc == 0 && st.at)
        *id = m->steps[st.at - 1].id;
    free(st.applied);
    return rc;
}

int alch_migrate_history(alch_conn *conn, const alch_migrations *m, FILE *out, alch_error *err)
{
    if (!out)
        return alch__error_set(err, ALCH_EMISUSE, "alch_migrate_history needs a FILE to print to");
    version_state st;
    int rc = peek(conn, m, "alch_migrate_history", &st, err);
    if (rc == 0) {
        int width = 0;
        for (size_t i = 0; i < m->count; i++)
            if ((int)strlen(m->steps[i].id) > width)
                width = (int)strlen(m->steps[i].id);
        for (size_t i = 0; i < m->count; i++)
            fprintf(out, "[%c] %-*s  %s\n", st.applied[i] ? 'x' : ' ', width, m->steps[i].id,
                    m->steps[i].description ? m->steps[i].description : "");
    }
    free(st.applied);
    return rc;
}
