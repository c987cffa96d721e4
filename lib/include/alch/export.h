/**
 * @file export.h
 * @ingroup driver
 * @brief ALCH_API: what the library exports.
 *
 * The library is compiled with hidden visibility (`-fvisibility=hidden`): a function is
 * visible outside libalch.so only when its declaration in a public header carries
 * `ALCH_API`. Internal functions (`alch__` prefix, private headers under `lib/src/`) stay
 * out of the shared library's symbol table, so a program cannot come to depend on them.
 * The test `lint.symbols` compares the exported symbols with these declarations.
 */
#ifndef ALCH_EXPORT_H
#define ALCH_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
/** @brief Marks a public declaration as exported from the shared library. */
#define ALCH_API __attribute__((visibility("default")))
#else
#define ALCH_API
#endif

#endif
