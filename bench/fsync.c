/* How many durable 4 KiB writes per second this disk takes: the ceiling for a database that commits
 * each transaction alone (one WAL append + fdatasync), and the figure group commit is measured against.
 *
 *   fsync DIR [SECONDS]      (default 5 s)
 *
 * Writes 4 KiB at the next offset of a preallocated 4 MiB file in DIR (cycling, as SQLite reuses its
 * WAL after a checkpoint) and calls fdatasync(2) after each write, for SECONDS. Prints
 * "fdatasync_ops_per_s=N" and a human line on stderr. The file is removed at the end. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 4096
#define BLOCKS 1024 /* a 4 MiB file, about the size of SQLite's default WAL */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static char block[BLOCK];
	char path[4096];
	double seconds = 5, t0, t1, worst = 0;
	long long ops = 0;
	int fd;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s DIR [SECONDS]\n", argv[0]);
		return 2;
	}
	if (argc == 3) {
		char *end;
		seconds = strtod(argv[2], &end);
		if (*end || seconds <= 0 || seconds > 60) {
			fprintf(stderr, "fsync: SECONDS must be in (0, 60]\n");
			return 2;
		}
	}
	if (snprintf(path, sizeof(path), "%s/fsync-bench.%ld", argv[1], (long)getpid()) >= (int)sizeof(path)) {
		fprintf(stderr, "fsync: path too long\n");
		return 2;
	}
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "fsync: %s: %s\n", path, strerror(errno));
		return 1;
	}
	memset(block, 'x', sizeof(block));
	/* Allocate and persist the whole file first, so the timed loop measures data syncs, not
	 * size changes (which make fdatasync flush metadata too). */
	for (int i = 0; i < BLOCKS; i++) {
		if (pwrite(fd, block, BLOCK, (off_t)i * BLOCK) != BLOCK) {
			fprintf(stderr, "fsync: write: %s\n", strerror(errno));
			goto fail;
		}
	}
	if (fsync(fd) != 0) {
		fprintf(stderr, "fsync: fsync: %s\n", strerror(errno));
		goto fail;
	}

	t0 = now_s();
	t1 = t0;
	while (t1 - t0 < seconds) {
		double a = t1;
		block[0] = (char)('a' + ops % 26);
		if (pwrite(fd, block, BLOCK, (off_t)(ops % BLOCKS) * BLOCK) != BLOCK) {
			fprintf(stderr, "fsync: write: %s\n", strerror(errno));
			goto fail;
		}
		if (fdatasync(fd) != 0) {
			fprintf(stderr, "fsync: fdatasync: %s\n", strerror(errno));
			goto fail;
		}
		ops++;
		t1 = now_s();
		if (t1 - a > worst)
			worst = t1 - a;
	}
	close(fd);
	unlink(path);
	fprintf(stderr, "fsync: %lld writes of 4 KiB + fdatasync in %.2f s in %s: %.0f ops/s, mean %.3f ms, worst %.3f ms\n",
		ops, t1 - t0, argv[1], (double)ops / (t1 - t0), (t1 - t0) * 1e3 / (double)ops, worst * 1e3);
	printf("fdatasync_ops_per_s=%.0f\n", (double)ops / (t1 - t0));
	return 0;
fail:
	close(fd);
	unlink(path);
	return 1;
}
