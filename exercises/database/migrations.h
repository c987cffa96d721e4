/* database/migrations.h: the shop's schema changes (lesson 08), Alembic's versions/ folder in
 * C. `./tutor db migrate` applies them to your shop's database; exercise 09 adds one. */
#ifndef DATABASE_MIGRATIONS_H
#define DATABASE_MIGRATIONS_H

#include <alch/alch.h>

/* The steps, oldest first (migrations.c). */
extern const alch_migrations db_migrations;

#endif
