/**
 * @file alch.h
 * @ingroup driver
 * @brief The umbrella header: include this one file to use alch.
 *
 * alch follows the layers of SQLAlchemy's asyncio tutorial, one header each:
 *
 * | layer   | header     | what it gives                                   |
 * |---------|------------|-------------------------------------------------|
 * | errors  | error.h    | status codes and the error object               |
 * | driver  | url.h      | database URLs                                   |
 * | driver  | value.h    | bound parameter values                          |
 * | driver  | conn.h     | one non-blocking connection, async and sync     |
 * | results | result.h   | rows with typed getters                         |
 * | engine  | engine.h   | engine options and the connection pool          |
 * | models  | model.h    | structs + column descriptors                    |
 * | base    | base.h     | the registry of models and its DDL              |
 * | requests| statement.h| select/insert/update/delete built from models   |
 * | session | session.h  | the session factory and the unit of work        |
 * | migrate | migrate.h  | migrations and the models-versus-database diff  |
 *
 * libuv's uv.h needs POSIX types that a strict `-std=c17` hides. Build with
 * `-D_DEFAULT_SOURCE` (or `-std=gnu17`); the CMake target `alch::alch` and
 * `pkg-config --cflags alch` add it for you.
 */
#ifndef ALCH_H
#define ALCH_H

#include "alch/version.h"
#include "alch/error.h"
#include "alch/url.h"
#include "alch/value.h"
#include "alch/result.h"
#include "alch/conn.h"
#include "alch/engine.h"
#include "alch/model.h"
#include "alch/base.h"
#include "alch/statement.h"
#include "alch/session.h"
#include "alch/migrate.h"

#endif
