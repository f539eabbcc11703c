/* wallet/google/gid: one Google issuer with its service account and API client (struct gid). */
#ifndef LOY_WALLET_GOOGLE_GID_H
#define LOY_WALLET_GOOGLE_GID_H

#include "wallet/google/gwallet_impl.h"

/* Opens the issuer: checks the id (digits), loads the key file, opens the API client and makes
 * one probe call. origin names the setting or folder in messages. LOY_EINVALID with *problem
 * (static storage, kept for the process) when it cannot be used. */
enum loy_err gid_open(const char *issuer_id, const char *key_file, const struct gapi_config *api,
		      const char *origin, struct gid **out, const char **problem);
void gid_close(struct gid *id); /* NULL ok */

#endif
