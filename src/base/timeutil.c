/* Time helpers behind timeutil.h. */
#include "base/timeutil.h"

#include <stdio.h>
#include <time.h>

int64_t time_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_mono_ms(void)
{
	return time_mono_us() / 1000;
}

int64_t time_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void time_format_iso(int64_t ms, char *out, size_t outsz)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static int days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

static bool digits(const char *s, size_t n, int *out)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

bool time_parse_date(const char *s, size_t len, int *y, int *m, int *d)
{
	if (len != 10 || s[4] != '-' || s[7] != '-')
		return false;
	if (!digits(s, 4, y) || !digits(s + 5, 2, m) || !digits(s + 8, 2, d))
		return false;
	if (*y < 1900 || *y > 2100 || *m < 1 || *m > 12 || *d < 1 || *d > days_in_month(*y, *m))
		return false;
	return true;
}
