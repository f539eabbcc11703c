/* The images of an Apple Wallet store card: the slot table (file names in the bundle, Apple's
 * sizes, our byte caps), the check an uploaded PNG must pass, and the default images drawn in a
 * template's colours when it has none. The one file that includes <png.h> (STYLE rule 8); its
 * exported names start with pass_png_.
 *
 * Store cards use icon, logo and strip only (apple-wallet.md 1a, "Images"); thumbnail, background
 * and footer are not shown on them and have no slot here. */
#ifndef LOY_WALLET_APPLE_IMAGES_H
#define LOY_WALLET_APPLE_IMAGES_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/digest.h"

/* Slots in bundle order. Every kind has @1x, @2x and @3x; icon.png (@1x) is required in a pass. */
enum pass_png_slot {
	PASS_PNG_ICON,
	PASS_PNG_ICON_2X,
	PASS_PNG_ICON_3X,
	PASS_PNG_LOGO,
	PASS_PNG_LOGO_2X,
	PASS_PNG_LOGO_3X,
	PASS_PNG_STRIP,
	PASS_PNG_STRIP_2X,
	PASS_PNG_STRIP_3X,
	PASS_PNG_SLOTS
};

struct pass_png_spec {
	const char *file; /* the name in the bundle and in manifest.json: "icon@2x.png" */
	int scale;	  /* 1, 2 or 3 */
	/* Apple's allotted space at this scale, in pixels, and so the largest image accepted:
	 * icon 29x29 pt, logo 160x50 pt, strip 375x144 pt (the store-card strip; 375x123 is for
	 * other styles). Wallet scales an image to fill the space, so a larger one only costs bytes
	 * in every pass. */
	unsigned width, height;
	size_t max_bytes; /* the largest file accepted (metadata included) */
};

/* The row of the slot table for slot (which must be < PASS_PNG_SLOTS). Static storage. */
const struct pass_png_spec *pass_png_spec(enum pass_png_slot slot);

/* One image of a pass: the bytes of a PNG (not owned here) and its SHA-1 for manifest.json.
 * len 0: no image in this slot. sha1 "" means not computed yet (pass_png_digest fills it). */
struct pass_png {
	const unsigned char *data;
	size_t len;
	char sha1[SHA1_HEX_LEN + 1];
};

/* The images of one template, usually kept per template and shared read-only by every pass built
 * from it. owned is the block pass_png_defaults allocated for the images it drew (or NULL); the
 * other slots point at the caller's bytes, which must outlive every use of the set. */
struct pass_images {
	struct pass_png png[PASS_PNG_SLOTS];
	unsigned char *owned;
};

struct pass_rgb {
	uint8_t r, g, b;
};

/* Checks that buf (len bytes, from an upload) is a real PNG fit for slot: at most the slot's
 * max_bytes, the PNG signature, a header of at most the slot's width and height (at least 1x1),
 * and every chunk and every row decoding cleanly through libpng, CRCs included, with nothing after
 * IEND. Decodes one row at a time (memory: one row plus libpng's state, whatever the header
 * claims). Never blocks on I/O; thread-safe. Returns LOY_OK, or with *why (when why is not NULL)
 * set to a sentence for the uploader (static storage): LOY_ETOOBIG for too many bytes,
 * LOY_EMEDIA for anything that is not a whole, undamaged PNG, LOY_EINVALID for pixel dimensions
 * out of bounds, LOY_ENOMEM when memory runs out. */
enum loy_err pass_png_check(const void *buf, size_t len, enum pass_png_slot slot, const char **why);

/* Fills every kind (icon, logo, strip) that has no image in any of its three slots with default
 * images at all three scales, drawn in the template's colours: the icon a ring and dot in the
 * foreground colour on the background; the logo the same mark on transparency, square (50x50 pt:
 * the logo's space is 160x50 pt at most and logoText follows the logo, so a narrow mark reads
 * best); the strip the background lightened a touch towards the foreground with two faint rings at
 * its right, leaving the balance (drawn over it) readable. The output depends on the colours only
 * (no time or text chunks), so a template's defaults and their SHA-1s are stable.
 * The drawn PNGs live in one block that im->owned takes (im->owned must be NULL on entry); their
 * sha1 is filled. Blocks for the drawing and compression (tens of milliseconds): call it once per
 * template, not per pass. Returns LOY_EINVALID if im->owned is already set, LOY_ENOMEM, or
 * LOY_EINTERNAL if libpng fails. */
enum loy_err pass_png_defaults(struct pass_images *im, struct pass_rgb background,
			       struct pass_rgb foreground, struct pass_rgb label);

/* Computes the sha1 of every image in im that has bytes and no sha1 yet. Call it once after
 * loading a template's uploaded images, so that building a pass hashes only pass.json. */
void pass_png_digest(struct pass_images *im);

/* Frees im->owned and empties *im. The caller's own bytes are not touched. */
void pass_png_release(struct pass_images *im);

#endif
