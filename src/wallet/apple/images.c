/* Images of a store card (see images.h): the slot table, the upload check and the default images.
 * This is the one file that includes <png.h>.
 *
 * libpng reports errors by longjmp to the setjmp in the function that called it. So that nothing a
 * longjmp skips is lost, every resource such a function holds lives in a context struct reached
 * through a pointer (never a local assigned after setjmp), and is freed after the one exit. */
#include "wallet/apple/images.h"

#include <png.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

#define KIB ((size_t)1024)

/* Byte caps: generous for a plain PNG of the size at 16 bits per channel plus a colour profile and
 * some metadata, small enough that a pass (which carries every image) stays a quick download. */
static const struct pass_png_spec specs[PASS_PNG_SLOTS] = {
	[PASS_PNG_ICON] = { "icon.png", 1, 29, 29, 64 * KIB },
	[PASS_PNG_ICON_2X] = { "icon@2x.png", 2, 58, 58, 128 * KIB },
	[PASS_PNG_ICON_3X] = { "icon@3x.png", 3, 87, 87, 256 * KIB },
	[PASS_PNG_LOGO] = { "logo.png", 1, 160, 50, 128 * KIB },
	[PASS_PNG_LOGO_2X] = { "logo@2x.png", 2, 320, 100, 256 * KIB },
	[PASS_PNG_LOGO_3X] = { "logo@3x.png", 3, 480, 150, 512 * KIB },
	[PASS_PNG_STRIP] = { "strip.png", 1, 375, 144, 512 * KIB },
	[PASS_PNG_STRIP_2X] = { "strip@2x.png", 2, 750, 288, 1024 * KIB },
	[PASS_PNG_STRIP_3X] = { "strip@3x.png", 3, 1125, 432, 2048 * KIB },
};

/* libpng may allocate this much for one ancillary chunk (a compressed iCCP or zTXt inflates into
 * it): a decompression bomb stops here instead of at libpng's default of 8 MiB. */
#define PNG_CHUNK_MALLOC_MAX (1024 * KIB)
#define PNG_CHUNK_CACHE_MAX 128 /* unknown ancillary chunks kept while reading */

const struct pass_png_spec *pass_png_spec(enum pass_png_slot slot)
{
	if ((unsigned)slot >= PASS_PNG_SLOTS)
		abort();
	return &specs[slot];
}

/* ---- errors ------------------------------------------------------------------------------- */

/* libpng's messages go nowhere: a bad upload is the uploader's business, said through *why. */
static void png_quiet_error(png_structp png, png_const_charp msg)
{
	(void)msg;
	png_longjmp(png, 1);
}

static void png_quiet_warning(png_structp png, png_const_charp msg)
{
	(void)png, (void)msg;
}

/* ---- the upload check --------------------------------------------------------------------- */

struct reader {
	const unsigned char *p;
	size_t len, off;
	png_structp png;
	png_infop info;
	unsigned char *row;
};

static void read_mem(png_structp png, png_bytep out, size_t n)
{
	struct reader *r = png_get_io_ptr(png);

	if (n > r->len - r->off)
		png_error(png, "truncated");
	memcpy(out, r->p + r->off, n);
	r->off += n;
}

/* Sets *why and returns err (a shorthand for the many refusals below). */
static enum loy_err refuse(const char **why, enum loy_err err, const char *msg)
{
	if (why)
		*why = msg;
	return err;
}

/* Reads the header, then every row of every pass, then the chunks up to IEND. Called with r->png
 * set up; libpng's errors longjmp out to the caller. */
static enum loy_err read_all(struct reader *r, const struct pass_png_spec *s, const char **why)
{
	png_uint_32 w, h;
	int passes;

	png_read_info(r->png, r->info);
	w = png_get_image_width(r->png, r->info);
	h = png_get_image_height(r->png, r->info);
	if (w == 0 || h == 0 || w > s->width || h > s->height)
		return refuse(why, LOY_EINVALID, "the image is larger than this slot allows");
	passes = png_set_interlace_handling(r->png);
	png_read_update_info(r->png, r->info);
	r->row = malloc(png_get_rowbytes(r->png, r->info));
	if (!r->row)
		return refuse(why, LOY_ENOMEM, "out of memory");
	for (int p = 0; p < passes; p++)
		for (png_uint_32 y = 0; y < h; y++)
			png_read_row(r->png, r->row, NULL);
	png_read_end(r->png, NULL);
	if (r->off != r->len)
		return refuse(why, LOY_EMEDIA, "the file goes on after the PNG's end");
	return LOY_OK;
}

