/* Wall-clock and monotonic time, and the one timestamp format the API speaks:
 * UTC ISO 8601 with milliseconds ("2026-11-25T20:30:00.000Z"). */
#ifndef LOY_BASE_TIMEUTIL_H
#define LOY_BASE_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t time_now_ms(void);
/* Milliseconds from CLOCK_MONOTONIC, for durations. */
int64_t time_mono_ms(void);
int64_t time_mono_us(void);
/* Writes the ISO form of ms into out (size >= 25). */
void time_format_iso(int64_t ms, char *out, size_t outsz);
/* Parses a calendar date "YYYY-MM-DD" (a real date, years 1900..2100). */
bool time_parse_date(const char *s, size_t len, int *y, int *m, int *d);

#endif
