/* The session's insides: tracked objects, the identity map, and the operation in flight. */
#ifndef ALCH_SESSION_INTERNAL_H
#define ALCH_SESSION_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "alch/session.h"
#include "driver/driver.h"
#include "engine/engine_internal.h"
#include "model/model_internal.h"
#include "util/arena.h"
#include "util/freelist.h"
#include "util/buf.h"

/* One object the session tracks. */
typedef struct alch__rec {
    const alch_model *model;
    const alch__mapper *map;    /* the model's mapper (map->model == model) */
    void *obj;
    alch_object_state state;
    bool owned;            /* allocated by the session (a loaded row) */
    bool inserted_in_tx;   /* INSERTed since the last commit: a rollback forgets it */
    bool deleted_in_tx;    /* DELETEd since the last commit: a rollback brings it back */
    void *flushed;         /* column values as the database has them now (NULL: not yet) */
    void *committed;       /* column values as of the last commit (NULL: none) */
    uint64_t generated;    /* bit i: column i was filled by the server at INSERT */
    const char *key;       /* identity key (model table + primary key), when persistent */
    uint64_t keyhash;
    uint64_t seq;          /* the order objects were added or loaded in */
    size_t pos;            /* its place in the flush being sent (flush.c) */
    uint64_t waits;        /* = the flush's gen: waits for a new parent's key in this one */
    uint64_t seen;         /* = the flush's gen: the plan has looked at it */
    uint64_t planned;      /* = the flush's gen: it is in the plan, at pos */
    uint64_t touched;      /* = the session's epoch: in s->touched (autoflush looks at it) */
    struct alch__rec *next_ptr;  /* hash chain by object pointer */
    struct alch__rec *next_key;  /* hash chain by identity key */
    struct alch__rec *next;      /* all records, in seq order */
} alch__rec;

typedef enum { ACT_INSERT, ACT_UPDATE, ACT_DELETE } alch__act;

typedef struct alch__plan_item {
    alch__rec *rec;
    alch__act act;
    uint64_t changed; /* ACT_UPDATE: bit i set when column i changed */
    int rank;         /* the model's place in foreign-key order */
    size_t link0, nlinks; /* its links to new parents (op->links), after the plan is sorted */
} alch__plan_item;

/* A child whose foreign key waits for a new parent's generated key (relate.c). */
typedef struct alch__link {
    struct alch__rec *child;
    const alch_column *fk;
    struct alch__rec *parent;
} alch__link;

typedef enum {
    OP_FLUSH, OP_COMMIT, OP_ROLLBACK, OP_GET, OP_REFRESH, OP_LOAD, OP_EXECUTE, OP_STMT
} alch__opkind;

/* What OP_STMT makes of the rows. */
typedef enum {
    Q_RESULT,      /* the alch_result itself (alch_session_execute) */
    Q_ONE_ROW,     /* the result, which must hold exactly one row (alch_session_one) */
    Q_SCALARS,     /* every row as an object (alch_session_scalars) */
    Q_ONE,         /* exactly one object */
    Q_ONE_OR_NONE, /* one object or none */
    Q_FIRST,       /* the first object, if any */
} alch__qmode;

typedef enum {
    ST_START, ST_FLUSH, ST_QUERY, ST_END_TX, ST_DONE
} alch__stage;

/* Which of session.h's callback types the caller gave: the one its call takes. The sync faces
 * use CB_OBJECT's signature for every answer (void *: an object, the list or the result). */
typedef enum { CB_DONE, CB_OBJECT, CB_OBJECTS, CB_RESULT } alch__cbkind;

typedef struct alch__sop_cb {
    alch__cbkind kind;
    union {
        alch_session_done_cb done;
        alch_session_object_cb object;
        alch_session_objects_cb objects;
        alch_session_result_cb result;
    } fn;
} alch__sop_cb;

