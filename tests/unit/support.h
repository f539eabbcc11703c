/* Helpers the unit tests share: paths in a temporary directory, running a command, reading its
 * output, writing a file. Test code only: failures end the test through cmocka's assertions. */
#ifndef LOY_TESTS_UNIT_SUPPORT_H
#define LOY_TESTS_UNIT_SUPPORT_H

#include <stddef.h>

#include "crypto/devcerts.h"

/* "base/name" in one of eight rotating static buffers (enough for one call's arguments). */
const char *in(const char *base, const char *name);
/* Runs a shell command, output discarded (paths come from mkdtemp: no quoting needed); its exit
 * status, or -1 when it did not exit. */
int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The standard output of a command, NUL-terminated, in out. */
void output_of(char *out, size_t outsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void write_bytes(const char *path, const void *data, size_t len);
/* A devcerts report callback that says nothing. */
void quiet_report(const char *path, enum devcerts_action action, void *arg);

#endif
