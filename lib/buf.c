/*
 * buf.c - wire buffers (see buf.h for the rules).
 */
#include "buf.h"

#include <string.h>

#include "crypto/crypto.h"

/* ---- reader ------------------------------------------------------------- */

int rb_bytes(struct rbuf *r, size_t n, const uint8_t **p)
{
	if (n > r->len - r->off)
		return BUF_ESHORT;
	if (p)
		*p = r->p + r->off;
	r->off += n;
	return 0;
}

int rb_skip(struct rbuf *r, size_t n)
{
	return rb_bytes(r, n, NULL);
}

int rb_u8(struct rbuf *r, uint8_t *v)
{
	const uint8_t *p;

	if (rb_bytes(r, 1, &p))
		return BUF_ESHORT;
	*v = p[0];
	return 0;
}

int rb_bool(struct rbuf *r, int *v)
{
	uint8_t b;

	if (rb_u8(r, &b))
		return BUF_ESHORT;
	/* RFC 4251 5: any non-zero value is TRUE. */
	*v = b != 0;
	return 0;
}

int rb_u32(struct rbuf *r, uint32_t *v)
{
	const uint8_t *p;

	if (rb_bytes(r, 4, &p))
		return BUF_ESHORT;
	*v = get_u32(p);
	return 0;
}

int rb_u64(struct rbuf *r, uint64_t *v)
{
	const uint8_t *p;

	if (rb_bytes(r, 8, &p))
		return BUF_ESHORT;
	*v = get_u64(p);
	return 0;
}

int rb_string(struct rbuf *r, const uint8_t **p, size_t *n, size_t max)
{
	size_t save = r->off;
	const uint8_t *d;
	uint32_t len;
	int rc;

	if ((rc = rb_u32(r, &len)))
		return rc;
	if (len > max) {
		r->off = save;
		return BUF_EBIG;
	}
	if ((rc = rb_bytes(r, len, &d))) {
		r->off = save;
		return rc;
	}
	if (p)
		*p = d;
	*n = len;
	return 0;
}

int rb_text(struct rbuf *r, const char **p, size_t *n, size_t max)
{
	size_t save = r->off, len;
	const uint8_t *s;
	int rc;

	if ((rc = rb_string(r, &s, &len, max)))
		return rc;
	if (memchr(s, 0, len)) {
		r->off = save;
		return BUF_EINVAL;
	}
	*p = (const char *)s;
	*n = len;
	return 0;
}

int rb_sub(struct rbuf *r, struct rbuf *sub, size_t max)
{
	const uint8_t *p;
	size_t n;
	int rc;

	if ((rc = rb_string(r, &p, &n, max)))
		return rc;
	rb_init(sub, p, n);
	return 0;
}

int rb_mpint(struct rbuf *r, const uint8_t **p, size_t *n, size_t max)
{
	size_t save = r->off;
	const uint8_t *s;
	size_t len;
	int rc;

	/* One extra byte for the sign-protecting zero. */
	if ((rc = rb_string(r, &s, &len, max < SIZE_MAX ? max + 1 : max)))
		return rc;
	if (len > 0 && (s[0] & 0x80))
		goto bad; /* negative */
	if (len > 0 && s[0] == 0) {
		/* A leading zero is only allowed before a set top bit. */
		if (len == 1 || !(s[1] & 0x80))
			goto bad;
		s++;
		len--;
	}
	if (len > max)
		goto bad;
	*p = s;
	*n = len;
	return 0;
bad:
	r->off = save;
	return BUF_EINVAL;
}

int rb_done(const struct rbuf *r)
{
	return r->off == r->len ? 0 : BUF_EINVAL;
}

/* ---- writer ------------------------------------------------------------- */

void wb_init(struct wbuf *w, const struct lalloc *a, size_t max)
{
	w->p = NULL;
	w->len = 0;
	w->cap = 0;
	w->max = max;
	w->err = 0;
	w->a = a;
}

void wb_free(struct wbuf *w)
{
	la_free(w->a, w->p);
	w->p = NULL;
	w->len = w->cap = 0;
}

void wb_free_wipe(struct wbuf *w)
{
	if (w->p)
		crypto_wipe(w->p, w->cap);
	wb_free(w);
}

void wb_reset(struct wbuf *w)
{
	w->len = 0;
	w->err = 0;
}

int wb_grow(struct wbuf *w, size_t n)
{
	size_t want, ncap;
	uint8_t *np;

	if (w->err)
		return w->err;
	if (n <= w->cap - w->len)
		return 0;
	if (n > w->max - w->len) {
		w->err = BUF_EBIG;
		return w->err;
	}
	want = w->len + n;
	ncap = w->cap ? w->cap : 256;
	if (ncap > w->max)
		ncap = w->max;
	while (ncap < want)
		ncap = ncap > w->max / 2 ? w->max : ncap * 2;
	np = la_realloc(w->a, w->p, ncap);
	if (!np) {
		w->err = BUF_ENOMEM;
		return w->err;
	}
	w->p = np;
	w->cap = ncap;
	return 0;
}

int wb_reserve(struct wbuf *w, size_t n, uint8_t **p)
{
	int rc;

	if ((rc = wb_grow(w, n)))
		return rc;
	if (p)
		*p = w->p + w->len;
	w->len += n;
	return 0;
}

int wb_bytes(struct wbuf *w, const void *p, size_t n)
{
	uint8_t *d;
	int rc;

	if ((rc = wb_reserve(w, n, &d)))
		return rc;
	if (n)
		memcpy(d, p, n);
	return 0;
}

int wb_u8(struct wbuf *w, uint8_t v)
{
	return wb_bytes(w, &v, 1);
}

int wb_bool(struct wbuf *w, int v)
{
	return wb_u8(w, v ? 1 : 0);
}

int wb_u32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4];

	put_u32(b, v);
	return wb_bytes(w, b, 4);
}

int wb_u64(struct wbuf *w, uint64_t v)
{
	uint8_t b[8];

	put_u64(b, v);
	return wb_bytes(w, b, 8);
}

int wb_string(struct wbuf *w, const void *p, size_t n)
{
	int rc;

	if (n > UINT32_MAX) {
		w->err = w->err ? w->err : BUF_EBIG;
		return w->err;
	}
	if ((rc = wb_u32(w, (uint32_t)n)))
		return rc;
	return wb_bytes(w, p, n);
}

int wb_cstring(struct wbuf *w, const char *s)
{
	return wb_string(w, s, strlen(s));
}

int wb_mpint(struct wbuf *w, const uint8_t *p, size_t n)
{
	int rc;

	while (n > 0 && p[0] == 0) {
		p++;
		n--;
	}
	if (n > 0 && (p[0] & 0x80)) {
		if (n >= UINT32_MAX) {
			w->err = w->err ? w->err : BUF_EBIG;
			return w->err;
		}
		if ((rc = wb_u32(w, (uint32_t)(n + 1))) || (rc = wb_u8(w, 0)))
			return rc;
		return wb_bytes(w, p, n);
	}
	return wb_string(w, p, n);
}

int wb_begin_len(struct wbuf *w, size_t *mark)
{
	int rc;

	if ((rc = wb_u32(w, 0)))
		return rc;
	*mark = w->len;
	return 0;
}

void wb_end_len(struct wbuf *w, size_t mark)
{
	if (w->err || mark < 4 || mark > w->len)
		return;
	wb_poke_u32(w, mark - 4, (uint32_t)(w->len - mark));
}

void wb_poke_u32(struct wbuf *w, size_t off, uint32_t v)
{
	if (off <= w->len && 4 <= w->len - off)
		put_u32(w->p + off, v);
}