enum loy_err pass_png_check(const void *buf, size_t len, enum pass_png_slot slot, const char **why)
{
	const struct pass_png_spec *s = pass_png_spec(slot);
	struct reader r = { .p = buf, .len = len };
	struct reader *rp = &r;
	enum loy_err err = LOY_EMEDIA;

	if (len > s->max_bytes)
		return refuse(why, LOY_ETOOBIG, "the file is larger than this slot allows");
	if (len < 8 || png_sig_cmp(buf, 0, 8) != 0)
		return refuse(why, LOY_EMEDIA, "the file is not a PNG");
	r.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, png_quiet_error,
				       png_quiet_warning);
	r.info = r.png ? png_create_info_struct(r.png) : NULL;
	if (!r.info) {
		png_destroy_read_struct(&r.png, NULL, NULL);
		return refuse(why, LOY_ENOMEM, "out of memory");
	}
	if (setjmp(png_jmpbuf(rp->png)) == 0) {
		png_set_read_fn(rp->png, rp, read_mem);
		png_set_crc_action(rp->png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
		png_set_chunk_malloc_max(rp->png, PNG_CHUNK_MALLOC_MAX);
		png_set_chunk_cache_max(rp->png, PNG_CHUNK_CACHE_MAX);
		err = read_all(rp, s, why);
	} else {
		err = refuse(why, LOY_EMEDIA, "the PNG is damaged or truncated");
	}
	png_destroy_read_struct(&rp->png, &rp->info, NULL);
	free(rp->row);
	return err;
}

/* ---- drawing ------------------------------------------------------------------------------ */

/* An 8-bit canvas, RGB or RGBA. Shapes are anti-aliased by 4x4 supersampling: coordinates are in
 * eighths of a pixel, and a pixel's samples sit at 1/8, 3/8, 5/8 and 7/8 of it each way. */
struct canvas {
	unsigned char *px;
	unsigned w, h, ch; /* ch: 3 or 4 channels */
};

#define SUB 8 /* units per pixel */

static void fill(struct canvas *c, struct pass_rgb col, unsigned char alpha)
{
	for (size_t i = 0; i < (size_t)c->w * c->h; i++) {
		unsigned char *p = c->px + i * c->ch;
		p[0] = col.r, p[1] = col.g, p[2] = col.b;
		if (c->ch == 4)
			p[3] = alpha;
	}
}

/* Covers pixel p by cov/16 of col: over an opaque pixel a blend, over a clear one col with that
 * alpha (shapes on a clear canvas never overlap, so no general compositing is needed). */
static void paint(const struct canvas *c, unsigned char *p, struct pass_rgb col, unsigned cov)
{
	if (c->ch == 4 && p[3] == 0) {
		p[0] = col.r, p[1] = col.g, p[2] = col.b;
		p[3] = (unsigned char)((cov * 255 + 8) / 16);
		return;
	}
	p[0] = (unsigned char)((col.r * cov + p[0] * (16 - cov) + 8) / 16);
	p[1] = (unsigned char)((col.g * cov + p[1] * (16 - cov) + 8) / 16);
	p[2] = (unsigned char)((col.b * cov + p[2] * (16 - cov) + 8) / 16);
}

/* How many of the pixel's 16 samples lie in the ring between radii r_in and r_out around cx, cy
 * (all in SUB units; r_in 0 makes a disc). */
static unsigned coverage(long px, long py, long cx, long cy, long r_in, long r_out)
{
	unsigned n = 0;

	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++) {
			long long dx = px * SUB + 2 * i + 1 - cx, dy = py * SUB + 2 * j + 1 - cy;
			long long d2 = dx * dx + dy * dy;
			n += d2 <= (long long)r_out * r_out && d2 >= (long long)r_in * r_in;
		}
	return n;
}

static void ring(struct canvas *c, long cx, long cy, long r_in, long r_out, struct pass_rgb col)
{
	long x0 = (cx - r_out) / SUB - 1, x1 = (cx + r_out) / SUB + 1;
	long y0 = (cy - r_out) / SUB - 1, y1 = (cy + r_out) / SUB + 1;

	for (long y = y0 < 0 ? 0 : y0; y <= y1 && y < (long)c->h; y++)
		for (long x = x0 < 0 ? 0 : x0; x <= x1 && x < (long)c->w; x++) {
			unsigned cov = coverage(x, y, cx, cy, r_in, r_out);
			if (cov)
				paint(c, c->px + ((size_t)y * c->w + (size_t)x) * c->ch, col, cov);
		}
}

/* a + (b - a) * pct / 100, per channel. */
static struct pass_rgb mix(struct pass_rgb a, struct pass_rgb b, int pct)
{
	return (struct pass_rgb){ (uint8_t)(a.r + (b.r - a.r) * pct / 100),
				  (uint8_t)(a.g + (b.g - a.g) * pct / 100),
				  (uint8_t)(a.b + (b.b - a.b) * pct / 100) };
}