typedef struct alch__sop {
    alch__opkind kind;
    alch__stage stage;
    alch__sop_cb cb;
    void *data;
    const alch_model *model;
    const alch__mapper *map;        /* model's mapper (OP_STMT: the statement's, for objects) */
    void *obj;                      /* refresh/load: the object; get: the result */
    const alch__rel_map *relmap;    /* load: the relationship */
    alch_value pk;                  /* get: the key (a text key points into `in`) */
    alch__inputs in;                /* copies of what the call was given: the async face's SQL
                                       and values, get's key (conn.h: the async calls' rule) */
    alch__plan_item *plan;
    size_t nplan;
    size_t cur;
    const char *exec_sql;           /* OP_EXECUTE */
    const alch_value *exec_params;
    size_t exec_n;
    alch_result *exec_res;
    bool writes;                    /* OP_STMT: an INSERT/UPDATE/DELETE (RETURNING refreshes) */
    bool text_only;                 /* its binary rows were not the model's: run in text */
    const char *const *eager_names; /* OP_STMT: alch_selectin()'s relationships, and */
    size_t neager;                  /* how many (the async face's are copies, in eager_own) */
    char **eager_own;
    alch__qmode mode;               /* what to make of the statement's rows */
    alch_list *list;                /* Q_SCALARS: in the session's arena */
    void *flush;                    /* the flush's batch context (flush.c) */
    size_t eager;                   /* alch_selectin: the next relationship to load */
    alch__link *links;              /* the flush's children that wait for a parent's key */
    size_t nlinks, caplinks;
    alch__rec **revisit;            /* children given a key after the plan looked at them */
    size_t nrevisit, caprevisit;
    uint64_t gen;                   /* this flush's number (the session's flushes) */
    struct alch__sop **queued;      /* commit/rollback: the pipeline's statements (pipe.c) */
    size_t nqueued;
    size_t answered; /* the first `answered` of them have their result */
    int pipe_status; /* the batch failed: at statement `answered` (or COMMIT) */
    alch_error pipe_err;
} alch__sop;

typedef struct alch__sqlshape alch__sqlshape;

struct alch_sessionmaker {
    alch_engine *engine;
    alch_base *base;
    alch_sessionmaker_options opts;
    alch__sqlshape *shapes; /* SQL the sessions send for you, built once per shape (sql.c) */
    bool check_autoflush;   /* ALCH_DEBUG_AUTOFLUSH=1: each autoflush also scans everything */
    /* what a session per request allocates and frees, kept for the next (util/freelist.h):
     * operations, first arena blocks, and the identity map's first pair of tables */
    alch__freelist sops, blocks, tables;
    struct alch__keysrc *keysrcs; /* models whose keys a bulk insert may take first (flush.c) */
};

/* The identity map's first size, in buckets (its tables come from maker->tables). */
enum { ALCH__FIRST_BUCKETS = 64 };

/* sql.c: the SQL of the session's own statements. Values are $n in column order (mask
 * bits), row after row for an INSERT of `rows` rows, then the key for UPDATE; SQL_BY_COLUMN
 * has one value, for `col`. `rows` is 1 but for multi-row INSERTs. */
/* SQL_INSERT_ARRAYS: INSERT ... SELECT * FROM unnest($1::T[], ...), one array per column.
 * SQL_INSERT_KEYED: the same with the key column first, numbered by the flush: $1 the first
 * key, then one array per column of mask, then an array of keys (statement_internal.h,
 * alch__insert_arrays_keyed). */
typedef enum {
    SQL_BY_COLUMN,
    SQL_INSERT,
    SQL_INSERT_ARRAYS,
    SQL_INSERT_KEYED,
    SQL_UPDATE,
    SQL_DELETE
} alch__sqlkind;
const char *alch__session_sql(alch_session *s, alch__sqlkind kind, const alch__mapper *map,
                              const alch_column *col, uint64_t mask, uint64_t ret, size_t rows,
                              alch_error *err);
void alch__sql_cache_free(alch_sessionmaker *maker);

/* First in the struct: freeing a block overwrites its first bytes, so even a header that left
 * the quarantine (util/quarantine.h) most likely reads as closed. */
enum { SESSION_LIVE = 0x53455353u /* "SESS" */, SESSION_CLOSED = 0x0dead5e5 };

