/* Growable byte buffer and the JSON writer built on it.
 *
 * Output records (windows, enriched mentions, dead letters) are serialised
 * into an es_buf owned by one thread and written out in one go. Appends grow
 * the buffer geometrically, so steady state allocates nothing. An allocation
 * failure sets `oom` and turns further appends into no-ops; the owner checks
 * it once per record. */
#ifndef EARSHOT_BUF_H
#define EARSHOT_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>

typedef struct es_buf {
  char *data;
  size_t len, cap;
  bool oom;
} es_buf;

void es_buf_init(es_buf *b);
void es_buf_free(es_buf *b);
static inline void es_buf_clear(es_buf *b) { b->len = 0; }
/* Grows the buffer so that `extra` more bytes fit; false after OOM. */
bool es__buf_grow(es_buf *b, size_t extra);
/* The appends are inline: a window record is some 60 of them, and the
 * aggregator writes hundreds of thousands of records a second. */
static inline bool es_buf_reserve(es_buf *b, size_t extra) {
  return (!b->oom && b->cap - b->len >= extra) || es__buf_grow(b, extra);
}
static inline void es_buf_put(es_buf *b, const void *p, size_t n) {
  if (!n || !es_buf_reserve(b, n)) return; /* n == 0: p may be NULL (an empty buffer) */
  memcpy(b->data + b->len, p, n);
  b->len += n;
}
static inline void es_buf_puts(es_buf *b, const char *s) { es_buf_put(b, s, strlen(s)); }
static inline void es_buf_putc(es_buf *b, char c) {
  if (!es_buf_reserve(b, 1)) return;
  b->data[b->len++] = c;
}
void es_buf_printf(es_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* JSON pieces. es_buf_json_str writes a quoted, escaped string; input is
 * expected to be valid UTF-8 (the decoder repairs it before anything is
 * written) and control characters are escaped as \u00XX. */
void es_buf_json_str(es_buf *b, const char *s, size_t n);
void es_buf_json_key(es_buf *b, const char *key); /* ,"key": or "key": after { */
static inline void es_buf_json_keyn(es_buf *b, const char *key, size_t n) {
  if (!es_buf_reserve(b, n + 4)) return;
  char *o = b->data + b->len;
  if (b->len && o[-1] != '{' && o[-1] != '[') *o++ = ',';
  *o++ = '"';
  memcpy(o, key, n);
  o += n;
  *o++ = '"';
  *o++ = ':';
  b->len = (size_t)(o - b->data);
}
/* A literal key, its length known at compile time. */
#define ES_JSON_KEY(b, lit) es_buf_json_keyn((b), (lit), sizeof(lit) - 1)
void es_buf_json_i64(es_buf *b, int64_t v);
void es_buf_json_u64(es_buf *b, uint64_t v);
/* Shortest round-trip-safe-enough representation: %.6g, non-finite as null. */
void es_buf_json_f64(es_buf *b, double v);

#endif
