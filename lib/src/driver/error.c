/* The error object: codes, SQLSTATE classes, and the text a learner reads. */
#include "driver/error_internal.h"
#include "driver/pq.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

void alch_error_clear(alch_error *err)
{
    if (!err)
        return;
    /* most errors cleared were never set: a request clears about seven */
    if (err->message || err->detail || err->hint || err->constraint || err->statement ||
        err->params) {
        free(err->message);
        free(err->detail);
        free(err->hint);
        free(err->constraint);
        free(err->statement);
        free(err->params);
    }
    *err = (alch_error)ALCH_ERROR_INIT;
}

const char *alch_strerror(int code)
{
    switch (code) {
    case ALCH_OK: return "OK";
    case ALCH_EMISUSE: return "MisuseError";
    case ALCH_ENOMEM: return "OutOfMemory";
    case ALCH_EARGUMENT: return "ArgumentError";
    case ALCH_EOPERATIONAL: return "OperationalError";
    case ALCH_EINTEGRITY: return "IntegrityError";
    case ALCH_EPROGRAMMING: return "ProgrammingError";
    case ALCH_EDATA: return "DataError";
    case ALCH_EINTERNAL: return "InternalError";
    case ALCH_ENOTSUPPORTED: return "NotSupportedError";
    case ALCH_EDATABASE: return "DatabaseError";
    case ALCH_ETIMEOUT: return "TimeoutError";
    case ALCH_ECANCELED: return "Canceled";
    case ALCH_EBUSY: return "BusyError";
    case ALCH_ETYPE: return "TypeError";
    case ALCH_ECLOSED: return "ClosedError";
    case ALCH_ENORESULT: return "NoResultFound";
    case ALCH_EMULTIPLE: return "MultipleResultsFound";
    default: return "UnknownError";
    }
}

/* The same split psycopg2 and asyncpg make, which SQLAlchemy re-raises as its own classes. */
int alch_error_code_from_sqlstate(const char *sqlstate)
{
    if (!sqlstate || strlen(sqlstate) < 2)
        return ALCH_EDATABASE;
    char c0 = sqlstate[0], c1 = sqlstate[1];
#define CLASS(a, b) (c0 == (a) && c1 == (b))
    if (CLASS('2', '3'))
        return ALCH_EINTEGRITY;
    if (CLASS('2', '2'))
        return ALCH_EDATA;
    if (CLASS('0', 'A'))
        return ALCH_ENOTSUPPORTED;
    if (CLASS('4', '2') || CLASS('2', '6') || CLASS('3', '4') || CLASS('3', 'D') ||
        CLASS('3', 'F') || CLASS('2', '8') || CLASS('4', '4'))
        return ALCH_EPROGRAMMING;
    if (CLASS('0', '8') || CLASS('5', '3') || CLASS('5', '7') || CLASS('5', '8') ||
        CLASS('4', '0') || CLASS('5', '5') || CLASS('F', '0'))
        return ALCH_EOPERATIONAL;
    if (CLASS('X', 'X') || CLASS('2', '5') || CLASS('2', 'D') || CLASS('3', '9') ||
        CLASS('2', '4') || CLASS('3', '8'))
        return ALCH_EINTERNAL;
#undef CLASS
    return ALCH_EDATABASE;
}

/* printf-like: the callers' format checks reach through it (clang's -Wformat-nonliteral). */
__attribute__((format(printf, 1, 0))) static char *vformat(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s)
        return NULL;
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

int alch_error_set(alch_error *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    alch_error_clear(err);
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    err->message = vformat(fmt, ap);
    va_end(ap);
    return code;
}

void alch_error_hint(alch_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    free(err->hint);
    va_list ap;
    va_start(ap, fmt);
    err->hint = vformat(fmt, ap);
    va_end(ap);
}

/* libpq ends its messages with a newline; the error object holds sentences. */
static char *dup_trimmed(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
        n--;
    return alch__strndup(s, n);
}

int alch__error_from_result(alch_error *err, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    int code = alch_error_code_from_sqlstate(state);
    if (!err)
        return code;
    alch_error_clear(err);
    err->code = code;
    if (state)
        snprintf(err->sqlstate, sizeof err->sqlstate, "%s", state);
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    err->message = dup_trimmed(primary ? primary : res ? PQresultErrorMessage(res) : "no result");
    if (res) {
        err->detail = dup_trimmed(PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL));
        err->hint = dup_trimmed(PQresultErrorField(res, PG_DIAG_MESSAGE_HINT));
        err->constraint = dup_trimmed(PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME));
    }
    if (state && strcmp(state, "25006") == 0 && !err->hint) /* read_only_sql_transaction */
        alch__error_hint(err, "this transaction is read-only: the server is a standby (see "
                              "pg_is_in_recovery()), or read-only was asked for; send writes "
                              "through an engine for the primary (target_session_attrs="
                              "read-write in its URL)");
    return code;
}

int alch__error_from_conn(alch_error *err, int code, PGconn *pg, const char *prefix)
{
    if (!err)
        return code;
    const char *msg = pg ? PQerrorMessage(pg) : "";
    if (!msg || !*msg)
        msg = "the connection failed";
    /* libpq may report several attempts (one per host), one per line: keep them all. */
    char *text = dup_trimmed(msg);
    if (prefix)
        alch__error_set(err, code, "%s: %s", prefix, text ? text : "");
    else
        alch__error_set(err, code, "%s", text ? text : "");
    free(text);
    return code;
}

void alch__error_statement(alch_error *err, const char *sql, const char *params)
{
    if (!err)
        return;
    free(err->statement);
    free(err->params);
    err->statement = alch__strdup(sql);
    err->params = alch__strdup(params);
}

int alch__error_copy(alch_error *dst, const alch_error *src)
{
    if (!dst)
        return 0;
    alch_error_clear(dst);
    if (!src)
        return 0;
    dst->code = src->code;
    memcpy(dst->sqlstate, src->sqlstate, sizeof dst->sqlstate);
    dst->message = alch__strdup(src->message);
    dst->detail = alch__strdup(src->detail);
    dst->hint = alch__strdup(src->hint);
    dst->constraint = alch__strdup(src->constraint);
    dst->statement = alch__strdup(src->statement);
    dst->params = alch__strdup(src->params);
    if ((src->message && !dst->message) || (src->statement && !dst->statement))
        return ALCH_ENOMEM;
    return 0;
}

char *alch_error_format(const alch_error *err)
{
    alch__buf b = ALCH__BUF_INIT;
    if (!err || err->code == 0) {
        alch__buf_puts(&b, "no error");
        return alch__buf_finish(&b);
    }
    alch__buf_printf(&b, "%s: %s", alch_strerror(err->code),
                     err->message ? err->message : "(no message)");
    if (err->sqlstate[0])
        alch__buf_printf(&b, " (SQLSTATE %s)", err->sqlstate);
    if (err->detail)
        alch__buf_printf(&b, "\nDETAIL: %s", err->detail);
    if (err->hint)
        alch__buf_printf(&b, "\nHINT: %s", err->hint);
    if (err->statement)
        alch__buf_printf(&b, "\n[SQL: %s]", err->statement);
    if (err->params)
        alch__buf_printf(&b, "\n[parameters: %s]", err->params);
    return alch__buf_finish(&b);
}
