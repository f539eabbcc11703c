/* The Google service account behind google_sa.h: the key file read and checked, and RS256 JWTs.
 *
 * A JWT here is base64url(header) "." base64url(claims) "." base64url(signature). The header is
 * the same for every JWT of one key ({"alg":"RS256","typ":"JWT","kid":<private_key_id>}), so its
 * encoded form is made once at load. Each signature takes its own EVP_MD_CTX over the shared,
 * read-only EVP_PKEY, which OpenSSL allows from many threads at once; no lock is taken.
 *
 * The key file holds the private key as a PEM string inside JSON. The file's bytes and jansson's
 * copy of that string are wiped once the key is parsed (jansson's lexer keeps a scratch copy
 * that it frees without wiping; the process's own memory is the limit of what we can clean). */
#include "crypto/google_sa.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "crypto/b64.h"

#define WHY_MAX 512

struct google_sa {
	EVP_PKEY *key;
	char *email;
	char *key_id;
	char *token_uri;
	char *header; /* base64url of the JWT header, NUL-terminated */
	size_t header_len;
	size_t sig_len; /* bytes of an RSA signature: the modulus's */
};

static _Thread_local char load_why[WHY_MAX];

/* Writes the reason of a failed load into load_why, which *why then points at. */
static enum loy_err load_fail(const char **why, enum loy_err err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum loy_err load_fail(const char **why, enum loy_err err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(load_why, sizeof(load_why), fmt, ap);
	va_end(ap);
	*why = load_why;
	return err;
}

/* A password callback that refuses: an encrypted key is an error, never a prompt. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

/* Reads the whole file into a malloc'd buffer; *len its size. LOY_ETOOBIG past the maximum,
 * LOY_EIO when unreadable (errno set), LOY_ENOMEM. */
static enum loy_err file_read(const char *path, char **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p;
	size_t n;
	int failed, saved;

	if (!f)
		return LOY_EIO;
	p = malloc(GOOGLE_SA_FILE_MAX + 1);
	if (!p) {
		fclose(f);
		return LOY_ENOMEM;
	}
	n = fread(p, 1, GOOGLE_SA_FILE_MAX + 1, f);
	failed = ferror(f);
	saved = errno;
	fclose(f);
	if (failed || n > GOOGLE_SA_FILE_MAX) {
		OPENSSL_cleanse(p, n);
		free(p);
		errno = saved; /* for the caller's %m */
		return failed ? LOY_EIO : LOY_ETOOBIG;
	}
	*data = p;
	*len = n;
	return LOY_OK;
}

/* The string member name of the key file's object, or NULL. */
static const char *member(json_t *root, const char *name, size_t *len)
{
	json_t *v = json_object_get(root, name);

	if (!json_is_string(v))
		return NULL;
	*len = json_string_length(v);
	return json_string_value(v);
}

/* Checks a member that must be a non-empty string of printable ASCII of at most max bytes, and
 * copies it into *out (malloc'd). */
static enum loy_err member_copy(json_t *root, const char *name, size_t max, const char *path,
				char **out, const char **why)
{
	size_t len = 0;
	const char *s = member(root, name, &len);

	if (!s || len == 0)
		return load_fail(
			why, LOY_EINVALID,
			"the Google service-account key file %s has no \"%s\" (a non-empty "
			"string)",
			path, name);
	if (len > max || !str_is_visible_ascii((struct str){ s, len }))
		return load_fail(why, LOY_EINVALID,
				 "the \"%s\" of the Google service-account key file %s is longer "
				 "than %zu characters or not printable ASCII",
				 name, path, max);
	*out = strdup(s);
	return *out ? LOY_OK : LOY_ENOMEM;
}

/* Parses the PEM private key, which must be RSA of GOOGLE_SA_RSA_BITS_MIN bits or more. */
static enum loy_err key_parse(const char *pem, size_t len, const char *path, EVP_PKEY **out,
			      const char **why)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *k;
	int bits;

	if (!b)
		return LOY_ENOMEM;
	k = PEM_read_bio_PrivateKey(b, NULL, no_password, NULL);
	BIO_free(b);
	ERR_clear_error();
	if (!k)
		return load_fail(why, LOY_EINVALID,
				 "the \"private_key\" of the Google service-account key file %s is "
				 "not an unencrypted PEM private key (Google issues PKCS#8 PEM)",
				 path);
	if (!EVP_PKEY_is_a(k, "RSA")) {
		load_fail(why, LOY_EINVALID,
			  "the \"private_key\" of the Google service-account key file %s is an %s "
			  "key; Google service accounts sign with RSA",
			  path,
			  EVP_PKEY_get0_type_name(k) ? EVP_PKEY_get0_type_name(k) : "unknown");
		EVP_PKEY_free(k);
		return LOY_EINVALID;
	}
	bits = EVP_PKEY_get_bits(k);
	if (bits < GOOGLE_SA_RSA_BITS_MIN) {
		load_fail(why, LOY_EINVALID,
			  "the \"private_key\" of the Google service-account key file %s is RSA of "
			  "%d bits; at least %d are required",
			  path, bits, GOOGLE_SA_RSA_BITS_MIN);
		EVP_PKEY_free(k);
		return LOY_EINVALID;
	}
	*out = k;
	return LOY_OK;
}

