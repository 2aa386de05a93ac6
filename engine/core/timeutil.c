/* Timestamp and duration parsing/formatting (include/earshot/timeutil.h).
 * Pure functions apart from the two clock readers; any thread. Civil-date
 * conversion uses the days-from-civil algorithm on the proleptic Gregorian
 * calendar, so no timezone database or locale is involved. */
#include "earshot/timeutil.h"
#include "earshot/error.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = (unsigned)(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = (unsigned)(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = (int64_t)yoe + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int)(yy + (*m <= 2));
}

static int digits(const char *s, size_t n, size_t at, size_t count, int *out) {
  if (at + count > n) return -1;
  int v = 0;
  for (size_t i = 0; i < count; i++) {
    if (!isdigit((unsigned char)s[at + i])) return -1;
    v = v * 10 + (s[at + i] - '0');
  }
  *out = v;
  return 0;
}

int es_time_parse_rfc3339(const char *s, size_t n, int64_t *ms) {
  int Y, M, D, h, mi, se;
  if (digits(s, n, 0, 4, &Y) || n < 19 || s[4] != '-' || digits(s, n, 5, 2, &M) || s[7] != '-' ||
      digits(s, n, 8, 2, &D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      digits(s, n, 11, 2, &h) || s[13] != ':' || digits(s, n, 14, 2, &mi) || s[16] != ':' ||
      digits(s, n, 17, 2, &se))
    return ES_EINVAL;
  static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (M < 1 || M > 12 || D < 1 || (unsigned)D > mdays[M - 1] || h > 23 || mi > 59 || se > 60)
    return ES_EINVAL;
  size_t i = 19;
  int64_t frac_ms = 0;
  if (i < n && s[i] == '.') {
    i++;
    size_t start = i;
    int64_t scale = 100;
    while (i < n && isdigit((unsigned char)s[i])) {
      frac_ms += (s[i] - '0') * scale;
      scale /= 10;
      i++;
    }
    if (i == start) return ES_EINVAL;
  }
  int64_t offset_min = 0;
  if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
    i++;
  } else if (i < n && (s[i] == '+' || s[i] == '-')) {
    int oh, om;
    if (digits(s, n, i + 1, 2, &oh) || i + 3 >= n || s[i + 3] != ':' || digits(s, n, i + 4, 2, &om) ||
        oh > 23 || om > 59)
      return ES_EINVAL;
    offset_min = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return ES_EINVAL; /* RFC 3339 requires a zone */
  }
  if (i != n) return ES_EINVAL;
  int64_t days = days_from_civil(Y, (unsigned)M, (unsigned)D);
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + (se == 60 ? 59 : se) - offset_min * 60;
  *ms = secs * 1000 + frac_ms;
  return 0;
}

size_t es_time_format_rfc3339(int64_t ms, char out[32]) {
  int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  int64_t rem = ms - secs * 1000;
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t sod = secs - days * 86400;
  int y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  if (y < 0 || y > 9999) { /* outside what the digits below handle: the general path */
    int n = snprintf(out, 32, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", y, m, d, (int)(sod / 3600), (int)(sod / 60 % 60),
                     (int)(sod % 60), (int)rem);
    return n > 0 ? (size_t)n : 0;
  }
  /* Digits by hand: two of these per window record, on the aggregator. */
  unsigned hh = (unsigned)(sod / 3600), mi = (unsigned)(sod / 60 % 60), ss = (unsigned)(sod % 60);
  char *o = out;
  *o++ = (char)('0' + y / 1000), *o++ = (char)('0' + y / 100 % 10), *o++ = (char)('0' + y / 10 % 10),
  *o++ = (char)('0' + y % 10), *o++ = '-';
  *o++ = (char)('0' + m / 10), *o++ = (char)('0' + m % 10), *o++ = '-';
  *o++ = (char)('0' + d / 10), *o++ = (char)('0' + d % 10), *o++ = 'T';
  *o++ = (char)('0' + hh / 10), *o++ = (char)('0' + hh % 10), *o++ = ':';
  *o++ = (char)('0' + mi / 10), *o++ = (char)('0' + mi % 10), *o++ = ':';
  *o++ = (char)('0' + ss / 10), *o++ = (char)('0' + ss % 10);
  if (rem) {
    *o++ = '.';
    *o++ = (char)('0' + rem / 100), *o++ = (char)('0' + rem / 10 % 10), *o++ = (char)('0' + rem % 10);
  }
  *o++ = 'Z';
  *o = 0;
  return (size_t)(o - out);
}

int es_duration_parse(const char *s, int64_t *ms) {
  if (!s || !*s) return ES_EINVAL;
  char *end;
  double v = strtod(s, &end);
  if (end == s || v < 0) return ES_EINVAL;
  double unit;
  if (!*end || !strcmp(end, "s")) unit = 1000;
  else if (!strcmp(end, "ms")) unit = 1;
  else if (!strcmp(end, "m")) unit = 60000;
  else if (!strcmp(end, "h")) unit = 3600000;
  else if (!strcmp(end, "d")) unit = 86400000;
  else return ES_EINVAL;
  double r = v * unit;
  if (r > 9.0e15) return ES_EINVAL;
  *ms = (int64_t)(r + 0.5);
  return 0;
}

int64_t es_time_wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t es_time_mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t es_time_mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
