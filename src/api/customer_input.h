/* Binding and checking of customer fields, shared by self-registration and the staff endpoints. */
#ifndef LOY_API_CUSTOMER_INPUT_H
#define LOY_API_CUSTOMER_INPUT_H

#include "api/api.h"

struct customer_in {
	struct jval name, phone, email, birthday, tags, notes, status, consent, consent_version;
};

/* Checks every field present in `in` and writes the normalised values into c (phone to E.164,
 * e-mail lower-cased, tags to ",a,b,"). Answers 400 naming the field and returns false on the
 * first bad one. */
bool customer_input_apply(struct http_request *req, struct http_response *res,
			  const struct customer_in *in, struct customer *c);
/* Recomputes c->search from name, phone and e-mail. */
bool customer_search_text(struct arena *a, struct customer *c);
/* Turns a free-text search into a LIKE pattern over the folded search text (NULL: no filter). */
const char *customer_search_pattern(struct arena *a, const char *query);

#endif
