/* The demo business (see bootstrap.h). */
#include "store/bootstrap.h"

#include "base/log.h"

struct demo_ctx {
	bool created;
};

static enum loy_err demo_tx(struct store_tx *tx, void *arg)
{
	struct demo_ctx *d = arg;
	struct business b;
	enum loy_err err = store_business_default(tx, &b);

	if (err != LOY_ENOTFOUND)
		return err;
	b = (struct business){
		.slug = DEMO_SLUG,
		.name = DEMO_NAME,
		.loyalty = { .points_per_ruble_bp = DEMO_POINTS_PER_RUBLE_BP,
			     .welcome_bonus = DEMO_WELCOME_BONUS },
	};
	err = store_business_insert(tx, &b);
	d->created = err == LOY_OK;
	return err;
}

enum loy_err bootstrap_demo_business(struct store *st)
{
	struct arena a;
	struct demo_ctx d = { false };
	enum loy_err err;

	arena_init(&a, 1 << 16);
	err = store_write(st, &a, demo_tx, &d);
	arena_free(&a);
	if (err == LOY_OK && d.created)
		log_info("created the demo business '%s' (slug %s)", DEMO_NAME, DEMO_SLUG);
	/* Two nodes starting at once on PostgreSQL: the loser sees the winner's row. */
	return err == LOY_ECONFLICT ? LOY_OK : err;
}
