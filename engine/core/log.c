/* Logging to stderr (include/earshot/log.h), logfmt or JSON lines. Each
 * line is formatted into a stack buffer and written with one write(2); any
 * thread. The JSON form is made from the logfmt one: the key=value tail is
 * split into fields (values quoted "..." or bare; bare numbers stay numbers). */
#include "earshot/log.h"
#include "earshot/timeutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static enum es_log_level min_level = ES_LOG_INFO;
static bool json_format;

void es_log_set_level(enum es_log_level lvl) { min_level = lvl; }
void es_log_set_json(bool on) { json_format = on; }

/* Appends s[0..n) as a JSON string body (no quotes) to out at *k. */
static void json_chars(char *out, size_t cap, size_t *k, const char *s, size_t n) {
  for (size_t i = 0; i < n && *k + 7 < cap; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      out[(*k)++] = '\\';
      out[(*k)++] = (char)c;
    } else if (c < 0x20) {
      *k += (size_t)snprintf(out + *k, cap - *k, "\\u%04x", c);
    } else {
      out[(*k)++] = (char)c;
    }
  }
}

static void json_lit(char *out, size_t cap, size_t *k, const char *s) {
  size_t n = strlen(s);
  if (*k + n < cap) {
    memcpy(out + *k, s, n);
    *k += n;
  }
}

/* {"ts":..,"level":..,"msg":..,"key":value...} from the logfmt tail. */
static size_t to_json(char *out, size_t cap, const char *ts, const char *level, const char *msg, const char *tail) {
  size_t k = 0;
  json_lit(out, cap, &k, "{\"ts\":\"");
  json_chars(out, cap, &k, ts, strlen(ts));
  json_lit(out, cap, &k, "\",\"level\":\"");
  json_chars(out, cap, &k, level, strlen(level));
  json_lit(out, cap, &k, "\",\"msg\":\"");
  json_chars(out, cap, &k, msg, strlen(msg));
  json_lit(out, cap, &k, "\"");
  const char *p = tail;
  while (p && *p) {
    while (*p == ' ') p++;
    const char *eq = p;
    while (*eq && *eq != '=' && *eq != ' ') eq++;
    if (*eq != '=' || eq == p) { /* a word without a key: kept as "text" */
      const char *e = eq;
      while (*e && *e != ' ') e++;
      if (e > p) {
        json_lit(out, cap, &k, ",\"text\":\"");
        json_chars(out, cap, &k, p, (size_t)(e - p));
        json_lit(out, cap, &k, "\"");
      }
      p = e;
      continue;
    }
    json_lit(out, cap, &k, ",\"");
    json_chars(out, cap, &k, p, (size_t)(eq - p));
    json_lit(out, cap, &k, "\":");
    const char *v = eq + 1, *e;
    if (*v == '"') {
      v++;
      e = v;
      while (*e && !(*e == '"' && (e[1] == ' ' || e[1] == 0))) e++;
      json_lit(out, cap, &k, "\"");
      json_chars(out, cap, &k, v, (size_t)(e - v));
      json_lit(out, cap, &k, "\"");
      p = *e ? e + 1 : e;
    } else {
      e = v;
      while (*e && *e != ' ') e++;
      char *end;
      char tmp[64];
      size_t n = (size_t)(e - v) < sizeof tmp - 1 ? (size_t)(e - v) : sizeof tmp - 1;
      memcpy(tmp, v, n);
      tmp[n] = 0;
      double d = strtod(tmp, &end);
      bool number = n && *end == 0 && d == d && tmp[0] != '+' && !(n > 1 && tmp[0] == '0' && tmp[1] != '.');
      if (!number) json_lit(out, cap, &k, "\"");
      json_chars(out, cap, &k, v, (size_t)(e - v));
      if (!number) json_lit(out, cap, &k, "\"");
      p = e;
    }
  }
  json_lit(out, cap, &k, "}");
  return k;
}

void es_log(enum es_log_level lvl, const char *msg, const char *fmt, ...) {
  static const char *names[] = {"debug", "info", "warn", "error"};
  if (lvl < min_level || lvl >= ES_LOG_OFF) return;
  char line[2048], ts[32];
  es_time_format_rfc3339(es_time_wall_ms(), ts);
  int n = snprintf(line, sizeof line, "ts=%s level=%s msg=\"%s\"", ts, names[lvl], msg);
  if (n < 0) return;
  if ((size_t)n < sizeof line - 2 && fmt && *fmt) {
    line[n++] = ' ';
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m > 0) n += m;
  }
  if ((size_t)n > sizeof line - 2) n = (int)sizeof line - 2;
  line[n] = 0;
  if (json_format) {
    char js[4096];
    const char *tail = strstr(line, "\" ");
    /* the tail starts after msg="..." (messages carry no quote) */
    size_t k = to_json(js, sizeof js - 2, ts, names[lvl], msg, tail ? tail + 2 : NULL);
    js[k++] = '\n';
    ssize_t w = write(STDERR_FILENO, js, k);
    (void)w;
    return;
  }
  line[n++] = '\n';
  ssize_t w = write(STDERR_FILENO, line, (size_t)n);
  (void)w;
}
