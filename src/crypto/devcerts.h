/* Development certificates, so that Apple Wallet signing and APNs run end to end with no Apple
 * account: a root CA, an intermediate standing in for Apple's WWDR, a Pass Type ID certificate shaped
 * like Apple's (subject UID/CN/OU/O, the Passbook extended key usage and marker extension) with its
 * key and a .p12 of both, and a TLS server certificate for localhost (for the fake APNs). Each is
 * signed with OpenSSL here; nothing of it is for production. */
#ifndef LOY_CRYPTO_DEVCERTS_H
#define LOY_CRYPTO_DEVCERTS_H

#include <stdbool.h>

#include "base/err.h"

/* Longest values accepted (the certificate's CN "Pass Type ID: <id>" must fit X.520's 64). */
#define DEVCERTS_PASS_TYPE_ID_MAX 50
#define DEVCERTS_TEAM_ID_MAX 16
#define DEVCERTS_ORG_MAX 48

struct devcerts_options {
	const char *pass_type_id; /* "pass.dev.loy.demo": "pass." and letters, digits, '.', '-' */
	const char *team_id;	  /* "LOYDEV0001": letters and digits */
	const char *org;	  /* "Loy Development": the subjects' O */
	const char *p12_password; /* NULL: pass.p12 has no password */
	int pass_days;		  /* pass.pem's validity from now; negative: expired that many days
				     ago (for tests); 0 is refused */
	bool force;		  /* replace existing files instead of keeping them */
};

#define DEVCERTS_OPTIONS_DEFAULT                                         \
	((struct devcerts_options){ .pass_type_id = "pass.dev.loy.demo", \
				    .team_id = "LOYDEV0001",             \
				    .org = "Loy Development",            \
				    .pass_days = 365 })

enum devcerts_action {
	DEVCERTS_WROTE,
	DEVCERTS_KEPT,
	DEVCERTS_KEPT_DIFFERENT, /* kept, but its subject is not what the options ask for */
};

/* Told about every file, in order: ca.key ca.pem wwdr.key wwdr.pem pass.key pass.pem pass.p12
 * localhost.key localhost.pem. */
typedef void devcerts_report_fn(const char *path, enum devcerts_action action, void *arg);

/* NULL when the options are usable, else a sentence saying which is not (static storage). */
const char *devcerts_check_options(const struct devcerts_options *o);

/* Creates dir (and its parents) when missing and writes the files there: private keys mode 0600,
 * certificates 0644, each written to a temporary name and renamed into place. A file that exists
 * is kept unless o->force, except that everything issued by a certificate made in this run is made
 * again, so the set always chains. Blocks (RSA key generation, file I/O: about a second). Returns
 * LOY_EINVALID for bad options or a certificate without its key, LOY_EIO when a file cannot be
 * written or read (logged with the path), LOY_EINTERNAL when OpenSSL fails. */
enum loy_err devcerts_create(const char *dir, const struct devcerts_options *o,
			     devcerts_report_fn *report, void *arg);

#endif
