/**
 * @file url.h
 * @ingroup driver
 * @brief Database URLs in SQLAlchemy's form, parsed and rendered with the password masked.
 *
 * Accepted forms (percent-escapes are decoded in every part):
 *
 *     postgresql://user:password@host:5432/dbname?sslmode=disable
 *     postgresql+libpq://user@[::1]:5433/dbname
 *     postgresql://user@/dbname?host=/run/postgresql        (Unix socket)
 *     postgresql://user@host1:5432,host2:5433/dbname          (several hosts, failover)
 *
 * libpq reads the URL: its own parser (`PQconninfoParse`) decides what every part means, and
 * every value alch keeps is libpq's reading (percent-escapes decoded, several hosts, IPv6 in
 * brackets, `?host=` for a Unix socket directory, its keywords and their aliases: `ssl=true`
 * and `requiressl=1` are `sslmode=require`). alch adds SQLAlchemy's layer on top: the scheme
 * with its `+driver` part, errors that give the position (counting from 1) of the bad part,
 * a "did you mean" for a misspelled query key, and the rendering with the password masked.
 * libpq's own messages quote the whole URL, password included, so alch never shows them. The
 * keys `host`, `port`, `user`, `password` and `dbname` replace the matching part of the URL;
 * for any repeated key the last value wins; '+' is not a space (write a space as `%20`).
 *
 * A URL copied from a Python project keeps working: `postgresql+asyncpg://`,
 * `postgresql+psycopg://` and `postgresql+psycopg2://` are aliases (alch speaks libpq
 * whatever the URL says; an engine with echo on says so in one line). Any other `+driver`
 * is refused with a sentence.
 *
 * **Where alch differs from libpq.** Where both accept a URL they read it the same way
 * (test_url's `test_libpq_agrees` and the fuzzer `fuzz_url` check it). alch accepts more in
 * the scheme only, and refuses some URLs libpq accepts, each with a sentence:
 * - the scheme: a `+driver` part (libpq refuses it) and any letter case (`POSTGRESQL://`);
 *   libpq wants `postgresql://` or `postgres://` in lower case;
 * - a second raw `@` (`u:p@ss@host`): libpq ends the user information at the first `@` and
 *   takes `ss@host` for the host; alch asks for `%40`;
 * - an `@` after a `host:port` with no user (`app:8080/pw@host`): a password with a raw `/`
 *   ended the user information early; libpq reads the database `pw@host`;
 * - ports are checked when parsing (digits, 1 to 65535, one per host at most): libpq takes
 *   any text (`h:abc`, `h:0`, an IPv6 address without brackets: `::1` is the port `:1`) and
 *   fails when connecting;
 * - an empty entry in a host list (`h1,,h2`): libpq reads it as the default host;
 * - an encoded `,` in a host (`h%2C2`), or one in brackets (`[::1,]`): libpq would read two
 *   hosts;
 * - a raw `/` in the database name (`/db/x`): libpq keeps it; write `%2F`;
 * - spaces, control characters and a `#fragment`: libpq passes them on.
 *
 * **Where alch differs from SQLAlchemy** (`sqlalchemy.engine.make_url`):
 * - only PostgreSQL URLs, and the drivers above (SQLAlchemy loads the driver named);
 * - every query key must be a libpq keyword (SQLAlchemy passes unknown keys to the driver),
 *   written once between two `&` (libpq refuses `a=1&&b=2`, and a second `=` in a value);
 * - several hosts (`h1:5432,h2:5433`) and `?host=` socket directories are libpq's forms,
 *   which SQLAlchemy's asyncpg dialect spells differently;
 * - a repeated query key keeps its last value (SQLAlchemy keeps them all as a tuple);
 * - '+' in a query value is a plus sign, as for libpq (SQLAlchemy decodes it as a space);
 * - the rendering masks the password as `***`, as SQLAlchemy's `render_as_string()` does,
 *   and a `sslpassword` query value too.
 */
#ifndef ALCH_URL_H
#define ALCH_URL_H

#include "alch/export.h"

#include <stdbool.h>
#include <stddef.h>

