/* One Pass Type ID certificate with its APNs client (see identity.h). */
#include "wallet/apple/identity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is_p12(const char *path)
{
	size_t n = strlen(path);
	return n > 4 &&
	       (strcasecmp(path + n - 4, ".p12") == 0 || strcasecmp(path + n - 4, ".pfx") == 0);
}

static enum loy_err open_signer(const struct identity_files *f, struct signer **out)
{
	const char *password = f->password && f->password[0] ? f->password : NULL;

	if (!f->wwdr_path || !f->wwdr_path[0]) {
		fprintf(stderr,
			"%s: the WWDR intermediate certificate that issued the pass certificate "
			"is required (LOY_APPLE_WWDR_CERT)\n",
			f->origin);
		return LOY_EINVALID;
	}
	if (!f->key_path || !f->key_path[0]) {
		if (!is_p12(f->cert_path)) {
			fprintf(stderr,
				"%s: a private key is required unless the certificate is a .p12 "
				"bundle\n",
				f->origin);
			return LOY_EINVALID;
		}
		return signer_open_p12(f->cert_path, password, f->wwdr_path, out);
	}
	return signer_open_pem(f->cert_path, f->key_path, password, f->wwdr_path, out);
}

/* A pass naming another pass type or team than its signature is refused by every iPhone. */
static enum loy_err check_names(const struct identity_files *f, const struct signer *s,
				const char *want_pass_type, const char *want_team)
{
	if (want_pass_type && want_pass_type[0] && strcmp(want_pass_type, signer_pass_type_id(s))) {
		fprintf(stderr,
			"%s: the pass type identifier is set to %s but the certificate is for %s\n",
			f->origin, want_pass_type, signer_pass_type_id(s));
		return LOY_EINVALID;
	}
	if (want_team && want_team[0] && strcmp(want_team, signer_team_id(s))) {
		fprintf(stderr,
			"%s: the team identifier is set to %s but the certificate is of team %s\n",
			f->origin, want_team, signer_team_id(s));
		return LOY_EINVALID;
	}
	return LOY_OK;
}

enum loy_err identity_open(const struct identity_files *files, const char *want_pass_type,
			   const char *want_team, const struct apns_config *apns,
			   struct card_cache *cache, const char *web_service_url,
			   struct apple_identity **out)
{
	struct apple_identity *id = calloc(1, sizeof(*id));
	enum loy_err err;

	if (!id)
		return LOY_ENOMEM;
	err = open_signer(files, &id->signer);
	if (err == LOY_OK)
		err = check_names(files, id->signer, want_pass_type, want_team);
	if (err == LOY_OK)
		err = apns_open(apns, id->signer, &id->apns);
	if (err != LOY_OK) {
		fprintf(stderr, "%s: Apple Wallet cannot use this certificate (%s)\n",
			files->origin, err_code(err));
		identity_close(id);
		return err == LOY_ENOMEM ? err : LOY_EINVALID;
	}
	id->src = (struct card_source){ .cache = cache,
					.pass_type_id = signer_pass_type_id(id->signer),
					.team_id = signer_team_id(id->signer),
					.web_service_url = web_service_url };
	*out = id;
	return LOY_OK;
}

void identity_close(struct apple_identity *id)
{
	if (!id)
		return;
	apns_close(id->apns);
	signer_close(id->signer);
	free(id);
}
