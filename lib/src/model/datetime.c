/* Timestamps and dates as PostgreSQL's ISO text, exact over the whole calendar. The day
 * arithmetic is Howard Hinnant's days_from_civil / civil_from_days ("chrono-Compatible
 * Low-Level Date Algorithms"), on the proleptic Gregorian calendar PostgreSQL uses, where
 * astronomical year 0 is 1 BC. */
#include "model/datetime.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "alch/model.h"

enum { MAX_YEAR_DIGITS = 7 }; /* PostgreSQL's dates end in 5874897 */

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static bool leap(int64_t y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

/* A cursor over the text: every character is checked, nothing is skipped silently. */
typedef struct cur {
    const char *p, *end;
} cur;

static bool lit(cur *c, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
        return false;
    c->p += n;
    return true;
}

/* Exactly `min`..`max` digits. */
static bool digits(cur *c, int min, int max, int64_t *out)
{
    int64_t v = 0;
    int n = 0;
    while (c->p < c->end && n < max && *c->p >= '0' && *c->p <= '9') {
        v = v * 10 + (*c->p++ - '0');
        n++;
    }
    if (n < min || (c->p < c->end && *c->p >= '0' && *c->p <= '9'))
        return false;
    *out = v;
    return true;
}

/* "YYYY-MM-DD" (four or more year digits); the day number, astronomical year not yet
 * applied for BC (the caller sees " BC" at the end). */
static bool ymd(cur *c, int64_t *y, int64_t *m, int64_t *d)
{
    if (!digits(c, 4, MAX_YEAR_DIGITS, y) || !lit(c, "-") || !digits(c, 2, 2, m) ||
        !lit(c, "-") || !digits(c, 2, 2, d))
        return false;
    return *y >= 1 && *m >= 1 && *m <= 12 && *d >= 1;
}

static bool day_valid(int64_t y, int64_t m, int64_t d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return d <= mdays[m - 1] + (m == 2 && leap(y));
}

/* " BC" at the very end turns year y (1 BC, 2 BC ...) into the astronomical 0, -1 ... */
static bool era_end(cur *c, int64_t *y)
{
    if (lit(c, " BC"))
        *y = 1 - *y;
    return c->p == c->end;
}

int alch__date_parse(const char *s, size_t len, int32_t *days)
{
    cur c = {s, s + len};
    if (lit(&c, "infinity") && c.p == c.end) {
        *days = ALCH_DATE_INFINITY;
        return 0;
    }
    c.p = s;
    if (lit(&c, "-infinity") && c.p == c.end) {
        *days = ALCH_DATE_NEG_INFINITY;
        return 0;
    }
    c.p = s;
    int64_t y, m, d;
    if (!ymd(&c, &y, &m, &d) || !era_end(&c, &y) || !day_valid(y, m, d))
        return ALCH__DT_BAD;
    int64_t z = days_from_civil(y, m, d);
    if (z <= ALCH_DATE_NEG_INFINITY || z >= ALCH_DATE_INFINITY)
        return ALCH__DT_RANGE;
    *days = (int32_t)z;
    return 0;
}

int alch__ts_parse(const char *s, size_t len, int64_t *usec)
{
    cur c = {s, s + len};
    if (lit(&c, "infinity") && c.p == c.end) {
        *usec = ALCH_TIMESTAMP_INFINITY;
        return 0;
    }
    c.p = s;
    if (lit(&c, "-infinity") && c.p == c.end) {
        *usec = ALCH_TIMESTAMP_NEG_INFINITY;
        return 0;
    }
    c.p = s;
    int64_t y, mo, d, h, mi, sec, frac = 0;
    if (!ymd(&c, &y, &mo, &d) || !lit(&c, " ") || !digits(&c, 2, 2, &h) || !lit(&c, ":") ||
        !digits(&c, 2, 2, &mi) || !lit(&c, ":") || !digits(&c, 2, 2, &sec) || h > 23 ||
        mi > 59 || sec > 59)
        return ALCH__DT_BAD;
    if (lit(&c, ".")) {
        const char *start = c.p;
        if (!digits(&c, 1, 6, &frac))
            return ALCH__DT_BAD;
        for (ptrdiff_t n = c.p - start; n < 6; n++)
            frac *= 10;
    }
    int64_t off = 0; /* the UTC offset, in seconds east */
    if (c.p < c.end && (*c.p == '+' || *c.p == '-')) {
        int64_t sign = *c.p++ == '-' ? -1 : 1, oh, om = 0, os = 0;
        if (!digits(&c, 2, 2, &oh) || (lit(&c, ":") && !digits(&c, 2, 2, &om)) ||
            (lit(&c, ":") && !digits(&c, 2, 2, &os)) || om > 59 || os > 59)
            return ALCH__DT_BAD;
        off = sign * (oh * 3600 + om * 60 + os);
    } else {
        return ALCH__DT_BAD; /* a timestamptz always carries its offset */
    }
    if (!era_end(&c, &y) || !day_valid(y, mo, d))
        return ALCH__DT_BAD;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off, v;
    /* 7 year digits keep secs far inside int64; the microseconds may not be */
    if (__builtin_mul_overflow(secs, (int64_t)1000000, &v) || __builtin_add_overflow(v, frac, &v) ||
        v == ALCH_TIMESTAMP_INFINITY || v == ALCH_TIMESTAMP_NEG_INFINITY)
        return ALCH__DT_RANGE;
    *usec = v;
    return 0;
}

static int put_ymd(int64_t z, char *out)
{
    int64_t y;
    int m, d;
    civil_from_days(z, &y, &m, &d);
    return snprintf(out, ALCH__DT_TMP, "%04lld-%02d-%02d", (long long)(y > 0 ? y : 1 - y), m, d);
}

static bool is_bc(int64_t z)
{
    return z < days_from_civil(1, 1, 1);
}

void alch__date_render(int32_t days, char out[ALCH__DT_TMP])
{
    if (days == ALCH_DATE_INFINITY || days == ALCH_DATE_NEG_INFINITY) {
        snprintf(out, ALCH__DT_TMP, "%s", days > 0 ? "infinity" : "-infinity");
        return;
    }
    int n = put_ymd(days, out);
    if (is_bc(days))
        snprintf(out + n, (size_t)(ALCH__DT_TMP - n), " BC");
}

/* Microseconds since an epoch, split into whole days since it (rounded down, so before the
 * epoch too), the second of that day and the microsecond of that second. */
static int64_t split_usec(int64_t usec, int64_t *tod, int64_t *frac)
{
    int64_t secs = usec / 1000000;
    *frac = usec % 1000000;
    if (*frac < 0) {
        *frac += 1000000;
        secs--;
    }
    int64_t days = secs / 86400;
    *tod = secs % 86400;
    if (*tod < 0) {
        *tod += 86400;
        days--;
    }
    return days;
}

void alch__ts_render(int64_t usec, char out[ALCH__DT_TMP])
{
    if (usec == ALCH_TIMESTAMP_INFINITY || usec == ALCH_TIMESTAMP_NEG_INFINITY) {
        snprintf(out, ALCH__DT_TMP, "%s", usec > 0 ? "infinity" : "-infinity");
        return;
    }
    int64_t tod, frac, z = split_usec(usec, &tod, &frac);
    int n = put_ymd(z, out);
    snprintf(out + n, (size_t)(ALCH__DT_TMP - n), " %02d:%02d:%02d.%06d+00%s", (int)(tod / 3600),
             (int)(tod / 60 % 60), (int)(tod % 60), (int)frac, is_bc(z) ? " BC" : "");
}

void alch__ts_render_utc(int64_t usec, int64_t epoch_days, char out[ALCH__DT_TMP])
{
    int64_t tod, frac, z = split_usec(usec, &tod, &frac);
    z += epoch_days;
    int n = put_ymd(z, out);
    n += snprintf(out + n, (size_t)(ALCH__DT_TMP - n), " %02d:%02d:%02d", (int)(tod / 3600),
                  (int)(tod / 60 % 60), (int)(tod % 60));
    if (frac) { /* as the server prints it: only the digits that are not trailing zeros */
        int digits = 6;
        for (; frac % 10 == 0; frac /= 10)
            digits--;
        n += snprintf(out + n, (size_t)(ALCH__DT_TMP - n), ".%0*d", digits, (int)frac);
    }
    snprintf(out + n, (size_t)(ALCH__DT_TMP - n), "+00%s", is_bc(z) ? " BC" : "");
}
