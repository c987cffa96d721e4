/**
 * @file migrate.h
 * @ingroup migrate
 * @brief Changing the schema: versioned migrations, and the diff between the models and the
 *        live database (what Alembic does for SQLAlchemy).
 *
 * alch_base_create_all() only creates what is missing: `CREATE TABLE IF NOT EXISTS` skips a
 * table whose model has changed, and the program fails later, at the first INSERT that names
 * the new column. A schema that already holds data changes through **migrations**: numbered
 * steps, each applied once, in order, and recorded in the database.
 *
 * @code
 * static const alch_migration shop_steps[] = {
 *     {.id = "0001_shop", .description = "the shop's tables",
 *      .upgrade = "CREATE TABLE categories (...); CREATE TABLE items (...)",
 *      .downgrade = "DROP TABLE items; DROP TABLE categories"},
 *     {.id = "0002_quantity", .description = "items get a quantity",
 *      .upgrade = "ALTER TABLE items ADD COLUMN quantity INTEGER DEFAULT 0 NOT NULL",
 *      .downgrade = "ALTER TABLE items DROP COLUMN quantity"},
 * };
 * static const alch_migrations shop_migrations = ALCH_MIGRATIONS(shop_steps);
 *
 * alch_migrate_upgrade(conn, &shop_migrations, NULL, NULL, &err);   // to the head
 * @endcode
 *
 * **The version table.** Each applied step is a row of `alch_version` (id, description,
 * applied_at), created by the first upgrade. The database is "at" the last step of the list
 * that has a row.
 *
 * **One step, one transaction.** A step's statements and its row in `alch_version` commit
 * together: a step that fails is rolled back as a whole, the version stays where it was, and
 * the error names the step. PostgreSQL runs DDL inside transactions, so a half-applied step
 * cannot happen.
 *
 * **Two programs at once.** An upgrade or downgrade holds a PostgreSQL advisory lock
 * (`pg_advisory_lock(`::ALCH_MIGRATION_LOCK_KEY`)`) from its first step to its last: a second
 * program starting at the same moment waits, then finds the steps recorded and applies none
 * of them. Each step is applied exactly once.
 *
 * **The diff** (Alembic's autogenerate): alch_base_diff() reads the live schema from
 * `pg_catalog` and writes the DDL that brings it to the models, for you to review and paste
 * into a new step. Changes that would lose data (dropping a table or a column, narrowing a
 * type) are listed as comments and emitted only with ::ALCH_DIFF_DESTRUCTIVE.
 *
 * The calls here are sync: give them a connection from alch_conn_open() or a sync engine,
 * with no transaction open. Migrating is a start-up step, done before the program serves.
 */
#ifndef ALCH_MIGRATE_H
#define ALCH_MIGRATE_H

