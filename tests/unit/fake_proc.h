/* A fake from tests/fakes/ run as a child process, for the unit tests that talk to one (APNs,
 * the WalletPasses push API, Google): its stdin takes JSON control lines, everything it prints on
 * stdout is kept and can be waited for line by line. The fakes share one protocol: a first line
 * "listening https://127.0.0.1:PORT", then one JSON line per answered request, and a
 * {"stats":{...}} line in answer to the control line {"stats":true}.
 * Test code only: failures end the test through cmocka's assertions. */
#ifndef LOY_TESTS_UNIT_FAKE_PROC_H
#define LOY_TESTS_UNIT_FAKE_PROC_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* How long fake_proc_start and fake_proc_wait_line wait for a line. */
#define FAKE_PROC_WAIT_MS 10000

struct fake_proc {
	pid_t pid;
	int in;		 /* its stdin */
	int out;	 /* its stdout */
	char origin[64]; /* https://127.0.0.1:PORT, from its "listening" line */
	int port;
	pthread_t reader; /* appends what it prints to text */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *text; /* everything it printed */
	size_t len, cap;
	bool eof;
};

/* Runs argv (NULL-terminated; argv[0] is looked up in PATH) with its stdin and stdout on pipes and
 * a thread reading its output, and waits for its "listening" line: 0 with f->origin and f->port
 * set, -1 when it could not be started or said nothing within FAKE_PROC_WAIT_MS (it is stopped
 * then). The child gets SIGTERM when the test dies, so a failed assertion leaves no fake behind;
 * fake_proc_stop ends it otherwise. */
int fake_proc_start(struct fake_proc *f, const char *const *argv);
/* Ends the fake (closes its stdin, SIGTERM, waits) and frees what f holds; again: no-op. */
void fake_proc_stop(struct fake_proc *f);
/* How much the fake has printed so far: the `from` of a later fake_proc_wait_line. */
size_t fake_proc_mark(struct fake_proc *f);
/* Blocks until a whole line printed after offset `from` contains needle and copies that line
 * (without its newline, cut to cap - 1 bytes) into out. False after FAKE_PROC_WAIT_MS or when the
 * fake has exited without printing it. */
bool fake_proc_wait_line(struct fake_proc *f, size_t from, const char *needle, char *out,
			 size_t cap);
/* What the fake printed after offset `from`: a copy the caller frees. */
char *fake_proc_since(struct fake_proc *f, size_t from);
/* Writes json_line and a newline to the fake's stdin (it handles its lines in order). */
void fake_proc_send(struct fake_proc *f, const char *json_line);
/* The integer after "name": in a JSON line, or -1 when the line has no such field. */
long fake_proc_field(const char *line, const char *name);

#endif
