/**
 * @file base.h
 * @brief The declarative base: the registry every model joins, and the DDL it emits.
 *
 * The seed writes `class Base(AsyncAttrs, DeclarativeBase): pass`, and every model
 * inherits from it so that `Base.metadata` knows all the tables. In C the base is an
 * object you create and add models to:
 *
 * @code
 * alch_base *base;
 * alch_base_create(&base, &err);
 * alch_base_add(base, &User_model, &err);
 * alch_base_add(base, &Category_model, &err);
 * alch_base_add(base, &Item_model, &err);
 * alch_base_create_all(base, conn, &err);   // CREATE TABLE IF NOT EXISTS ..., parents first
 * @endcode
 *
 * Mistakes are caught before any SQL is sent: two models with one table name, a model
 * without a primary key, a nullable column whose C type cannot hold NULL, a VARCHAR
 * without a length, and, when the base is checked (alch_base_check(), also done by
 * alch_base_create_all()), a foreign key or relationship that names an undeclared
 * table or column, with a "did you mean ...?" suggestion.
 *
 * The AsyncAttrs idea: relationships never load by themselves; see alch_session_load().
 *
 * Constraint and index names follow one naming convention, so migrations can name them:
 * `pk_<table>`, `fk_<table>_<column>_<referred table>`, `uq_<table>_<column>`,
 * `ix_<table>_<column>`.
 */
#ifndef ALCH_BASE_H
#define ALCH_BASE_H

#include <stddef.h>

#include "alch/conn.h"
#include "alch/error.h"
#include "alch/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A declarative base: registry + metadata (opaque). */
typedef struct alch_base alch_base;

/**
 * @brief Create an empty base.
 * @param out  Receives the base; free it with alch_base_free() after every session using it.
 * @param err  Optional details on failure.
 * @return 0, ::ALCH_ENOMEM or ::ALCH_EMISUSE.
 */
int alch_base_create(alch_base **out, alch_error *err);

/**
 * @brief Free a base. The models themselves are yours (usually static) and are not touched.
 * @param base  The base; NULL is allowed.
 */
void alch_base_free(alch_base *base);

/**
 * @brief Add a model to the base, checking it on its own.
 *
 * The model is referenced, not copied: keep it alive as long as the base (a `static const`
 * model is the usual way).
 *
 * @return 0; ::ALCH_EARGUMENT with a sentence naming the model and the mistake
 *         (duplicate table, no primary key, nullable column on a C type without NULL,
 *         VARCHAR without a length, unsupported C type); ::ALCH_ENOMEM.
 */
int alch_base_add(alch_base *base, const alch_model *model, alch_error *err);

/**
 * @brief Check the models against each other: every foreign key and relationship must name
 *        a declared table and column, and the tables must not form a foreign-key cycle.
 *
 * @return 0, or ::ALCH_EARGUMENT naming the reference and suggesting the closest
 *         declared name ("did you mean 'categories'?").
 */
int alch_base_check(alch_base *base, alch_error *err);

/** @brief How many models the base holds. */
size_t alch_base_count(const alch_base *base);

/**
 * @brief The models in foreign-key dependency order (referenced tables first).
 * @param base  A base that passed alch_base_check().
 * @param i     Index below alch_base_count().
 * @return The model, or NULL when @p i is out of range or the base was not checked.
 */
const alch_model *alch_base_model_at(const alch_base *base, size_t i);

/**
 * @brief Find a model by table name.
 * @return The model, or NULL when no model of this base has that table.
 */
const alch_model *alch_base_find(const alch_base *base, const char *table);

/**
 * @brief The DDL alch_base_create_all() runs, as one text (statements end with ";\n").
 * @return A string the caller frees with free(), or NULL on error (details in @p err).
 */
char *alch_base_ddl(alch_base *base, alch_error *err);

/**
 * @brief Create every table, constraint and index that does not exist yet, in dependency
 *        order (the seed's `Base.metadata.create_all`). Sync face.
 *
 * The statements run on @p conn inside its current transaction (a pooled connection
 * begins one implicitly): commit it afterwards, or call this inside alch_engine_begin().
 * Running it twice is harmless (`IF NOT EXISTS`).
 *
 * @return 0, a check error (see alch_base_check()), or the server's error.
 */
int alch_base_create_all(alch_base *base, alch_conn *conn, alch_error *err);

/**
 * @brief Drop every table of the base that exists, dependants first. Sync face.
 * @return 0, a check error, or the server's error.
 */
int alch_base_drop_all(alch_base *base, alch_conn *conn, alch_error *err);

/**
 * @brief Async face of alch_base_create_all() (the seed's `conn.run_sync(create_all)`).
 * @param base  The base.
 * @param conn  A connection on an async engine.
 * @param cb    Called once when done; it receives no result (NULL).
 * @param data  Passed to @p cb.
 * @return 0 when started (then @p cb will be called), or a negative code.
 */
int alch_base_create_all_async(alch_base *base, alch_conn *conn, alch_exec_cb cb, void *data);

/** @brief Async face of alch_base_drop_all(); same contract as alch_base_create_all_async(). */
int alch_base_drop_all_async(alch_base *base, alch_conn *conn, alch_exec_cb cb, void *data);

#ifdef __cplusplus
}
#endif

#endif