struct palette {
	struct pass_rgb bg, fg, label;
};

/* The mark: a ring and a dot, centred, sized by the square's side n (pixels). */
static void mark(struct canvas *c, unsigned n, struct pass_rgb ring_col, struct pass_rgb dot_col,
		 long outer_pct)
{
	long side = (long)n * SUB, mid = side / 2;

	ring(c, mid, mid, side * (outer_pct - 13) / 100, side * outer_pct / 100, ring_col);
	ring(c, mid, mid, 0, side * (outer_pct - 24) / 100, dot_col);
}

static void draw_icon(struct canvas *c, const struct palette *p)
{
	fill(c, p->bg, 255);
	mark(c, c->w, p->fg, p->label, 36);
}

static void draw_logo(struct canvas *c, const struct palette *p)
{
	fill(c, p->fg, 0);
	mark(c, c->h, p->fg, p->fg, 46);
}

static void draw_strip(struct canvas *c, const struct palette *p)
{
	long cx = (long)c->w * SUB * 86 / 100, cy = (long)c->h * SUB / 2, h = (long)c->h * SUB;
	struct pass_rgb faint = mix(p->bg, p->fg, 13);

	fill(c, mix(p->bg, p->fg, 6), 255);
	ring(c, cx, cy, h * 74 / 100, h * 86 / 100, faint);
	ring(c, cx, cy, h * 40 / 100, h * 52 / 100, faint);
}

/* ---- encoding ----------------------------------------------------------------------------- */

/* The drawn images have a few dozen colours (each shape's colour at 17 coverage levels), so they
 * are written as palette PNGs: a third of the bytes of RGB, and every pass carries them. */
struct indexed {
	unsigned char *idx; /* one palette index per pixel */
	png_color plte[256];
	png_byte trns[256];
	int n;
	bool alpha; /* some entry is not opaque: a tRNS chunk is needed */
};

/* Indexes c's colours in order of first appearance (so the same drawing gives the same file);
 * false when there are more than 256 or memory runs out, and c is written as RGB(A) instead. */
static bool index_colors(const struct canvas *c, struct indexed *ix)
{
	size_t npx = (size_t)c->w * c->h;
	uint32_t seen[256];

	ix->idx = malloc(npx);
	if (!ix->idx)
		return false;
	for (size_t i = 0; i < npx; i++) {
		const unsigned char *p = c->px + i * c->ch;
		uint32_t key = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
			       (c->ch == 4 ? p[3] : 255);
		int k = (i && key == seen[ix->idx[i - 1]]) ? ix->idx[i - 1] : 0;
		while (k < ix->n && seen[k] != key)
			k++;
		if (k == ix->n) {
			if (ix->n == 256)
				return false;
			seen[k] = key;
			ix->plte[k] = (png_color){ p[0], p[1], p[2] };
			ix->trns[k] = (png_byte)(key & 255);
			ix->alpha |= ix->trns[k] != 255;
			ix->n++;
		}
		ix->idx[i] = (unsigned char)k;
	}
	return true;
}

struct writer {
	struct buf out;
	png_structp png;
	png_infop info;
	const struct canvas *c;
	const struct indexed *ix; /* NULL: RGB(A) */
	bool done;		  /* set after the last row: a longjmp skips it */
};

static void write_mem(png_structp png, png_bytep data, size_t n)
{
	struct writer *w = png_get_io_ptr(png);

	if (buf_append(&w->out, data, n) != LOY_OK)
		png_error(png, "too big");
}

static void flush_mem(png_structp png)
{
	(void)png;
}

static void write_rows(struct writer *w)
{
	const struct canvas *c = w->c;
	const struct indexed *ix = w->ix;
	int type = ix		? PNG_COLOR_TYPE_PALETTE
		   : c->ch == 4 ? PNG_COLOR_TYPE_RGB_ALPHA
				: PNG_COLOR_TYPE_RGB;
	size_t stride = ix ? c->w : (size_t)c->w * c->ch;

	png_set_write_fn(w->png, w, write_mem, flush_mem);
	png_set_IHDR(w->png, w->info, c->w, c->h, 8, type, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	if (ix) {
		png_set_PLTE(w->png, w->info, ix->plte, ix->n);
		if (ix->alpha)
			png_set_tRNS(w->png, w->info, ix->trns, ix->n, NULL);
	}
	png_set_compression_level(w->png, 9);
	png_write_info(w->png, w->info);
	for (unsigned y = 0; y < c->h; y++)
		png_write_row(w->png, (ix ? ix->idx : c->px) + (size_t)y * stride);
	png_write_end(w->png, NULL);
}

/* Encodes c as a PNG into *out (the caller's, which it frees), at most max bytes. */
static enum loy_err encode(const struct canvas *c, size_t max, struct buf *out)
{
	struct indexed ix = { .n = 0 };
	struct writer w = { .c = c };
	struct writer *wp = &w;
	enum loy_err err;

	w.ix = index_colors(c, &ix) ? &ix : NULL;
	buf_init(&w.out, max);
	w.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, png_quiet_error,
					png_quiet_warning);
	w.info = w.png ? png_create_info_struct(w.png) : NULL;
	if (w.info) {
		if (setjmp(png_jmpbuf(wp->png)) == 0) {
			write_rows(wp);
			wp->done = true;
		}
	}
	err = !w.info ? LOY_ENOMEM : wp->done ? LOY_OK : LOY_EINTERNAL;
	png_destroy_write_struct(&wp->png, &wp->info);
	free(ix.idx);
	if (err != LOY_OK) {
		buf_cleanup(&wp->out);
		return err;
	}
	*out = wp->out;
	return LOY_OK;
}

