/* Versioned schema migrations, one SQL file per version and dialect, compiled into the binary
 * (cmake/embed_migrations.cmake). */
#ifndef LOY_STORE_MIGRATE_H
#define LOY_STORE_MIGRATE_H

#include "base/err.h"

struct db;

struct migration {
	const char *dialect; /* "sqlite" or "postgres" */
	int version;
	const char *name;
	const char *sql;
};

extern const struct migration migrations[];
extern const unsigned migrations_count;

/* Applies every migration of the database's dialect newer than the recorded version, each in its own
 * durable transaction, in order. Safe to run concurrently from several nodes on PostgreSQL (the
 * version row is the lock). Sets *applied to the number applied. */
enum loy_err migrate_run(struct db *db, int *applied);

#endif
