/* The session's insides: tracked objects, the identity map, and the operation in flight. */
#ifndef ALCH_SESSION_INTERNAL_H
#define ALCH_SESSION_INTERNAL_H

#include <stdint.h>

#include "alch/session.h"
#include "engine/engine_internal.h"
#include "util/arena.h"
#include "util/buf.h"

/* One object the session tracks. */
typedef struct alch__rec {
    const alch_model *model;
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
} alch__plan_item;

typedef enum {
    OP_FLUSH, OP_COMMIT, OP_ROLLBACK, OP_GET, OP_REFRESH, OP_LOAD, OP_EXECUTE
} alch__opkind;

typedef enum {
    ST_START, ST_FLUSH, ST_QUERY, ST_END_TX, ST_DONE
} alch__stage;

typedef struct alch__sop {
    alch__opkind kind;
    alch__stage stage;
    alch_session_cb cb;
    void *data;
    const alch_model *model;
    void *obj;                      /* refresh/load: the object; get: the result */
    const alch_relationship *rel;
    alch_value pk;
    char *pk_text;                  /* a copy of a text key for the async face */
    alch__plan_item *plan;
    size_t nplan;
    size_t cur;
    const char *exec_sql;           /* OP_EXECUTE */
    const alch_value *exec_params;
    size_t exec_n;
    alch_result *exec_res;
} alch__sop;

struct alch_sessionmaker {
    alch_engine *engine;
    alch_base *base;
    alch_sessionmaker_options opts;
};

struct alch_session {
    alch_sessionmaker *maker;
    alch_engine *engine;
    alch_conn *conn;       /* checked out at the first round trip, handed back at the end */
    alch__arena arena;
    alch__rec *first, *last;
    alch__rec **by_ptr;    /* hash tables, power-of-two sizes */
    alch__rec **by_key;
    size_t nbuckets;
    size_t nrecs;
    uint64_t seq;
    alch__sop *op;         /* the operation in flight, or NULL */
    uv_timer_t *defer;     /* completes operations that need no round trip, on the next turn */
    alch_error start_err;  /* why the last async call could not start */
    int refs;
    bool close_pending;
    bool closing;
};

#endif
