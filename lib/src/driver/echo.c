/* echo: the SQL each call emits, written as it happens (SQLAlchemy's echo=True). In the
 * driver's room: the driver writes the lines, to where the engine's settings say. */
#include <stdarg.h>
#include <stdio.h>

#include "driver/driver.h"

void alch__echo_line(const alch__echo *echo, const char *fmt, ...)
{
    if (!echo || !echo->on)
        return;
    FILE *f = echo->file ? echo->file : stdout;
    va_list ap;
    va_start(ap, fmt);
    fputs("[alch] ", f);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    va_end(ap);
    fflush(f); /* keep echo and the program's own output in order */
}