/* ---- the default set ---------------------------------------------------------------------- */

enum kind { KIND_ICON, KIND_LOGO, KIND_STRIP, KINDS };

/* The default image's size in points (the logo's is narrower than its allotted space). */
static const struct {
	unsigned w, h, ch;
	void (*draw)(struct canvas *c, const struct palette *p);
} kinds[KINDS] = {
	[KIND_ICON] = { 29, 29, 3, draw_icon },
	[KIND_LOGO] = { 50, 50, 4, draw_logo },
	[KIND_STRIP] = { 375, 144, 3, draw_strip },
};

static bool kind_given(const struct pass_images *im, int k)
{
	for (int s = 0; s < 3; s++)
		if (im->png[k * 3 + s].len)
			return true;
	return false;
}

static enum loy_err draw_one(int k, int scale, const struct palette *p, struct buf *out)
{
	struct canvas c = { .w = kinds[k].w * (unsigned)scale,
			    .h = kinds[k].h * (unsigned)scale,
			    .ch = kinds[k].ch };
	enum loy_err err;

	c.px = malloc((size_t)c.w * c.h * c.ch);
	if (!c.px)
		return LOY_ENOMEM;
	kinds[k].draw(&c, p);
	err = encode(&c, specs[k * 3 + scale - 1].max_bytes, out);
	free(c.px);
	return err;
}

/* Moves the drawn PNGs into one block owned by im and points the slots at it. */
static enum loy_err adopt(struct pass_images *im, struct buf drawn[PASS_PNG_SLOTS])
{
	size_t total = 0, off = 0;

	for (int s = 0; s < PASS_PNG_SLOTS; s++)
		total += drawn[s].len;
	if (total == 0)
		return LOY_OK;
	im->owned = malloc(total);
	if (!im->owned)
		return LOY_ENOMEM;
	for (int s = 0; s < PASS_PNG_SLOTS; s++) {
		if (!drawn[s].len)
			continue;
		memcpy(im->owned + off, drawn[s].p, drawn[s].len);
		im->png[s].data = im->owned + off;
		im->png[s].len = drawn[s].len;
		digest_sha1_hex(im->png[s].data, im->png[s].len, im->png[s].sha1);
		off += drawn[s].len;
	}
	return LOY_OK;
}

enum loy_err pass_png_defaults(struct pass_images *im, struct pass_rgb background,
			       struct pass_rgb foreground, struct pass_rgb label)
{
	const struct palette p = { background, foreground, label };
	struct buf drawn[PASS_PNG_SLOTS];
	enum loy_err err = LOY_OK;

	if (im->owned)
		return LOY_EINVALID;
	for (int s = 0; s < PASS_PNG_SLOTS; s++)
		buf_init(&drawn[s], specs[s].max_bytes);
	for (int k = 0; k < KINDS && err == LOY_OK; k++)
		if (!kind_given(im, k))
			for (int scale = 1; scale <= 3 && err == LOY_OK; scale++)
				err = draw_one(k, scale, &p, &drawn[k * 3 + scale - 1]);
	if (err == LOY_OK)
		err = adopt(im, drawn);
	for (int s = 0; s < PASS_PNG_SLOTS; s++)
		buf_cleanup(&drawn[s]);
	return err;
}

void pass_png_digest(struct pass_images *im)
{
	for (int s = 0; s < PASS_PNG_SLOTS; s++)
		if (im->png[s].len && !im->png[s].sha1[0])
			digest_sha1_hex(im->png[s].data, im->png[s].len, im->png[s].sha1);
}

void pass_png_release(struct pass_images *im)
{
	free(im->owned);
	memset(im, 0, sizeof(*im));
}
