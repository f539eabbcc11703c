/* The Google service account: the one holder of the RSA key of Google's JSON key file (STYLE rule
 * 9). It signs the two JWTs Loy needs (spec google-wallet.md §2.1, §2.7): the OAuth assertion that
 * the token endpoint exchanges for an access token, and the "Add to Google Wallet" save link. The
 * claims of both are built here, in one place; callers never see the key.
 *
 * A service account is loaded once (at start-up, per business) and then shared read-only: every
 * signing function may be called from many threads at once. */
#ifndef LOY_CRYPTO_GOOGLE_SA_H
#define LOY_CRYPTO_GOOGLE_SA_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Largest key file read (Google's are about 2.3 KB). */
#define GOOGLE_SA_FILE_MAX (64 * 1024)
/* Longest client_email and private_key_id, and longest token_uri, accepted from a key file. */
#define GOOGLE_SA_FIELD_MAX 256
#define GOOGLE_SA_URI_MAX 2048
/* Smallest RSA key accepted, in bits. */
#define GOOGLE_SA_RSA_BITS_MIN 2048
/* Longest save JWT: "the safe encoded-JWT length for web links is 1800 chars" (spec §2.7). */
#define GOOGLE_SA_SAVE_JWT_MAX 1800
/* The save link is this prefix followed by the save JWT. */
#define GOOGLE_SA_SAVE_URL_PREFIX "https://pay.google.com/gp/v/save/"
/* The scope of the assertion and the lifetime of the access token it asks for, in seconds. */
#define GOOGLE_SA_SCOPE "https://www.googleapis.com/auth/wallet_object.issuer"
#define GOOGLE_SA_ASSERTION_TTL 3600

struct google_sa;

/* Loads the service-account JSON key file at path: "type" must be "service_account";
 * "client_email" (with an '@'), "private_key" (an unencrypted RSA private key of at least 2048
 * bits in PEM, PKCS#8 as Google issues it or PKCS#1), "private_key_id" (printable ASCII) and
 * "token_uri" (an http:// or https:// URL) are required; other members are ignored. Reads the file
 * and blocks for as long as that takes; logs nothing.
 * On success returns LOY_OK and *out is the caller's, closed with google_sa_close. Otherwise *out
 * is NULL and *why is a sentence naming the file and the problem, for the log and the admin panel;
 * it never quotes the key. It lives in thread-local storage until this thread's next call of
 * google_sa_load. Errors: LOY_EINVALID for a missing or unreadable file, one over
 * GOOGLE_SA_FILE_MAX, not JSON, a missing or malformed member, a key that does not parse, is
 * encrypted, is not RSA or is too short; LOY_ENOMEM when memory runs out. */
enum loy_err google_sa_load(const char *path, struct google_sa **out, const char **why);

/* Frees the service account and wipes its key. NULL is allowed. No signing may be in flight. */
void google_sa_close(struct google_sa *sa);

/* The key file's client_email, private_key_id and token_uri; owned by sa. */
const char *google_sa_email(const struct google_sa *sa);
const char *google_sa_key_id(const struct google_sa *sa);
const char *google_sa_token_uri(const struct google_sa *sa);

/* Signs a JWT with RS256: the header is {"alg":"RS256","typ":"JWT","kid":<private_key_id>}, the
 * payload the exact bytes of claims_json (a JSON object the caller built; not checked), each part
 * base64url without padding, the signature RSASSA-PKCS1-v1_5 with SHA-256. On LOY_OK *jwt is
 * malloc'd and NUL-terminated, the caller frees it. Thread-safe; never blocks on I/O.
 * Returns LOY_EINVALID when claims_json is NULL, LOY_ENOMEM, or LOY_EINTERNAL when OpenSSL fails. */
enum loy_err google_sa_sign_jwt(struct google_sa *sa, const char *claims_json, char **jwt);

/* The OAuth assertion for the token endpoint (spec §2.1), signed as google_sa_sign_jwt does:
 * {"iss":email,"scope":GOOGLE_SA_SCOPE,"aud":token_uri,"iat":now_s,"exp":now_s+3600}.
 * Errors as google_sa_sign_jwt. */
enum loy_err google_sa_assertion(struct google_sa *sa, int64_t now_s, char **jwt);

/* The "Add to Google Wallet" JWT (spec §2.7), "skinny": it only names an object inserted before
 * over REST. Claims {"iss":email,"aud":"google","typ":"savetowallet","iat":now_s,
 * "origins":[origins...],"payload":{"loyaltyObjects":[{"id":object_id,"classId":class_id}]}}
 * (origins may be NULL when norigins is 0: a plain link), signed as google_sa_sign_jwt does; the
 * link is GOOGLE_SA_SAVE_URL_PREFIX followed by *jwt. Returns LOY_ETOOBIG when the JWT would be
 * longer than GOOGLE_SA_SAVE_JWT_MAX characters, LOY_EINVALID for a NULL id or origin, otherwise
 * as google_sa_sign_jwt. */
enum loy_err google_sa_save_jwt(struct google_sa *sa, int64_t now_s, const char *object_id,
				const char *class_id, const char *const *origins, size_t norigins,
				char **jwt);

#endif
