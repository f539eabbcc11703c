/* First-start content: an empty database gets a demo business so that a fresh install shows points
 * moving at once (5 % back, a welcome bonus). */
#ifndef LOY_STORE_BOOTSTRAP_H
#define LOY_STORE_BOOTSTRAP_H

#include "store/store.h"

#define DEMO_SLUG "demo"
#define DEMO_NAME "Demo Café"
#define DEMO_POINTS_PER_RUBLE_BP 500
#define DEMO_WELCOME_BONUS 100

/* Creates the demo business unless some business exists. Safe to run on every start. */
enum loy_err bootstrap_demo_business(struct store *st);

#endif
