/* logfmt logging to stderr (include/earshot/log.h). Each line is formatted
 * into a stack buffer and written with one write(2); any thread. */
#include "earshot/log.h"
#include "earshot/timeutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static enum es_log_level min_level = ES_LOG_INFO;

void es_log_set_level(enum es_log_level lvl) { min_level = lvl; }

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
  line[n++] = '\n';
  ssize_t w = write(STDERR_FILENO, line, (size_t)n);
  (void)w;
}
