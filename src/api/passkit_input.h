/* The PassKit web service's input at the edge (api/passkit.c): the identifiers devices put in
 * paths, the `ApplePass` / `AndroidPass` Authorization header, push tokens, the update tag, HTTP
 * dates (Last-Modified, If-Modified-Since) and the serial number a device's log message names.
 * Pure functions over views, no allocation, so that a fuzz driver reaches every one. */
#ifndef LOY_API_PASSKIT_INPUT_H
#define LOY_API_PASSKIT_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/str.h"

/* Identifiers in paths, in bytes of [A-Za-z0-9._-]. */
#define PASSKIT_DEVICE_ID_MAX 128
#define PASSKIT_PASS_TYPE_MAX 255
#define PASSKIT_SERIAL_MAX 64
/* Authorization tokens (ours are 32 characters; Apple asks for at least 16). */
#define PASSKIT_AUTH_TOKEN_MAX 128
/* Android push tokens (WalletPasses): characters of [A-Za-z0-9:_.-]. */
#define PASSKIT_ANDROID_TOKEN_MAX 4096
/* Download-link tokens: URL-safe base64, 16..64 characters (ours are 32). */
#define PASSKIT_LINK_MIN 16
#define PASSKIT_LINK_MAX 64
/* The update tag: a decimal number of milliseconds, at most 18 digits. */
#define PASSKIT_TAG_DIGITS_MAX 18
/* "Sun, 06 Nov 1994 08:49:37 GMT" and its NUL. */
#define PASSKIT_HTTP_DATE_SIZE 30

/* True when s is 1..max bytes of [A-Za-z0-9._-] and does not start with '.' (so neither "."
 * nor ".." nor a hidden name): what every path identifier of the service must be. */
bool passkit_id_ok(struct str s, size_t max);

enum passkit_scheme { PASSKIT_APPLE, PASSKIT_ANDROID };

/* Parses "ApplePass <token>" or "AndroidPass <token>" (scheme case-insensitive, one or more
 * spaces, the token 1..PASSKIT_AUTH_TOKEN_MAX visible ASCII characters). *token views into
 * header. False for anything else, NULL included. */
bool passkit_auth_parse(const char *header, enum passkit_scheme *scheme, struct str *token);

/* A push token for the scheme's devices: Apple's 64 hex digits, or an Android app's
 * 1..PASSKIT_ANDROID_TOKEN_MAX characters of [A-Za-z0-9:_.-]. */
bool passkit_push_token_ok(enum passkit_scheme scheme, struct str s);

/* A download-link token (the part of /passes/<token>.pkpass before the suffix). */
bool passkit_link_ok(struct str s);

/* The update tag a device sends back as passesUpdatedSince: 1..PASSKIT_TAG_DIGITS_MAX decimal
 * digits. */
bool passkit_tag_parse(struct str s, int64_t *out);

/* Writes seconds since the epoch (0 .. year 9999) as an IMF-fixdate into out. */
void passkit_http_date_format(int64_t secs, char out[PASSKIT_HTTP_DATE_SIZE]);
/* Parses an HTTP-date in any of RFC 9110's three forms (IMF-fixdate, RFC 850, asctime) into
 * seconds since the epoch. now_secs places RFC 850's two-digit year (the most recent year with
 * those digits not more than 50 years ahead). False for anything else. */
bool passkit_http_date_parse(struct str s, int64_t now_secs, int64_t *out);

/* The serial number a device's log message names: the first run of 1..PASSKIT_SERIAL_MAX
 * characters of [A-Za-z0-9._-] right after "serial number ", trailing dots (the end of a
 * sentence) left out. False when the message names none. */
bool passkit_log_serial(struct str message, struct str *serial);

#endif