struct alch_session {
    unsigned magic;        /* SESSION_LIVE until the session is really closed */
    alch_sessionmaker *maker;
    alch_engine *engine;
    alch_conn *conn;       /* checked out at the first round trip, handed back at the end */
    alch__arena arena;
    alch__rec *first, *last;
    alch__rec **by_ptr;    /* hash tables, power-of-two sizes */
    alch__rec **by_key;
    size_t nbuckets;
    size_t nrecs;
    size_t unflushed;      /* pending objects and unflushed deletes (dirty ones are not
                              counted: finding those needs a scan) */
    uint64_t seq;
    uint64_t flushes;      /* plans made: tells this flush's marks from older ones */
    /* What autoflush looks at (session.h, "Autoflush"): new and deleted objects and objects
     * handed out since the last flush, each once (r->touched == epoch). A flush empties it. */
    alch__rec **touched;
    size_t ntouched, captouched;
    uint64_t epoch;
    bool touch_lost;       /* out of memory while adding to it: the next autoflush scans all */
    alch__sop *op;         /* the operation in flight, or NULL */
    alch__deferred defer;  /* queued: its next step runs on the next loop turn */
    alch_error start_err;  /* why the last async call could not start */
    struct alch_stream *streams; /* open streams, told when the session closes */
    unsigned ncursors;     /* cursors declared so far, for their names */
    int refs;
    bool close_pending;
    bool closing;
    bool begun;            /* alch_session_begin() was called for the current transaction */
    bool piping;           /* alch_session_pipeline(): execute_text_async queues (pipe.c) */
    alch__sop **pipe;      /* the queued statements, in order */
    size_t npipe, cappipe;
};

/* 0, or ALCH_EMISUSE with "this session was closed" in @p err (which may be NULL) when @p s
 * was closed already: every public entry point asks this before it reads anything else. */
int alch__session_closed(const alch_session *s, alch_error *err);

/* identity.c: tracked objects, the identity map, snapshots */
/* Change a record's state (and whether its DELETE was flushed), keeping s->unflushed right. */
void alch__rec_set(alch_session *s, alch__rec *r, alch_object_state st, bool deleted_in_tx);
alch__rec *alch__rec_by_ptr(const alch_session *s, const void *obj);
/* r may have changed since the last flush: the next autoflush looks at it. */
void alch__touch(alch_session *s, alch__rec *r);
/* Every change is flushed (or was looked at by a full scan): autoflush starts afresh. */
void alch__touched_clear(alch_session *s);
alch__rec *alch__rec_by_key(const alch_session *s, uint64_t h, const char *key);
void alch__link_key(alch_session *s, alch__rec *r);
alch__rec *alch__track(alch_session *s, const alch__mapper *map, void *obj, alch_object_state st);
/* Size the identity map for `more` records beyond those tracked, in one step: a query that
 * loads 100,000 rows rehashes once, not eleven times. 0 or ALCH_ENOMEM. */
int alch__identity_reserve(alch_session *s, size_t more);
void alch__untrack(alch_session *s, alch__rec *r);
/* Free the identity map's pair of tables of n buckets (the first size goes back to
 * maker->tables). */
void alch__tables_free(alch_session *s, size_t n, alch__rec **by_ptr, alch__rec **by_key);
int alch__set_key(alch_session *s, alch__rec *r);
/* An identity key: on the stack when short; alch__key_keep() copies it into the session. */
typedef struct alch__key {
    char text[128];
    char *heap;
    const char *s;
    size_t len;
    uint64_t hash;
} alch__key;
int alch__key_make(const alch_model *m, const alch_value *pk, alch__key *k);
int alch__key_of(const alch__mapper *map, const void *obj, alch__key *k);
void alch__key_done(alch__key *k);
const char *alch__key_keep(alch_session *s, const alch__key *k);
void *alch__snapshot(alch_session *s, const alch_model *m, const void *obj);
/* The snapshot of an object the session has just filled from a row: its strings are the
 * session's already, so the snapshot shares them (a byte copy of the struct). Unchanged, the
 * object then compares equal to it with one memcmp. */
