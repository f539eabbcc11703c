/* Checks and parsers for what devices send the PassKit web service (see passkit_input.h). Every
 * function reads exactly the bytes of its view and nothing past them. */
#include "api/passkit_input.h"

#include <string.h>
#include <strings.h>

static bool id_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

bool passkit_id_ok(struct str s, size_t max)
{
	if (s.len == 0 || s.len > max || s.p[0] == '.')
		return false;
	for (size_t i = 0; i < s.len; i++)
		if (!id_char(s.p[i]))
			return false;
	return true;
}

bool passkit_auth_parse(const char *header, enum passkit_scheme *scheme, struct str *token)
{
	static const struct {
		const char *name;
		enum passkit_scheme scheme;
	} schemes[] = { { "ApplePass", PASSKIT_APPLE }, { "AndroidPass", PASSKIT_ANDROID } };
	const char *p = NULL;

	if (!header)
		return false;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t n = strlen(schemes[i].name);
		if (strncasecmp(header, schemes[i].name, n) == 0 && header[n] == ' ') {
			p = header + n;
			*scheme = schemes[i].scheme;
			break;
		}
	}
	if (!p)
		return false;
	while (*p == ' ')
		p++;
	*token = str_from(p);
	return token->len > 0 && token->len <= PASSKIT_AUTH_TOKEN_MAX &&
	       str_is_visible_ascii(*token);
}

bool passkit_push_token_ok(enum passkit_scheme scheme, struct str s)
{
	if (scheme == PASSKIT_APPLE) {
		if (s.len != 64)
			return false;
		for (size_t i = 0; i < s.len; i++) {
			char c = s.p[i];
			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			      (c >= 'A' && c <= 'F')))
				return false;
		}
		return true;
	}
	if (s.len == 0 || s.len > PASSKIT_ANDROID_TOKEN_MAX)
		return false;
	for (size_t i = 0; i < s.len; i++)
		if (!id_char(s.p[i]) && s.p[i] != ':')
			return false;
	return true;
}

