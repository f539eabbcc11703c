/* SHA-256 and SHA-1 through OpenSSL's EVP interface; constant-time compare via CRYPTO_memcmp. */
#include "crypto/digest.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

void digest_sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int mdlen = 0;

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[SHA256_HEX_LEN] = '\0';
}

bool digest_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	return alen == blen && CRYPTO_memcmp(a, b, alen) == 0;
}

void digest_sha1_hex(const void *data, size_t len, char out[SHA1_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[20];
	unsigned int mdlen = 0;

	EVP_Digest(data, len, md, &mdlen, EVP_sha1(), NULL);
	for (unsigned i = 0; i < 20; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[SHA1_HEX_LEN] = '\0';
}
