/* UTF-8 validation, repair and safe truncation for decoded text.
 * Strict RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF.
 * Pure functions; any thread. The ASCII fast path checks 8 bytes at a time. */
#include <stdint.h>
#include <string.h>

#include "earshot/mention.h"

/* Length of the valid sequence at s[i..n), or 0 if invalid there. */
static size_t seq_len(const unsigned char *s, size_t i, size_t n) {
  unsigned char c = s[i];
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return i + 1 < n && (s[i + 1] & 0xc0) == 0x80 ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (i + 2 >= n) return 0;
    unsigned char c1 = s[i + 1];
    if ((c1 & 0xc0) != 0x80 || (s[i + 2] & 0xc0) != 0x80) return 0;
    if (c == 0xe0 && c1 < 0xa0) return 0; /* overlong */
    if (c == 0xed && c1 > 0x9f) return 0; /* surrogate */
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (i + 3 >= n) return 0;
    unsigned char c1 = s[i + 1];
    if ((c1 & 0xc0) != 0x80 || (s[i + 2] & 0xc0) != 0x80 || (s[i + 3] & 0xc0) != 0x80) return 0;
    if (c == 0xf0 && c1 < 0x90) return 0; /* overlong */
    if (c == 0xf4 && c1 > 0x8f) return 0; /* above U+10FFFF */
    return 4;
  }
  return 0;
}

size_t es_utf8_valid_prefix(const char *str, size_t n) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0;
  while (i < n) {
    if (i + 8 <= n) {
      uint64_t w;
      memcpy(&w, s + i, 8);
      if (!(w & 0x8080808080808080ULL)) {
        i += 8;
        continue;
      }
    }
    size_t k = seq_len(s, i, n);
    if (!k) return i;
    i += k;
  }
  return n;
}

size_t es_utf8_repair(const char *str, size_t n, char *out) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0, o = 0;
  while (i < n) {
    size_t k = seq_len(s, i, n);
    if (k) {
      memcpy(out + o, s + i, k);
      o += k;
      i += k;
    } else {
      /* One U+FFFD per maximal invalid subpart: skip the lead byte and any
       * continuation bytes that follow it. */
      memcpy(out + o, "\xef\xbf\xbd", 3);
      o += 3;
      i++;
      while (i < n && (s[i] & 0xc0) == 0x80) i++;
    }
  }
  return o;
}

size_t es_utf8_truncate(const char *str, size_t n, size_t max) {
  const unsigned char *s = (const unsigned char *)str;
  if (n <= max) return n;
  size_t k = max;
  /* Step back over continuation bytes to the start of the cut sequence. */
  while (k > 0 && (s[k] & 0xc0) == 0x80) k--;
  return k;
}
