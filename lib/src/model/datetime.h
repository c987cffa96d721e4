/* Timestamps and dates in PostgreSQL's ISO text form, both ways, over the whole proleptic
 * Gregorian calendar (BC included), with no libc time function: timegm() and gmtime_r()
 * stop at the limits of time_t and struct tm, and know nothing of BC.
 *
 * The connection pins DateStyle to ISO (see conn.c), so this is the only form read. */
#ifndef ALCH_MODEL_DATETIME_H
#define ALCH_MODEL_DATETIME_H

#include <stddef.h>
#include <stdint.h>

enum {
    ALCH__DT_TMP = 48,      /* room for any rendered timestamp or date, NUL included */
    ALCH__DT_BAD = -1,      /* not a timestamp (date) in ISO form */
    ALCH__DT_RANGE = -2,    /* a real one, beyond what the C type holds */
};

/* "2024-05-06 07:08:09.123456+02:30", "0044-03-15 12:00:00+00 BC", "infinity": 0, or
 * ALCH__DT_BAD / ALCH__DT_RANGE. */
int alch__ts_parse(const char *s, size_t len, int64_t *usec);
/* "2024-05-06", "0044-03-15 BC", "-infinity": 0, or ALCH__DT_BAD / ALCH__DT_RANGE. */
int alch__date_parse(const char *s, size_t len, int32_t *days);

/* The text PostgreSQL reads back as the same moment (day), whatever its TimeZone. */
void alch__ts_render(int64_t usec, char out[ALCH__DT_TMP]);
void alch__date_render(int32_t days, char out[ALCH__DT_TMP]);
/* A moment of usec microseconds after the day epoch_days days after 1970-01-01 (10957:
 * PostgreSQL's binary epoch, 2000-01-01), as the server prints it with TimeZone UTC and
 * DateStyle ISO ("294276-12-31 23:59:59+00", fractions without trailing zeros), for
 * sentences about values beyond what alch_timestamp holds. */
void alch__ts_render_utc(int64_t usec, int64_t epoch_days, char out[ALCH__DT_TMP]);

#endif
