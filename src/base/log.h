/* JSON-lines logger on stdout with the seed's fields and levels (error..debug). The level is checked
 * before anything is formatted. Every string value is JSON-escaped, so untrusted input cannot forge a
 * line. Callers pass personal data only through log_mask_phone(); secrets never. */
#ifndef LOY_BASE_LOG_H
#define LOY_BASE_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_HTTP, LOG_VERBOSE, LOG_DEBUG };

/* Optional context; NULL/0/-1 members are left out of the line. */
struct log_ctx {
	const char *request_id;
	int64_t customer_id; /* 0: none */
	const char *source;  /* "api", "pos", "worker", ... */
	const char *ip;
	const char *user_agent;
	int64_t duration_ms; /* -1: none */
	const char *method;
	const char *path;
	int status; /* 0: none */
};

#define LOG_CTX_NONE ((struct log_ctx){ .duration_ms = -1 })

void log_set_level(enum log_level level);
/* Where lines go: stdout (the default, for `loy serve`) or stderr (for commands whose stdout is their
 * result, such as a new API key). */
void log_set_fd(int fd);
/* Parses "error".."debug"; false if unknown. */
bool log_level_parse(const char *name, enum log_level *out);
bool log_enabled(enum log_level level);

void log_write(enum log_level level, const struct log_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_error(...) log_write(LOG_ERROR, NULL, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, NULL, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, NULL, __VA_ARGS__)
#define log_debug(...) log_write(LOG_DEBUG, NULL, __VA_ARGS__)

/* Writes "+7******6789"-style masking (the first digit and the last four) of a phone number into out (size >= 32). */
void log_mask_phone(const char *phone, char *out, unsigned long outsz);

#endif
