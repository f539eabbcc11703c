/* One Google issuer with its service account (struct gid, gwallet_impl.h): loading the key,
 * the API client, and one probe call at start. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "crypto/google_sa.h"
#include "wallet/google/gid.h"

/* Problems are kept for the life of the process (they are shown by the admin's status). */
#define PROBLEM_MAX (GAPI_MESSAGE_MAX + 400)

static bool digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static const char *keep(const char *fmt, const char *a, const char *b)
{
	static char buf[PROBLEM_MAX];
	snprintf(buf, sizeof(buf), fmt, a, b);
	return buf;
}

/* One cheap call at start: a key Google refuses, or an issuer the service account may not use,
 * is found now and said plainly, instead of in every job later. Google being unreachable is not a
 * set-up error: the jobs wait for it. */
static enum loy_err probe(struct gid *id, const char *origin, const char **problem)
{
	static char why[PROBLEM_MAX];
	char path[64 + GW_ISSUER_ID_MAX];
	struct gapi_result r;
	char *resp = NULL;
	enum loy_err err;

	snprintf(path, sizeof(path), "/walletobjects/v1/loyaltyClass?issuerId=%s&maxResults=1",
		 id->issuer_id);
	err = gapi_call(id->api, "GET", path, NULL, &r, &resp);
	free(resp);
	if (err != LOY_OK)
		return err;
	if (r.status == GAPI_RETRY)
		log_warn(
			"Google Wallet (%s): Google cannot be reached now (%s); updates wait for it",
			origin, r.message);
	if (r.status != GAPI_FAILED)
		return LOY_OK;
	snprintf(why, sizeof(why),
		 "%s: Google refused the set-up (HTTP %d: %s): check LOY_GOOGLE_ISSUER_ID and that "
		 "the service account is a user of that issuer in the Google Pay & Wallet Console",
		 origin, r.http_status, r.message);
	*problem = why;
	return LOY_EINVALID;
}

enum loy_err gid_open(const char *issuer_id, const char *key_file, const struct gapi_config *api,
		      const char *origin, struct gid **out, const char **problem)
{
	struct gid *id;
	const char *why = NULL;
	enum loy_err err;

	if (!digits(issuer_id) || strlen(issuer_id) > GW_ISSUER_ID_MAX) {
		*problem =
			keep("%s: the issuer id of the Google Pay & Wallet Console is digits only "
			     "(LOY_GOOGLE_ISSUER_ID)%s",
			     origin, "");
		return LOY_EINVALID;
	}
	if (!key_file[0]) {
		*problem = keep("%s: the service account's JSON key file is required "
				"(LOY_GOOGLE_KEY_FILE)%s",
				origin, "");
		return LOY_EINVALID;
	}
	id = calloc(1, sizeof(*id));
	if (!id)
		return LOY_ENOMEM;
	memcpy(id->issuer_id, issuer_id, strlen(issuer_id) + 1); /* length checked above */
	err = google_sa_load(key_file, &id->sa, &why);
	if (err != LOY_OK)
		*problem = keep("%s: %s", origin, why ? why : "the key file cannot be used");
	if (err == LOY_OK) {
		err = gapi_open(api, id->sa, &id->api);
		if (err != LOY_OK)
			*problem = keep("%s: the Google Wallet API client could not be set up (see "
					"the log)%s",
					origin, "");
	}
	if (err == LOY_OK)
		err = probe(id, origin, problem);
	if (err != LOY_OK) {
		gid_close(id);
		return err == LOY_ENOMEM ? err : LOY_EINVALID;
	}
	log_info("Google Wallet (%s): issuer %s, service account %s", origin, id->issuer_id,
		 google_sa_email(id->sa));
	*out = id;
	return LOY_OK;
}

void gid_close(struct gid *id)
{
	if (!id)
		return;
	gapi_close(id->api);
	google_sa_close(id->sa);
	free(id);
}
