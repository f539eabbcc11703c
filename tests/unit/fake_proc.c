/* A fake from tests/fakes/ as a child process (see fake_proc.h): the pipes, the thread that keeps
 * everything the fake prints, and waiting for a line of it, written once for every unit test that
 * runs a fake. */
#define _GNU_SOURCE /* pipe2 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fake_proc.h"

#define LISTENING "listening https://127.0.0.1:"

static void *reader_main(void *arg)
{
	struct fake_proc *f = arg;
	char chunk[8192];
	ssize_t n;

	for (;;) {
		n = read(f->out, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		pthread_mutex_lock(&f->mu);
		if (n <= 0) {
			f->eof = true;
			pthread_cond_broadcast(&f->cv);
			pthread_mutex_unlock(&f->mu);
			return NULL;
		}
		if (f->len + (size_t)n + 1 > f->cap) {
			f->cap = (f->len + (size_t)n + 1) * 2;
			f->text = realloc(f->text, f->cap);
			if (!f->text)
				abort();
		}
		memcpy(f->text + f->len, chunk, (size_t)n);
		f->len += (size_t)n;
		f->text[f->len] = '\0';
		pthread_cond_broadcast(&f->cv);
		pthread_mutex_unlock(&f->mu);
	}
}

/* Forks argv with its stdin and stdout on pipes and starts the reader: 0, or -1 with f->pid 0
 * when nothing runs. */
static int spawn(struct fake_proc *f, const char *const *argv)
{
	int to_child[2], from_child[2];

	if (pipe2(to_child, O_CLOEXEC) != 0)
		return -1;
	if (pipe2(from_child, O_CLOEXEC) != 0) {
		close(to_child[0]);
		close(to_child[1]);
		return -1;
	}
	f->pid = fork();
	if (f->pid == 0) {
		/* A failed assertion skips fake_proc_stop: the fake must not outlive the test. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(to_child[0], 0);
		dup2(from_child[1], 1);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(to_child[0]);
	close(from_child[1]);
	f->in = to_child[1];
	f->out = from_child[0];
	if (f->pid < 0) {
		f->pid = 0;
		close(f->in);
		close(f->out);
		return -1;
	}
	if (pthread_create(&f->reader, NULL, reader_main, f) != 0) {
		close(f->in);
		kill(f->pid, SIGTERM);
		waitpid(f->pid, NULL, 0);
		close(f->out);
		f->pid = 0;
		return -1;
	}
	return 0;
}

int fake_proc_start(struct fake_proc *f, const char *const *argv)
{
	char line[256];

	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	if (spawn(f, argv) != 0) {
		pthread_mutex_destroy(&f->mu);
		pthread_cond_destroy(&f->cv);
		return -1;
	}
	if (fake_proc_wait_line(f, 0, LISTENING, line, sizeof(line))) {
		snprintf(f->origin, sizeof(f->origin), "%s", strchr(line, ' ') + 1);
		f->port = (int)strtol(strrchr(line, ':') + 1, NULL, 10);
	}
	if (f->port <= 0) {
		fake_proc_stop(f);
		return -1;
	}
	return 0;
}

void fake_proc_stop(struct fake_proc *f)
{
	if (f->pid <= 0)
		return;
	close(f->in);
	kill(f->pid, SIGTERM);
	waitpid(f->pid, NULL, 0);
	pthread_join(f->reader, NULL);
	close(f->out);
	free(f->text);
	f->text = NULL;
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	f->pid = 0;
}

size_t fake_proc_mark(struct fake_proc *f)
{
	size_t n;

	pthread_mutex_lock(&f->mu);
	n = f->len;
	pthread_mutex_unlock(&f->mu);
	return n;
}

bool fake_proc_wait_line(struct fake_proc *f, size_t from, const char *needle, char *out,
			 size_t cap)
{
	struct timespec until;
	bool found = false;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += FAKE_PROC_WAIT_MS / 1000;
	pthread_mutex_lock(&f->mu);
	for (;;) {
		const char *hit = f->text && from < f->len ? strstr(f->text + from, needle) : NULL;
		const char *start, *end;

		if (hit && (end = strchr(hit, '\n'))) {
			for (start = hit; start > f->text + from && start[-1] != '\n'; start--)
				;
			snprintf(out, cap, "%.*s", (int)(end - start), start);
			found = true;
			break;
		}
		if (f->eof || pthread_cond_timedwait(&f->cv, &f->mu, &until) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&f->mu);
	return found;
}

char *fake_proc_since(struct fake_proc *f, size_t from)
{
	char *s;

	pthread_mutex_lock(&f->mu);
	s = strndup(f->text ? f->text + from : "", f->len - from);
	pthread_mutex_unlock(&f->mu);
	assert_non_null(s);
	return s;
}

void fake_proc_send(struct fake_proc *f, const char *json_line)
{
	struct iovec iov[2] = { { .iov_base = (void *)json_line, .iov_len = strlen(json_line) },
				{ .iov_base = "\n", .iov_len = 1 } };

	assert_int_equal(writev(f->in, iov, 2), (ssize_t)(iov[0].iov_len + 1));
}

long fake_proc_field(const char *line, const char *name)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), "\"%s\":", name);
	p = strstr(line, key);
	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}
