/* The logger behind log.h. One line is formatted into a stack buffer and emitted with a single
 * write(2), so concurrent threads never interleave within a line. Lines longer than LOG_LINE_MAX are
 * truncated inside the message, never mid-escape. */
#include "base/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/timeutil.h"

#define LOG_LINE_MAX 4096
#define LOG_MSG_MAX 1024

static atomic_int log_level = LOG_INFO;
static atomic_int log_fd = STDOUT_FILENO;

static const char *const level_names[] = { "error", "warn", "info", "http", "verbose", "debug" };

void log_set_level(enum log_level level)
{
	atomic_store(&log_level, (int)level);
}

void log_set_fd(int fd)
{
	atomic_store(&log_fd, fd);
}

bool log_level_parse(const char *name, enum log_level *out)
{
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return true;
		}
	}
	return false;
}

bool log_enabled(enum log_level level)
{
	return (int)level <= atomic_load(&log_level);
}

struct line {
	char b[LOG_LINE_MAX];
	size_t n;
};

static void put(struct line *l, const char *s, size_t len)
{
	if (len > sizeof(l->b) - 2 - l->n)
		len = sizeof(l->b) - 2 - l->n;
	memcpy(l->b + l->n, s, len);
	l->n += len;
}

/* Appends s as a JSON string body (without quotes), escaping quotes, backslashes and controls. */
static void put_escaped(struct line *l, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[6];
		if (l->n + 8 >= sizeof(l->b) - 2)
			return;
		if (c == '"' || c == '\\') {
			esc[0] = '\\', esc[1] = (char)c;
			put(l, esc, 2);
		} else if (c < 0x20 || c == 0x7f) {
			esc[0] = '\\', esc[1] = 'u', esc[2] = '0', esc[3] = '0';
			esc[4] = hex[c >> 4], esc[5] = hex[c & 15];
			put(l, esc, 6);
		} else {
			l->b[l->n++] = (char)c;
		}
	}
}

static void put_str_field(struct line *l, const char *key, const char *val)
{
	if (!val)
		return;
	put(l, ",\"", 2);
	put(l, key, strlen(key));
	put(l, "\":\"", 3);
	put_escaped(l, val);
	put(l, "\"", 1);
}

static void put_int_field(struct line *l, const char *key, long long val)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "%lld", val);
	put(l, ",\"", 2);
	put(l, key, strlen(key));
	put(l, "\":", 2);
	put(l, num, (size_t)n);
}

void log_write(enum log_level level, const struct log_ctx *ctx, const char *fmt, ...)
{
	struct line l = { .n = 0 };
	char ts[32];
	char msg[LOG_MSG_MAX];
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	time_format_iso(time_now_ms(), ts, sizeof(ts));

	put(&l, "{\"timestamp\":\"", 14);
	put(&l, ts, strlen(ts));
	put(&l, "\",\"level\":\"", 11);
	put(&l, level_names[level], strlen(level_names[level]));
	put(&l, "\",\"message\":\"", 13);
	put_escaped(&l, msg);
	put(&l, "\"", 1);
	if (ctx) {
		put_str_field(&l, "requestId", ctx->request_id);
		if (ctx->customer_id > 0)
			put_int_field(&l, "customerId", ctx->customer_id);
		put_str_field(&l, "source", ctx->source);
		put_str_field(&l, "method", ctx->method);
		put_str_field(&l, "path", ctx->path);
		if (ctx->status)
			put_int_field(&l, "status", ctx->status);
		put_str_field(&l, "ip", ctx->ip);
		put_str_field(&l, "userAgent", ctx->user_agent);
		if (ctx->duration_ms >= 0)
			put_int_field(&l, "durationMs", ctx->duration_ms);
	}
	l.b[l.n++] = '}';
	l.b[l.n++] = '\n';
	/* A failed log write has nowhere to be reported; dropping the line is the only option. */
	ssize_t w = write(atomic_load(&log_fd), l.b, l.n);
	(void)w;
}

void log_mask_phone(const char *phone, char *out, unsigned long outsz)
{
	size_t n = phone ? strlen(phone) : 0;
	if (n < 8) {
		snprintf(out, outsz, "***");
		return;
	}
	snprintf(out, outsz, "%.2s******%s", phone, phone + n - 4);
}
