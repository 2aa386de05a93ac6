/* es_buf: growable buffer and JSON serialisation helpers
 * (include/earshot/buf.h). Owned by one thread at a time. */
#include "earshot/buf.h"
#include "earshot/mem.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void es_buf_init(es_buf *b) { memset(b, 0, sizeof *b); }

void es_buf_free(es_buf *b) {
  es_free(b->data);
  es_buf_init(b);
}

bool es__buf_grow(es_buf *b, size_t extra) {
  if (b->oom) return false;
  if (b->cap - b->len >= extra) return true;
  size_t cap = b->cap ? b->cap : 256;
  while (cap - b->len < extra) cap *= 2;
  char *p = es_realloc(b->data, cap);
  if (!p) {
    b->oom = true;
    return false;
  }
  b->data = p;
  b->cap = cap;
  return true;
}


void es_buf_printf(es_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char tmp[256];
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof tmp) {
    es_buf_put(b, tmp, (size_t)n);
    return;
  }
  if (!es_buf_reserve(b, (size_t)n + 1)) return;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

void es_buf_json_str(es_buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  /* Worst case every byte becomes \u00XX (6 bytes) plus the quotes. */
  if (!es_buf_reserve(b, n * 6 + 2)) return;
  char *o = b->data + b->len;
  *o++ = '"';
  size_t i = 0;
  /* Runs of 8 bytes with nothing to escape are copied whole (SWAR: a byte
   * below 0x20, or equal to '"' or '\\', sets its high bit in `bad`). */
  for (; i + 8 <= n; i += 8) {
    uint64_t x, ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    memcpy(&x, s + i, 8);
    uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\');
    uint64_t bad = ((x - ones * 0x20) | (q - ones) | (bs - ones)) & ~x & high;
    if (bad) break;
    memcpy(o, &x, 8);
    o += 8;
  }
  for (; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') {
      *o++ = (char)c;
      continue;
    }
    *o++ = '\\';
    switch (c) {
    case '"': *o++ = '"'; break;
    case '\\': *o++ = '\\'; break;
    case '\n': *o++ = 'n'; break;
    case '\r': *o++ = 'r'; break;
    case '\t': *o++ = 't'; break;
    default:
      *o++ = 'u';
      *o++ = '0';
      *o++ = '0';
      *o++ = hex[c >> 4];
      *o++ = hex[c & 15];
    }
  }
  *o++ = '"';
  b->len = (size_t)(o - b->data);
}

void es_buf_json_key(es_buf *b, const char *key) { es_buf_json_keyn(b, key, strlen(key)); }


/* Integers without printf: window records are mostly integers, and the
 * aggregator formats every one of them. */
void es_buf_json_u64(es_buf *b, uint64_t v) {
  static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                              "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                              "8081828384858687888990919293949596979899";
  char tmp[20];
  int n = 20;
  while (v >= 100) { /* two digits at a time */
    unsigned r = (unsigned)(v % 100);
    v /= 100;
    tmp[--n] = pairs[2 * r + 1];
    tmp[--n] = pairs[2 * r];
  }
  if (v >= 10) {
    tmp[--n] = pairs[2 * v + 1];
    tmp[--n] = pairs[2 * v];
  } else {
    tmp[--n] = (char)('0' + v);
  }
  es_buf_put(b, tmp + n, (size_t)(20 - n));
}

void es_buf_json_i64(es_buf *b, int64_t v) {
  if (v < 0) {
    es_buf_putc(b, '-');
    es_buf_json_u64(b, (uint64_t)0 - (uint64_t)v);
    return;
  }
  es_buf_json_u64(b, (uint64_t)v);
}

/* Six significant digits, as printf's %.6g writes them (trailing zeros
 * dropped; exponent form below 1e-4 and from 1e6), without printf's exact
 * decimal conversion: the digits come from one scaling by a power of ten
 * and a rounding, which can differ from printf in the last digit only for
 * values that are exact halves at the seventh digit. The aggregator writes
 * several of these per window record. */
void es_buf_json_f64(es_buf *b, double v) {
  if (!isfinite(v)) {
    es_buf_puts(b, "null");
    return;
  }
  if (v == 0) {
    es_buf_putc(b, '0');
    return;
  }
  double a = fabs(v);
  if (a < 1e-4 || a >= 1e6) {
    es_buf_printf(b, "%.6g", v);
    return;
  }
  static const double p10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10};
  int e = -4; /* floor(log10(a)): -4 .. 5, by comparisons (log10 cost ~100 instructions; next to a power of ten
                 either answer gives the same digits, the carry below settles it) */
  static const double lim[] = {1e-3, 1e-2, 1e-1, 1e0, 1e1, 1e2, 1e3, 1e4, 1e5};
  while (e < 5 && a >= lim[e + 4]) e++;
  int frac = 5 - e;            /* decimals for six significant digits: 0 .. 9 */
  long long digits = llround(a * p10[frac]);
  if (digits >= 1000000) { /* rounding carried into a seventh digit */
    if (frac == 0) {
      es_buf_printf(b, "%.6g", v);
      return;
    }
    frac--;
    digits = llround(a * p10[frac]);
  }
  while (frac > 0 && digits % 10 == 0) {
    digits /= 10;
    frac--;
  }
  char tmp[40], rev[24];
  int n = 0, k = 0;
  long long ip = digits / (long long)p10[frac], fp = digits % (long long)p10[frac];
  if (v < 0) tmp[n++] = '-';
  do { /* the integer part, without printf (it cost 660 instructions a number) */
    rev[k++] = (char)('0' + ip % 10);
    ip /= 10;
  } while (ip);
  while (k) tmp[n++] = rev[--k];
  if (frac > 0) {
    tmp[n++] = '.';
    for (k = frac - 1; k >= 0; k--) { /* with its leading zeros */
      tmp[n + k] = (char)('0' + fp % 10);
      fp /= 10;
    }
    n += frac;
  }
  es_buf_put(b, tmp, (size_t)n);
}