void *alch__snapshot_loaded(alch_session *s, const alch_model *m, const void *obj);
void alch__restore(alch_session *s, const alch_model *m, void *obj, const void *snap);

/* A loaded object nobody touched: its bytes are still its snapshot's. Both live in the
 * session's zeroed memory (padding included) and share their strings (see
 * alch__snapshot_loaded), so one memcmp answers; objects of yours take the column by
 * column way (alch__changed_columns). */
static inline bool alch__rec_untouched(const alch__rec *r)
{
    return r->owned && r->flushed && memcmp(r->obj, r->flushed, r->model->size) == 0;
}

/* flush.c: planning and sending the flush; alch__flush_next calls the stage machine back */
int alch__make_plan(alch_session *s, alch__sop *op, alch_error *err);
void alch__flush_next(alch_session *s);
uint64_t alch__changed_columns(const alch__rec *r);
void alch__flush_ctx_free(void *ctx);
/* What the factory learned of its tables' key columns (alch__keysrc), freed with it. */
void alch__keysrc_free(alch_sessionmaker *maker);
bool alch__has_changes(alch_session *s);

/* relate.c: relationship fields set foreign keys. Related objects not in the session are
 * added; a parent's key is copied into the child now, or (parent new and op given) left as
 * a link in op->links for the flush to apply once the parent's INSERT brings the key.
 * alch__relate_rec() does one record's relationships, within the plan's one pass (a child
 * the pass has seen already goes to op->revisit); alch__relate() does every record. */
int alch__relate_rec(alch_session *s, alch__sop *op, alch__rec *r, alch_error *err);
/* Whether obj's relationship field rel holds something: a parent, or a list of children. */
static inline bool alch__rel_set(const alch_relationship *rel, const void *obj)
{
    const void *field = (const char *)obj + rel->offset;
    return rel->many ? ((const alch_many *)field)->items != NULL
                     : ((const alch_one *)field)->obj != NULL;
}

/* Whether any relationship field of r is set (the common answer, no: nothing to relate). */
static inline bool alch__rec_relates(const alch__rec *r)
{
    for (size_t k = 0; k < r->model->nrelationships; k++)
        if (alch__rel_set(&r->model->relationships[k], r->obj))
            return true;
    return false;
}
int alch__relate(alch_session *s, alch_error *err);
bool alch__link_ready(const alch__link *l);
int alch__link_apply(const alch__link *l, alch_error *err);

/* stream.c: the session is closing; its streams lose it */
void alch__streams_detach(alch_session *s);

/* eager.c: alch_selectin(): load the next relationship of a statement's objects, then
 * alch__session_step() */
void alch__eager_next(alch_session *s);

/* session.c: shared with eager.c */
int alch__row_object(alch_session *s, const alch__mapper *map, const alch_result *res, size_t row,
                     void **out, alch_error *err);

/* pipe.c: alch_session_pipeline(). alch__pipe_queue: op (an OP_EXECUTE with its callback)
 * joins the queue, or an error is left in s->start_err. alch__pipe_take / give_back: the
 * commit or rollback op takes the queue (the session stops filling it) / gives it back when
 * it cannot start. alch__pipe_send: the commit's batch (BEGIN (implicit), the statements,
 * COMMIT). alch__pipe_callbacks: call back and free n queued ops, in order; `end` is the op
 * that took them (NULL: none), status/err why they did not run when they did not. */
int alch__pipe_queue(alch_session *s, alch__sop *op);
void alch__pipe_take(alch_session *s, alch__sop *op);
void alch__pipe_give_back(alch_session *s, alch__sop *op);
int alch__pipe_send(alch_session *s, alch_error *err);
void alch__pipe_callbacks(alch_session *s, alch__sop **q, size_t n, const alch__sop *end,
                          int status, const alch_error *err);

/* session.c: the transaction ended (committed or not): the bookkeeping, and the connection
 * goes back to the pool (which rolls back what is left open). Nothing on a closing session. */
void alch__session_tx_ended(alch_session *s, bool committed);

/* session.c: the stage machine */
void alch__session_step(alch_session *s);
void alch__session_fail(alch_session *s, int status, const alch_error *err);

#endif