#include "alch/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @addtogroup driver
 * @{ */

/** @brief A parsed database URL (opaque). Create with alch_url_parse(), free with alch_url_free(). */
typedef struct alch_url alch_url;

/**
 * @brief Parse a URL.
 *
 * @param text  The URL, e.g. `postgresql://alch@/shop?host=/tmp/alch-x1`.
 * @param out   Receives the new URL on success; untouched on failure.
 * @param err   Optional; on failure says what is wrong and where (::ALCH_EARGUMENT).
 * @return 0, ::ALCH_EARGUMENT for a malformed URL, ::ALCH_ENOMEM, or ::ALCH_EMISUSE
 *         when @p text or @p out is NULL.
 */
ALCH_API int alch_url_parse(const char *text, alch_url **out, alch_error *err);

/**
 * @brief Free a URL.
 * @param url  The URL; NULL is allowed.
 */
ALCH_API void alch_url_free(alch_url *url);

/**
 * @brief Make an independent copy of a URL.
 * @param url  The URL to copy.
 * @return A new URL the caller frees with alch_url_free(), or NULL (out of memory, NULL @p url).
 */
ALCH_API alch_url *alch_url_copy(const alch_url *url);

/**
 * @brief Render a URL back to text, percent-encoding what needs it.
 *
 * Parsing the rendering (with the password shown) gives an equal URL. A host that is a
 * socket directory (it contains '/') or came from `?host=` is rendered as `?host=/path`,
 * and its port then goes to `?port=` as well; IPv6 hosts get their brackets back.
 *
 * @param url            The URL.
 * @param hide_password  When true the password (and a `sslpassword` query value) is shown
 *                       as `***`. Use true for anything printed or logged.
 * @return A string the caller frees with free(), or NULL (out of memory, NULL @p url).
 */
ALCH_API char *alch_url_render(const alch_url *url, bool hide_password);

/**
 * @brief The driver name: `"postgresql"`, `"postgresql+libpq"`, or the Python driver's name
 *        the URL was written with (`"postgresql+asyncpg"`, `"postgresql+psycopg"`,
 *        `"postgresql+psycopg2"`; alch speaks libpq all the same). Never NULL for a parsed URL.
 */
ALCH_API const char *alch_url_drivername(const alch_url *url);
/** @brief The decoded user name, or NULL when the URL has none. */
ALCH_API const char *alch_url_username(const alch_url *url);
/** @brief The decoded password, or NULL when the URL has none. Never print it. */
ALCH_API const char *alch_url_password(const alch_url *url);
/**
 * @brief The host(s) as libpq takes them: one name, or a comma-separated list.
 *
 * An IPv6 address is returned without its brackets. A `?host=` query key (a Unix
 * socket directory) takes precedence over the authority part.
 *
 * @return The host string, or NULL when the URL names none (libpq's default socket).
 */
ALCH_API const char *alch_url_host(const alch_url *url);
/**
 * @brief The port(s) as libpq takes them ("5432" or "5432,5433"), or NULL when none.
 *
 * With several hosts in the authority there is one entry per host, empty where a host has
 * no port (`h1,h2:5433` gives ",5433"): libpq reads an empty entry as the default port.
 */
ALCH_API const char *alch_url_port(const alch_url *url);
/** @brief The decoded database name, or NULL when the URL has none. */
ALCH_API const char *alch_url_database(const alch_url *url);

/**
 * @brief The value of a query key (not `host`, `port`, `user`, `password`, `dbname`:
 *        those are the URL's own parts, see the other accessors).
 * @param url  The URL.
 * @param key  A libpq keyword such as "sslmode".
 * @return The decoded value, or NULL when the key is absent.
 */
ALCH_API const char *alch_url_query(const alch_url *url, const char *key);

/** @brief How many query keys (other than `host`, `port`, `user`, `password`, `dbname`)
 *         the URL carries. */
ALCH_API size_t alch_url_query_count(const alch_url *url);

/**
 * @brief The i-th query key and its value, in the order they appeared.
 * @param url    The URL.
 * @param i      Index below alch_url_query_count().
 * @param key    Receives the key; may be NULL.
 * @param value  Receives the value; may be NULL.
 * @return 0, or ::ALCH_EMISUSE when @p i is out of range.
 */
ALCH_API int alch_url_query_at(const alch_url *url, size_t i, const char **key, const char **value);

/**
 * @brief Replace the database name (SQLAlchemy's `url.set(database=...)`).
 * @param url       The URL to change.
 * @param database  The new name (copied), or NULL or "" to remove it.
 * @return 0, ::ALCH_ENOMEM, or ::ALCH_EMISUSE when @p url is NULL.
 */
ALCH_API int alch_url_set_database(alch_url *url, const char *database);

/** @} */

#ifdef __cplusplus
}
#endif

#endif
