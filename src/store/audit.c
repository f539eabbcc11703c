/* The audit log of staff actions (see store.h). */
#include "store/db.h"
#include "store/store.h"

static const char sql_insert[] =
	"INSERT INTO audit_log (business_id, actor, action, target, ip, created_at) "
	"VALUES ($1, $2, $3, $4, $5, $6)";

enum loy_err store_audit(struct store_tx *tx, int64_t business_id, const char *actor,
			 const char *action, const char *target, const char *ip)
{
	struct db_param p[] = { P_INT(business_id), P_TEXT(actor), P_TEXT(action),
				P_TEXT(target),	    P_TEXT(ip),	   P_INT(tx->now) };
	return db_exec(tx->c, tx->a, sql_insert, p, 6, NULL);
}