/* Whether s is an http:// or https:// URL with a host part. */
static bool is_http_url(const char *s)
{
	if (strncmp(s, "https://", 8) == 0)
		return s[8] != '\0' && s[8] != '/';
	if (strncmp(s, "http://", 7) == 0)
		return s[7] != '\0' && s[7] != '/';
	return false;
}

/* Encodes the JWT header of this key into sa->header. */
static enum loy_err header_build(struct google_sa *sa)
{
	json_t *h = json_pack("{s:s, s:s, s:s}", "alg", "RS256", "typ", "JWT", "kid", sa->key_id);
	char *text = h ? json_dumps(h, JSON_COMPACT) : NULL;
	size_t n;

	json_decref(h);
	if (!text)
		return LOY_ENOMEM;
	n = strlen(text);
	sa->header = malloc(B64URL_LEN(n) + 1);
	if (sa->header)
		sa->header_len = b64url_encode(text, n, sa->header);
	free(text);
	return sa->header ? LOY_OK : LOY_ENOMEM;
}

/* Checks the parsed key file and fills sa from it. */
static enum loy_err sa_fill(struct google_sa *sa, json_t *root, const char *path, const char **why)
{
	const char *type, *pem;
	size_t len = 0;
	enum loy_err err;

	if (!json_is_object(root))
		return load_fail(why, LOY_EINVALID,
				 "the Google service-account key file %s is not a JSON object",
				 path);
	type = member(root, "type", &len);
	if (!type || strcmp(type, "service_account") != 0)
		return load_fail(why, LOY_EINVALID,
				 "the key file %s is not a Google service account's: its \"type\" "
				 "is not \"service_account\"",
				 path);
	err = member_copy(root, "client_email", GOOGLE_SA_FIELD_MAX, path, &sa->email, why);
	if (err == LOY_OK && !strchr(sa->email, '@'))
		err = load_fail(why, LOY_EINVALID,
				"the \"client_email\" of the Google service-account key file %s is "
				"not an e-mail address",
				path);
	if (err == LOY_OK)
		err = member_copy(root, "private_key_id", GOOGLE_SA_FIELD_MAX, path, &sa->key_id,
				  why);
	if (err == LOY_OK)
		err = member_copy(root, "token_uri", GOOGLE_SA_URI_MAX, path, &sa->token_uri, why);
	if (err == LOY_OK && !is_http_url(sa->token_uri))
		err = load_fail(
			why, LOY_EINVALID,
			"the \"token_uri\" of the Google service-account key file %s is not "
			"an http:// or https:// URL",
			path);
	if (err != LOY_OK)
		return err;
	pem = member(root, "private_key", &len);
	if (!pem || len == 0)
		return load_fail(why, LOY_EINVALID,
				 "the Google service-account key file %s has no \"private_key\" (a "
				 "non-empty string)",
				 path);
	if (len > INT32_MAX)
		return load_fail(why, LOY_EINVALID, "the \"private_key\" of %s is too long", path);
	err = key_parse(pem, len, path, &sa->key, why);
	/* jansson owns the string and frees it without wiping: wipe it here (its bytes are ours
	 * to write, jansson keeps them in a plain malloc'd buffer). */
	OPENSSL_cleanse((char *)pem, len);
	if (err != LOY_OK)
		return err;
	sa->sig_len = (size_t)EVP_PKEY_get_size(sa->key);
	return header_build(sa);
}

enum loy_err google_sa_load(const char *path, struct google_sa **out, const char **why)
{
	struct google_sa *sa = NULL;
	json_t *root = NULL;
	json_error_t jerr;
	char *data = NULL, *near;
	size_t len = 0;
	enum loy_err err;

	*out = NULL;
	*why = NULL;
	err = file_read(path, &data, &len);
	if (err == LOY_EIO)
		return load_fail(why, LOY_EINVALID,
				 "cannot read the Google service-account key file %s: %m", path);
	if (err == LOY_ETOOBIG)
		return load_fail(why, LOY_EINVALID,
				 "the Google service-account key file %s is larger than %d bytes; "
				 "is it the JSON key file?",
				 path, GOOGLE_SA_FILE_MAX);
	if (err != LOY_OK)
		return load_fail(why, err, "out of memory reading %s", path);
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	OPENSSL_cleanse(data, len);
	free(data);
	if (!root) {
		/* jansson's text ends "near '<token>'", and the token may be part of the key. */
		near = strstr(jerr.text, " near ");
		if (near)
			*near = '\0';
		return load_fail(why, LOY_EINVALID,
				 "the Google service-account key file %s is not JSON (line %d, "
				 "column %d: %s)",
				 path, jerr.line, jerr.column, jerr.text);
	}
	sa = calloc(1, sizeof(*sa));
	err = sa ? sa_fill(sa, root, path, why) : LOY_ENOMEM;
	json_decref(root);
	if (err == LOY_ENOMEM && !*why)
		load_fail(why, err, "out of memory loading %s", path);
	if (err != LOY_OK) {
		google_sa_close(sa);
		return err;
	}
	*out = sa;
	return LOY_OK;
}

