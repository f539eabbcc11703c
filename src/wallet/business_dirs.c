/* The folder-per-business layout (see business_dirs.h). */
#include "wallet/business_dirs.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "conf/conf.h"

struct slug_ctx {
	const char *slug;
	int64_t business_id;
};

static enum loy_err slug_tx(struct store_tx *tx, void *arg)
{
	struct slug_ctx *x = arg;
	struct business b;
	enum loy_err err = store_business_by_slug(tx, x->slug, &b);
	if (err == LOY_OK)
		x->business_id = b.id;
	return err;
}

enum loy_err business_dirs_each(struct store *st, const char *root, business_dir_fn fn, void *arg,
				char *why, size_t cap)
{
	DIR *d = opendir(root);
	struct dirent *e;
	enum loy_err err = LOY_OK;

	if (!d) {
		snprintf(why, cap, "%s: %s", root, strerror(errno));
		return LOY_EINVALID;
	}
	while (err == LOY_OK && (e = readdir(d))) {
		char dir[CONF_STR_MAX + 300];
		struct slug_ctx x = { .slug = e->d_name };
		struct stat sb;
		struct arena a;

		snprintf(dir, sizeof(dir), "%s/%s", root, e->d_name);
		if (e->d_name[0] == '.' || stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
			continue;
		arena_init(&a, 1 << 16);
		err = store_read(st, &a, slug_tx, &x);
		arena_free(&a);
		if (err != LOY_OK) {
			snprintf(why, cap, "%s: no business has the slug %s (%s)", dir, e->d_name,
				 err_code(err));
			err = LOY_EINVALID;
			break;
		}
		err = fn(dir, e->d_name, x.business_id, arg);
	}
	closedir(d);
	return err;
}