#include "alch/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "alch/base.h"
#include "alch/conn.h"
#include "alch/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @addtogroup migrate
 * @{ */

/** @brief The key of the advisory lock migrations hold ("alch_mig" as eight bytes). */
#define ALCH_MIGRATION_LOCK_KEY 0x616c63685f6d6967LL

/** @brief The table that records the applied steps. */
#define ALCH_VERSION_TABLE "alch_version"

/**
 * @brief A step written in C, for what SQL alone cannot do (computing values row by row).
 *
 * It runs inside the step's transaction: use @p conn with alch_conn_execute_text(), and do not
 * commit or roll back yourself.
 *
 * @param conn  The connection, inside the step's transaction.
 * @param data  The step's `data` pointer.
 * @param err   Fill it on failure (alch_error_set() or a failed call's error).
 * @return 0, or a negative code: the step is then rolled back.
 */
typedef int (*alch_migration_fn)(alch_conn *conn, void *data, alch_error *err);

/**
 * @brief One migration step: an id, a description, and how to apply it (and undo it).
 *
 * Give either `upgrade` (SQL) or `upgrade_fn` (C), not both; the same for the optional
 * downgrade. The SQL may hold several statements separated by `;` (quotes, dollar quotes and
 * comments are understood); each is sent on its own, with its echo.
 */
typedef struct alch_migration {
    const char *id;                 /**< Unique, e.g. "0002_item_quantity"; recorded in the
                                         version table. The list's order is the order applied. */
    const char *description;        /**< One line for history and echo. */
    const char *upgrade;            /**< SQL applying the step, or NULL. */
    const char *downgrade;          /**< SQL undoing it, or NULL (then it cannot be undone). */
    alch_migration_fn upgrade_fn;   /**< C applying the step, or NULL. */
    alch_migration_fn downgrade_fn; /**< C undoing it, or NULL. */
    void *data;                     /**< Passed to the two functions. */
} alch_migration;

/** @brief The ordered list of a program's steps: build it with ALCH_MIGRATIONS(). */
typedef struct alch_migrations {
    const alch_migration *steps; /**< The steps, oldest first. */
    size_t count;                /**< How many. */
} alch_migrations;

/** @brief `static const alch_migrations m = ALCH_MIGRATIONS(steps_array);` */
#define ALCH_MIGRATIONS(steps_array) {(steps_array), sizeof(steps_array) / sizeof((steps_array)[0])}

/**
 * @brief Apply the steps not applied yet, in order, up to @p target (Alembic's `upgrade`).
 *
 * Takes the advisory lock, creates the version table when missing, then runs each missing
 * step in its own transaction with its row in `alch_version`. Nothing to do is not an error:
 * a second run applies nothing. Echo shows each step (`migrate: upgrade 0002_quantity
 * (items get a quantity)`) and its SQL.
 *
 * The list is checked before anything is sent: ids set and distinct, each step with exactly
 * one upgrade. The database is checked against it: a recorded step the list does not have (a
 * newer program migrated it), or a step missing before recorded ones (a step inserted in the
 * middle of the history), is refused with a sentence naming it.
 *
 * @param conn     A sync connection with no transaction open.
 * @param m        The steps.
 * @param target   The id of the last step to apply, or NULL for all of them (the head).
 * @param applied  Optional: receives how many steps this call applied.
 * @param err      Optional details on failure.
 * @return 0; ::ALCH_EARGUMENT for a bad list or an unknown target ("did you mean ...?");
 *         ::ALCH_EMISUSE for a NULL argument or an open transaction; the failing step's
 *         error, its message starting "migration step '<id>' failed", after which the
 *         database stays at the step before it.
 */
ALCH_API int alch_migrate_upgrade(alch_conn *conn, const alch_migrations *m, const char *target,
                                  size_t *applied, alch_error *err);

/**
 * @brief Undo applied steps, newest first, until @p target is the last one applied.
 *
 * Each step's downgrade runs in its own transaction that also deletes its row, under the
 * advisory lock. Every step to undo must have a downgrade: otherwise nothing is undone and
 * the error names the step.
 *
 * @param conn    A sync connection with no transaction open.
 * @param m       The steps.
 * @param target  The id of the step to stop at (it stays applied), or NULL to undo all.
 * @param undone  Optional: receives how many steps were undone.
 * @param err     Optional details on failure.
 * @return 0, or an error as for alch_migrate_upgrade().
 */
ALCH_API int alch_migrate_downgrade(alch_conn *conn, const alch_migrations *m, const char *target,
                                    size_t *undone, alch_error *err);

/**
 * @brief Where the database stands: the last applied step (Alembic's `current`).
 *
 * Read-only: no lock, no version table created. A transaction it had to open is rolled back.
 *
 * @param conn  A sync connection with no transaction open.
 * @param m     The steps.
 * @param id    Receives the step's id (a pointer into @p m), or NULL when none is applied.
 * @param err   Optional details on failure.
 * @return 0; ::ALCH_EARGUMENT when the database records a step @p m does not have.
 */
ALCH_API int alch_migrate_current(alch_conn *conn, const alch_migrations *m, const char **id,
                                  alch_error *err);

/**
 * @brief Print every step, oldest first, with whether it is applied (Alembic's `history`).
 *
 * One line per step: `[x]` applied or `[ ]` pending, the id, the description:
 *
 *     [x] 0001_shop      the shop's tables
 *     [ ] 0002_quantity  items get a quantity
 *
 * Read-only, like alch_migrate_current().
 *
 * @param conn  A sync connection with no transaction open.
 * @param m     The steps.
 * @param out   Where to print, e.g. stdout.
 * @param err   Optional details on failure.
 * @return 0 or an error as for alch_migrate_current().
 */
ALCH_API int alch_migrate_history(alch_conn *conn, const alch_migrations *m, FILE *out,
                                  alch_error *err);

/** @brief Flags of alch_base_diff(). */
enum alch_diff_flags {
    ALCH_DIFF_DESTRUCTIVE = 1, /**< Also emit the changes that lose data (DROP TABLE, DROP
                                    COLUMN, a narrowing ALTER COLUMN ... TYPE). */
    ALCH_DIFF_MODEL_TABLES = 2, /**< Compare only the tables the models declare: tables of
                                     other programs sharing the database are not listed as
                                     extra (Alembic's `include_object` for this common case). */
};

/**
 * @brief The DDL that would bring the live database to the models of @p base.
 *
 * Reads the current schema's tables, columns (type, nullability, default, identity),
 * primary, unique and foreign keys and indexes from `pg_catalog`, compares them with the
 * models, and writes one statement per line, ending with `;`, in an order that can run:
 * per table (parents first), the constraints and indexes to drop, then the columns to add
 * or alter, then the constraints and indexes to add; a missing table is one CREATE TABLE
 * (without `IF NOT EXISTS`: a migration should fail loudly). Tables the models do not have
 * come last; `alch_version` is never reported.
 *
 * Constraints and indexes are matched by the names create_all gives them (`pk_`, `uq_`,
 * `fk_`, `ix_`): one named otherwise is reported as extra, and the model's as missing (a
 * primary key is renamed instead). Check constraints are not compared. A server default is
 * compared as text after dropping the trailing cast the server adds to it (it prints ``'new'``
 * back as ``'new'`` cast to text): otherwise write it the way the server prints it back.
 *
 * A change that would lose data is written as a comment,
 * `-- not emitted, it would lose data: ALTER TABLE items DROP COLUMN weight;`,
 * unless @p flags has ::ALCH_DIFF_DESTRUCTIVE. A database that matches gives "".
 *
 * Read-only; a transaction it had to open is rolled back.
 *
 * @param base   The models (checked first when needed).
 * @param conn   A sync connection with no transaction open.
 * @param flags  0, or ::ALCH_DIFF_DESTRUCTIVE and ::ALCH_DIFF_MODEL_TABLES or-ed.
 * @param ddl    Receives the text; free it with free().
 * @param err    Optional details on failure.
 * @return 0, a check error of the base, ::ALCH_EMISUSE, ::ALCH_ENOMEM or the server's error.
 */
ALCH_API int alch_base_diff(alch_base *base, alch_conn *conn, unsigned flags, char **ddl,
                            alch_error *err);

/** @} */

#ifdef __cplusplus
}
#endif

#endif