void google_sa_close(struct google_sa *sa)
{
	if (!sa)
		return;
	EVP_PKEY_free(sa->key); /* clears the private numbers before freeing them */
	free(sa->email);
	free(sa->key_id);
	free(sa->token_uri);
	free(sa->header);
	free(sa);
}

const char *google_sa_email(const struct google_sa *sa)
{
	return sa->email;
}

const char *google_sa_key_id(const struct google_sa *sa)
{
	return sa->key_id;
}

const char *google_sa_token_uri(const struct google_sa *sa)
{
	return sa->token_uri;
}

/* The length of the JWT over claims of n bytes, without the NUL. */
static size_t jwt_len(const struct google_sa *sa, size_t n)
{
	return sa->header_len + 1 + B64URL_LEN(n) + 1 + B64URL_LEN(sa->sig_len);
}

enum loy_err google_sa_sign_jwt(struct google_sa *sa, const char *claims_json, char **jwt)
{
	EVP_MD_CTX *ctx = NULL;
	unsigned char *sig = NULL;
	size_t n, signed_len, sig_len;
	enum loy_err err = LOY_ENOMEM;
	char *s;

	if (!claims_json)
		return LOY_EINVALID;
	n = strlen(claims_json);
	s = malloc(jwt_len(sa, n) + 1);
	sig = malloc(sa->sig_len);
	ctx = EVP_MD_CTX_new();
	if (!s || !sig || !ctx)
		goto out;
	memcpy(s, sa->header, sa->header_len);
	signed_len = sa->header_len;
	s[signed_len++] = '.';
	signed_len += b64url_encode(claims_json, n, s + signed_len);
	sig_len = sa->sig_len;
	if (EVP_DigestSignInit_ex(ctx, NULL, "SHA256", NULL, NULL, sa->key, NULL) != 1 ||
	    EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)s, signed_len) != 1 ||
	    sig_len != sa->sig_len) {
		ERR_clear_error();
		err = LOY_EINTERNAL;
		goto out;
	}
	s[signed_len] = '.';
	b64url_encode(sig, sig_len, s + signed_len + 1);
	*jwt = s;
	s = NULL;
	err = LOY_OK;
out:
	EVP_MD_CTX_free(ctx);
	free(sig);
	free(s);
	return err;
}

/* Signs the claims object (a reference is taken: it is released here) unless its JWT would be
 * longer than max characters (LOY_ETOOBIG). */
static enum loy_err sign_claims(struct google_sa *sa, json_t *claims, size_t max, char **jwt)
{
	char *text = claims ? json_dumps(claims, JSON_COMPACT) : NULL;
	enum loy_err err;

	json_decref(claims);
	if (!text)
		return LOY_ENOMEM;
	if (jwt_len(sa, strlen(text)) > max)
		err = LOY_ETOOBIG;
	else
		err = google_sa_sign_jwt(sa, text, jwt);
	free(text);
	return err;
}

enum loy_err google_sa_assertion(struct google_sa *sa, int64_t now_s, char **jwt)
{
	json_t *claims = json_pack("{s:s, s:s, s:s, s:I, s:I}", "iss", sa->email, "scope",
				   GOOGLE_SA_SCOPE, "aud", sa->token_uri, "iat", (json_int_t)now_s,
				   "exp", (json_int_t)(now_s + GOOGLE_SA_ASSERTION_TTL));

	return sign_claims(sa, claims, SIZE_MAX, jwt);
}

static bool is_text(const char *s)
{
	return s && str_is_clean_utf8(str_from(s));
}

enum loy_err google_sa_save_jwt(struct google_sa *sa, int64_t now_s, const char *object_id,
				const char *class_id, const char *const *origins, size_t norigins,
				char **jwt)
{
	json_t *list;

	if (!is_text(object_id) || !is_text(class_id) || (norigins && !origins))
		return LOY_EINVALID;
	for (size_t i = 0; i < norigins; i++)
		if (!is_text(origins[i]))
			return LOY_EINVALID;
	list = json_array();
	if (!list)
		return LOY_ENOMEM;
	for (size_t i = 0; i < norigins; i++)
		if (json_array_append_new(list, json_string(origins[i])) != 0) {
			json_decref(list);
			return LOY_ENOMEM;
		}
	/* "o" steals the reference to list, also when json_pack fails */
	return sign_claims(sa,
			   json_pack("{s:s, s:s, s:s, s:I, s:o, s:{s:[{s:s, s:s}]}}", "iss",
				     sa->email, "aud", "google", "typ", "savetowallet", "iat",
				     (json_int_t)now_s, "origins", list, "payload",
				     "loyaltyObjects", "id", object_id, "classId", class_id),
			   GOOGLE_SA_SAVE_JWT_MAX, jwt);
}
