/* Lesson 07, program 5: a reader engine next to the writer engine.
 *
 * Two servers: a primary and a standby that replays the primary's changes (streaming
 * replication). Both URLs list both hosts; target_session_attrs picks one by its role:
 *   ALCH_DATABASE_URL  ...?target_session_attrs=read-write      the primary: the writer
 *   ALCH_READER_URL    ...?target_session_attrs=prefer-standby  the standby: the reader
 * `./tutor run 7` starts the two servers for this program; so does its test. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <uv.h>

#include <alch/alch.h>

static void print_error(alch_error *err)
{
    char *text = alch_error_format(err);
    printf("%s\n", text ? text : "out of memory");
    free(text);
    alch_error_clear(err);
}

/* Run sql on a connection of engine and print its one row: pg_is_in_recovery() and a text. */
static void ask(alch_engine *engine, const char *who, const char *sql)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_conn *conn = NULL;
    alch_result *res = NULL;
    bool standby = false;
    const char *text = NULL;
    if (alch_engine_connect(engine, &conn, &err) == 0 &&
        alch_conn_execute_text(conn, sql, NULL, 0, &res, &err) == 0 &&
        alch_result_get_bool(res, 0, 0, &standby, &err) == 0 &&
        alch_result_get_text(res, 0, 1, &text, &err) == 0)
        printf("%s: on a standby: %s; %s\n", who, standby ? "yes" : "no", text);
    if (err.code != 0)
        print_error(&err);
    alch_result_free(res);
    alch_conn_close(conn);
}

//! [wait]
/* A standby replays the primary's changes a moment later. Wait (at most 10 s) until the
 * reader's server has replayed the write-ahead log up to `lsn`, a position on the primary. */
static bool wait_for_replay(const char *reader_url, const char *lsn)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_conn *conn = NULL; /* a connection of its own: no echo while it polls */
    if (alch_conn_open(reader_url, &conn, &err) != 0) {
        print_error(&err);
        return false;
    }
    alch_value params[] = {alch_v(lsn)};
    bool replayed = false;
    for (int i = 0; i < 1000 && !replayed; i++) {
        alch_result *res = NULL;
        if (alch_conn_execute_text(conn, "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", params, 1,
                                   &res, &err) != 0 ||
            alch_result_get_bool(res, 0, 0, &replayed, &err) != 0) {
            print_error(&err);
            alch_result_free(res);
            break;
        }
        alch_result_free(res);
        if (!replayed)
            uv_sleep(10); /* milliseconds */
    }
    alch_conn_close(conn);
    return replayed;
}
//! [wait]

int main(void)
{
    const char *writer_url = getenv("ALCH_DATABASE_URL");
    const char *reader_url = getenv("ALCH_READER_URL");
    if (!writer_url || !reader_url) {
        fprintf(stderr, "ALCH_DATABASE_URL and ALCH_READER_URL are not set: run this lesson "
                        "with `./tutor run 7`, which starts a primary and a standby for it.\n");
        return 1;
    }
    alch_error err = ALCH_ERROR_INIT;

    //! [engines]
    alch_engine_options opts = alch_engine_options_default();
    opts.echo = true;
    alch_engine *writer = NULL, *reader = NULL;
    if (alch_engine_create(writer_url, &opts, &writer, &err) != 0 ||
        alch_engine_create(reader_url, &opts, &reader, &err) != 0) {
        print_error(&err);
        alch_engine_free(writer);
        return 1;
    }
    //! [engines]

    //! [write]
    alch_conn *conn = NULL;
    alch_result *res = NULL;
    const char *text = NULL;
    alch_value note[] = {alch_v("written on the primary")};
    if (alch_engine_connect(writer, &conn, &err) != 0 ||
        alch_conn_execute_text(conn, "DROP TABLE IF EXISTS notes", NULL, 0, NULL, &err) != 0 ||
        alch_conn_execute_text(conn, "CREATE TABLE notes (body text NOT NULL)", NULL, 0, NULL,
                               &err) != 0 ||
        alch_conn_execute_text(conn, "INSERT INTO notes (body) VALUES ($1)", note, 1, NULL,
                               &err) != 0 ||
        alch_conn_commit(conn, &err) != 0 ||
        alch_conn_execute_text(conn, "SELECT pg_current_wal_lsn()::text", NULL, 0, &res,
                               &err) != 0 ||
        alch_result_get_text(res, 0, 0, &text, &err) != 0) {
        print_error(&err);
        return 1;
    }
    char lsn[32];
    snprintf(lsn, sizeof lsn, "%s", text); /* a position in the log, e.g. 0/3000148 */
    alch_result_free(res);
    alch_conn_close(conn);
    //! [write]

    //! [read]
    printf("the standby has replayed the commit: %s\n",
           wait_for_replay(reader_url, lsn) ? "yes" : "no");
    ask(writer, "writer", "SELECT pg_is_in_recovery(), count(*)::text || ' note' FROM notes");
    ask(reader, "reader", "SELECT pg_is_in_recovery(), body FROM notes");
    //! [read]

    //! [refused]
    if (alch_engine_connect(reader, &conn, &err) == 0) {
        if (alch_conn_execute_text(conn, "INSERT INTO notes (body) VALUES ($1)", note, 1, NULL,
                                   &err) != 0)
            print_error(&err);
        alch_conn_close(conn);
    } else {
        print_error(&err);
    }
    //! [refused]

    /* the next run starts as this one did: without the table */
    if (alch_engine_connect(writer, &conn, &err) != 0 ||
        alch_conn_execute_text(conn, "DROP TABLE notes", NULL, 0, NULL, &err) != 0 ||
        alch_conn_commit(conn, &err) != 0)
        print_error(&err);
    alch_conn_close(conn);
    alch_engine_free(reader);
    alch_engine_free(writer);
    return 0;
}
