/* Google Wallet's save and delete callbacks (spec google-wallet.md §2.8): Google POSTs a JSON
 * envelope signed with its ECv2SigningOnly scheme — a root key (from Google's keys document) signs
 * an intermediate key, which signs the message — to the class's callbackOptions.url. This module
 * verifies that chain with OpenSSL and only then reads the message. It keeps no state: the caller
 * fetches and caches the keys document, and deduplicates on the nonce. */
#ifndef LOY_CRYPTO_GOOGLE_CALLBACK_H
#define LOY_CRYPTO_GOOGLE_CALLBACK_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Largest callback body read (Google's are about 1 KB); the HTTP route's body cap. */
#define GOOGLE_CALLBACK_BODY_MAX (64 * 1024)
/* Most intermediate-key signatures in a body (more is refused, so that a body cannot buy unbounded
 * work), and most root keys used from the keys document (Google publishes one or two; the first
 * usable ones are kept). */
#define GOOGLE_CALLBACK_SIGNATURES_MAX 8
#define GOOGLE_CALLBACK_ROOT_KEYS_MAX 16
#define GOOGLE_CALLBACK_PROTOCOL "ECv2SigningOnly"
/* The sender ids tried, in this order: the docs disagree (spec §2.8). */
#define GOOGLE_CALLBACK_SENDER "GooglePayPasses"
#define GOOGLE_CALLBACK_SENDER_NEW "GoogleWalletPasses"

struct google_callback {
	char class_id[256], object_id[256]; /* [A-Za-z0-9._-], as Google's resource ids */
	char event_type[8];		    /* "save" or "del" */
	char nonce[256];		    /* printable ASCII: the key to deduplicate on */
	int64_t exp_ms;			    /* the message's expTimeMillis */
};

/* Verifies a callback body (the POSTed JSON, len bytes) against Google's root keys document
 * keys_json ({"keys":[{"keyValue":<base64 SPKI DER, P-256>,"protocolVersion":"ECv2SigningOnly",
 * "keyExpiration":"<ms>"}]}; keys of another protocol, expired, or not P-256 are skipped), for
 * the recipient issuer_id, at now_ms:
 * - protocolVersion is "ECv2SigningOnly";
 * - one of intermediateSigningKey.signatures verifies (ECDSA-SHA256, DER) over
 *   lv(sender_id) lv("ECv2SigningOnly") lv(signedKey) with a usable root key;
 * - signedKey's keyExpiration is after now_ms;
 * - signature verifies over lv(sender_id) lv(issuer_id) lv("ECv2SigningOnly") lv(signedMessage)
 *   with signedKey's keyValue;
 * - the message's expTimeMillis is after now_ms and its fields are well-formed (eventType save or
 *   del, ids of [A-Za-z0-9._-] under 256 characters, a nonce of printable ASCII).
 * lv(x) is x's byte length as a uint32 little-endian, then its bytes. The sender id
 * GOOGLE_CALLBACK_SENDER is tried first, then GOOGLE_CALLBACK_SENDER_NEW. Nothing in signedKey or
 * signedMessage is read before its signature verified. Thread-safe; no I/O.
 * Returns LOY_OK with *out filled; LOY_EUNAUTH for a check that failed (a signature, an expiry,
 * the protocol, no usable root key); LOY_EINVALID for a body that is not JSON, over
 * GOOGLE_CALLBACK_BODY_MAX, missing a member or with one malformed (bad base64 included), or a
 * keys document that is not one; LOY_ENOMEM. On any error *out is zeroed and *why is a sentence
 * for the log, in thread-local storage until this thread's next call. */
enum loy_err google_callback_verify(const char *body, size_t len, const char *keys_json,
				    const char *issuer_id, int64_t now_ms,
				    struct google_callback *out, const char **why);

#endif
