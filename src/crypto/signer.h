/* The pass signer: the one holder of an Apple Pass Type ID certificate's private key (STYLE rule 9).
 * It signs a pass's manifest.json the way Wallet requires — a detached PKCS#7 SignedData in DER,
 * SHA-256 with RSA, carrying the pass certificate and the WWDR intermediate and the S/MIME
 * signingTime attribute — and lends the certificate and key to a TLS client (APNs) without ever
 * handing the key out.
 *
 * A signer is opened once (at start-up, per business) and then shared read-only by every request
 * thread: signer_sign_manifest may be called from many threads at once. */
#ifndef LOY_CRYPTO_SIGNER_H
#define LOY_CRYPTO_SIGNER_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Longest pass type identifier and team identifier accepted from a certificate. */
#define SIGNER_PASS_TYPE_ID_MAX 255
#define SIGNER_TEAM_ID_MAX 32

struct signer;

/* Opens a signer from PEM files: the pass certificate, its private key (PKCS#8 or traditional,
 * encrypted when key_password is not NULL; an encrypted key without a password is refused, never
 * prompted for) and the WWDR intermediate that issued the pass certificate. Reads the files;
 * blocks for as long as that takes. On success *out is the caller's, closed with signer_close.
 * Returns LOY_EINVALID, after a log_error saying which, when a file is unreadable, the key does not
 * match the certificate, the key is not RSA, the certificate is expired or not yet valid, its
 * subject lacks the pass type identifier (UID) or team (OU), or the WWDR certificate did not
 * issue it; LOY_ENOMEM when memory runs out. */
enum loy_err signer_open_pem(const char *cert_pem_path, const char *key_pem_path,
			     const char *key_password, const char *wwdr_pem_path,
			     struct signer **out);

/* The same from a PKCS#12 bundle (.p12 as exported from Keychain Access) holding the pass
 * certificate and key; password may be NULL or "" for none. Old bundles encrypted with RC2-40 are
 * read too (OpenSSL's legacy provider is loaded for them, once per process). The WWDR certificate
 * still comes from wwdr_pem_path. Errors as signer_open_pem, LOY_EINVALID also for a wrong
 * password. */
enum loy_err signer_open_p12(const char *p12_path, const char *password, const char *wwdr_pem_path,
			     struct signer **out);

/* Frees the signer and wipes its key. NULL is allowed. No signing may be in flight. */
void signer_close(struct signer *s);

/* The exact length of every signature this signer makes, in bytes (a few KiB: both certificates
 * and one RSA signature). Size the buffer for signer_sign_manifest with it. */
size_t signer_signature_len(const struct signer *s);

/* Signs manifest (len bytes, the exact bytes of manifest.json) and writes the detached PKCS#7
 * SignedData, DER, into der (cap bytes, at least signer_signature_len); *der_len is set to its
 * length. Thread-safe, never blocks on I/O, allocates only inside OpenSSL. The signing time is the
 * wall clock now. Returns LOY_ETOOBIG when cap is too small, LOY_EUNAVAILABLE (logged once) when
 * the certificate has expired since the signer was opened, LOY_EINTERNAL when OpenSSL fails. */
enum loy_err signer_sign_manifest(struct signer *s, const void *manifest, size_t len,
				  unsigned char *der, size_t cap, size_t *der_len);

/* The pass type identifier (the certificate subject's UID, "pass.com.example.loy") and the team
 * identifier (the subject's OU). A pass.json must carry exactly these as passTypeIdentifier and
 * teamIdentifier; APNs pushes use the first as apns-topic. Owned by the signer. */
const char *signer_pass_type_id(const struct signer *s);
const char *signer_team_id(const struct signer *s);
/* The certificate's notAfter, in milliseconds since the epoch, so the admin panel can warn. */
int64_t signer_not_after(const struct signer *s);

/* Installs the pass certificate, its key and the WWDR intermediate as the client certificate of a
 * TLS context — an OpenSSL SSL_CTX *, passed as void * so that callers (libcurl's
 * CURLOPT_SSL_CTX_FUNCTION in the APNs client) need no OpenSSL header. The context takes its own
 * references; the key never leaves OpenSSL. Returns LOY_EINTERNAL if OpenSSL refuses. */
enum loy_err signer_tls_client_setup(const struct signer *s, void *ssl_ctx);

#endif