bool passkit_link_ok(struct str s)
{
	if (s.len < PASSKIT_LINK_MIN || s.len > PASSKIT_LINK_MAX)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.p[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

bool passkit_tag_parse(struct str s, int64_t *out)
{
	int64_t v = 0;

	if (s.len == 0 || s.len > PASSKIT_TAG_DIGITS_MAX)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		v = v * 10 + (s.p[i] - '0'); /* 18 digits cannot overflow */
	}
	*out = v;
	return true;
}

/* ---- HTTP dates (RFC 9110 section 5.6.7), without the C library's locale or time zone ---- */

#define HTTP_DATE_SECS_MAX INT64_C(253402300799) /* 9999-12-31 23:59:59 */

static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
static const char days_short[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const days_long[7] = { "Sunday",   "Monday", "Tuesday", "Wednesday",
					  "Thursday", "Friday", "Saturday" };

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static char *put_num(char *p, int64_t v, int width)
{
	for (int i = width - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + width;
}

void passkit_http_date_format(int64_t secs, char out[PASSKIT_HTTP_DATE_SIZE])
{
	int64_t days, rem, y;
	int m, d;
	char *p = out;

	if (secs < 0)
		secs = 0;
	if (secs > HTTP_DATE_SECS_MAX)
		secs = HTTP_DATE_SECS_MAX;
	days = secs / 86400;
	rem = secs % 86400;
	civil_from_days(days, &y, &m, &d);
	memcpy(p, days_short[(days + 4) % 7], 3); /* 1970-01-01 was a Thursday */
	p += 3;
	*p++ = ',';
	*p++ = ' ';
	p = put_num(p, d, 2);
	*p++ = ' ';
	memcpy(p, months[m - 1], 3);
	p += 3;
	*p++ = ' ';
	p = put_num(p, y, 4);
	*p++ = ' ';
	p = put_num(p, rem / 3600, 2);
	*p++ = ':';
	p = put_num(p, rem / 60 % 60, 2);
	*p++ = ':';
	p = put_num(p, rem % 60, 2);
	memcpy(p, " GMT", 5);
}

/* A cursor over the view: each step consumes what it matched, or fails. */
struct scan {
	const char *p, *end;
};

static bool lit(struct scan *s, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
		return false;
	s->p += n;
	return true;
}

/* Exactly n digits. */
static bool digits(struct scan *s, int n, int *out)
{
	int v = 0;
	if (s->end - s->p < n)
		return false;
	for (int i = 0; i < n; i++) {
		if (s->p[i] < '0' || s->p[i] > '9')
			return false;
		v = v * 10 + (s->p[i] - '0');
	}
	s->p += n;
	*out = v;
	return true;
}

static bool month(struct scan *s, int *out)
{
	for (int i = 0; i < 12; i++)
		if (lit(s, months[i])) {
			*out = i + 1;
			return true;
		}
	return false;
}

static bool day_name(struct scan *s, bool long_form)
{
	for (int i = 0; i < 7; i++)
		if (lit(s, long_form ? days_long[i] : days_short[i]))
			return true;
	return false;
}

/* "HH:MM:SS" */
static bool clock_time(struct scan *s, int *h, int *mi, int *sec)
{
	return digits(s, 2, h) && lit(s, ":") && digits(s, 2, mi) && lit(s, ":") &&
	       digits(s, 2, sec) && *h <= 23 && *mi <= 59 && *sec <= 60;
}

static bool leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool date_ok(int64_t y, int m, int d)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return y >= 1970 && m >= 1 && m <= 12 && d >= 1 && d <= mdays[m - 1] + (m == 2 && leap(y));
}

/* IMF-fixdate after "Sun, ": 06 Nov 1994 08:49:37 GMT */
static bool imf_fixdate(struct scan *s, int64_t *y, int *m, int *d, int *h, int *mi, int *sec)
{
	int y4 = 0;
	if (!(digits(s, 2, d) && lit(s, " ") && month(s, m) && lit(s, " ") && digits(s, 4, &y4) &&
	      lit(s, " ") && clock_time(s, h, mi, sec) && lit(s, " GMT")))
		return false;
	*y = y4;
	return true;
}

/* asctime after "Sun ": Nov  6 08:49:37 1994 (the day is two digits or a space and one) */
static bool asctime_date(struct scan *s, int64_t *y, int *m, int *d, int *h, int *mi, int *sec)
{
	int y4 = 0;
	if (!month(s, m) || !lit(s, " "))
		return false;
	if (lit(s, " ") ? !digits(s, 1, d) : !digits(s, 2, d))
		return false;
	if (!(lit(s, " ") && clock_time(s, h, mi, sec) && lit(s, " ") && digits(s, 4, &y4)))
		return false;
	*y = y4;
	return true;
}

/* RFC 850 after "Sunday, ": 06-Nov-94 08:49:37 GMT; the century is the one that puts the year
 * at most 50 years after now's. */
static bool rfc850_date(struct scan *s, int64_t now_secs, int64_t *y, int *m, int *d, int *h,
			int *mi, int *sec)
{
	int yy = 0, nm, nd;
	int64_t now_y, c;

	if (!(digits(s, 2, d) && lit(s, "-") && month(s, m) && lit(s, "-") && digits(s, 2, &yy) &&
	      lit(s, " ") && clock_time(s, h, mi, sec) && lit(s, " GMT")))
		return false;
	civil_from_days(now_secs / 86400, &now_y, &nm, &nd);
	c = now_y - now_y % 100 + yy;
	*y = c > now_y + 50 ? c - 100 : c;
	return true;
}

bool passkit_http_date_parse(struct str str, int64_t now_secs, int64_t *out)
{
	struct scan s = { str.p, str.p + str.len };
	int d = 0, m = 0, h = 0, mi = 0, sec = 0;
	int64_t y = 0;
	bool ok;

	if (day_name(&s, false) && lit(&s, ", ")) {
		ok = imf_fixdate(&s, &y, &m, &d, &h, &mi, &sec);
	} else {
		s.p = str.p;
		if (day_name(&s, false) && lit(&s, " ")) {
			ok = asctime_date(&s, &y, &m, &d, &h, &mi, &sec);
		} else {
			s.p = str.p;
			ok = day_name(&s, true) && lit(&s, ", ") &&
			     rfc850_date(&s, now_secs, &y, &m, &d, &h, &mi, &sec);
		}
	}
	if (!ok || s.p != s.end || !date_ok(y, m, d))
		return false;
	/* A leap second (:60) is the second before the next minute for our whole-second tags. */
	*out = days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60 + (sec > 59 ? 59 : sec);
	return true;
}

bool passkit_log_serial(struct str message, struct str *serial)
{
	static const char key[] = "serial number ";
	const size_t klen = sizeof(key) - 1;

	for (size_t i = 0; i + klen <= message.len; i++) {
		size_t start = i + klen, end = start;
		if (memcmp(message.p + i, key, klen) != 0)
			continue;
		while (end < message.len && id_char(message.p[end]))
			end++;
		while (end > start && message.p[end - 1] == '.')
			end--;
		if (end > start && end - start <= PASSKIT_SERIAL_MAX) {
			*serial = (struct str){ message.p + start, end - start };
			return true;
		}
	}
	return false;
}
