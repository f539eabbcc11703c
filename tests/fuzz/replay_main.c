/* Corpus replay: the main() that stands in for libFuzzer in the ordinary (gcc) and sanitizer
 * builds. It feeds every file of each directory (or each file) named on argv to
 * LLVMFuzzerTestOneInput once, so `ctest` keeps every driver compiling and every seed passing its
 * properties; a broken property aborts, which fails the test. An argument that yields no input at
 * all is an error too, so a mistyped corpus path cannot make a test pass by running nothing. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Reads the whole file into a buffer of exactly its size (a sanitizer then sees any over-read, as
 * under libFuzzer), runs it, frees it. Returns 0 or -1 if the file cannot be read. */
static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *data = NULL;
	long size;
	int rc = -1;

	if (!f)
		goto out;
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		goto out;
	data = malloc(size ? (size_t)size : 1);
	if (!data || fread(data, 1, (size_t)size, f) != (size_t)size)
		goto out;
	LLVMFuzzerTestOneInput(data, (size_t)size);
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "replay: cannot read %s\n", path);
	free(data);
	if (f)
		fclose(f);
	return rc;
}

/* Runs every regular file in dir (not recursing). Returns how many, or -1 on a read error. */
static long replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	long n = 0;

	if (!d) {
		fprintf(stderr, "replay: cannot open %s\n", dir);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path) ||
		    stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (replay_file(path) != 0) {
			n = -1;
			break;
		}
		n++;
	}
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	long total = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		long n;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: no such file or directory: %s\n", argv[i]);
			return 1;
		}
		n = S_ISDIR(st.st_mode) ? replay_dir(argv[i]) : replay_file(argv[i]) == 0 ? 1 : -1;
		if (n <= 0) {
			if (n == 0)
				fprintf(stderr, "replay: %s holds no inputs\n", argv[i]);
			return 1;
		}
		total += n;
	}
	printf("replay: %ld inputs, all properties held\n", total);
	return 0;
}
