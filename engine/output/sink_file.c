/* The file sinks (include/earshot/sink.h): window records as JSON lines or
 * the pretty terminal view, alert events, enriched mentions and dead
 * letters, each to a file or stdout. Aggregator thread only. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "earshot/mem.h"
#include "earshot/sink.h"

#define BUF_FLUSH (1u << 20) /* window records go out in 1 MiB chunks */

typedef struct fsink {
  es_sink base;
  FILE *f;
  char *path;      /* the dead-letter file, opened with its first record */
  es_buf buf;      /* window records or pretty lines not yet written */
  es_buf line, alerts; /* pretty: the current period's summary line and detail lines */
  es_buf rec;          /* a window record, when the pipeline gave none to share */
  int64_t key_start, key_size; /* pretty: the current period */
  bool pretty;
} fsink;

static void put(fsink *s, const void *data, size_t n) {
  if (!n || !s->f) return;
  if (fwrite(data, 1, n, s->f) != n) es_sink_fail(&s->base, ES_EIO, "writing %s failed: %s", s->base.name, strerror(errno));
}

static void write_buf(fsink *s) {
  put(s, s->buf.data, s->buf.len);
  es_buf_clear(&s->buf);
}

static void flush_pretty(fsink *s) {
  if (s->line.len) {
    es_buf_putc(&s->line, '\n');
    es_buf_put(&s->buf, s->line.data, s->line.len);
  }
  es_buf_put(&s->buf, s->alerts.data, s->alerts.len);
  es_buf_clear(&s->line);
  es_buf_clear(&s->alerts);
}

static void f_flush(es_sink *b) {
  fsink *s = (fsink *)b;
  if (s->pretty) flush_pretty(s);
  write_buf(s);
  if (s->f && fflush(s->f))
    es_sink_fail(b, ES_EIO, "writing %s failed: %s", b->name, strerror(errno));
}

static void f_finish(es_sink *b) {
  fsink *s = (fsink *)b;
  if (s->pretty) flush_pretty(s);
  write_buf(s);
  if (s->f) {
    int bad = s->f == stdout ? fflush(s->f) : fclose(s->f);
    if (bad) es_sink_fail(b, ES_EIO, "finishing %s failed: %s", b->name, strerror(errno));
  }
  s->f = NULL;
}

static void f_destroy(es_sink *b) {
  fsink *s = (fsink *)b;
  if (s->f && s->f != stdout) fclose(s->f);
  es_buf_free(&s->buf);
  es_buf_free(&s->line);
  es_buf_free(&s->alerts);
  es_buf_free(&s->rec);
  es_free(s->path);
  es_free(s);
}

static void json_window(es_sink *b, const es_sink_window *e) {
  fsink *s = (fsink *)b;
  const es_buf *j = es_sink_window_json(e, &s->rec);
  es_buf_put(&s->buf, j->data, j->len);
  if (s->buf.len >= BUF_FLUSH) write_buf(s);
}

/* One summary line per window period (every query's volume), then a detail
 * line for each window with an alert event. */
static void pretty_window(es_sink *b, const es_sink_window *e) {
  fsink *s = (fsink *)b;
  const es_window_result *w = e->w;
  if (s->key_start != w->start_ms || s->key_size != w->size_ms) {
    flush_pretty(s);
    s->key_start = w->start_ms;
    s->key_size = w->size_ms;
    es_output_period_pretty(&s->line, w);
  }
  if (w->count) es_buf_printf(&s->line, " | %s %llu", e->q->id, (unsigned long long)w->count);
  if (e->d->alert_state != ES_ALERT_NONE) es_output_window_pretty(&s->alerts, e->q, w, e->d);
  if (s->buf.len >= BUF_FLUSH) write_buf(s);
}

static void alerts_window(es_sink *b, const es_sink_window *e) {
  fsink *s = (fsink *)b;
  if (e->d->alert_state == ES_ALERT_NONE) return;
  const es_buf *j = es_sink_window_json(e, &s->rec);
  put(s, j->data, j->len);
}

static void enriched_rec(es_sink *b, const char *key, size_t kn, const char *json, size_t n) {
  (void)key, (void)kn;
  put((fsink *)b, json, n);
}

static void dead_rec(es_sink *b, const es_sink_dead *e) {
  fsink *s = (fsink *)b;
  if (!s->f) {
    if (b->err) return;
    if (!(s->f = fopen(s->path, "w"))) {
      es_sink_fail(b, ES_EIO, "cannot open the dead-letter output %s: %s", s->path, strerror(errno));
      return;
    }
  }
  put(s, e->json, e->json_len);
}

static const es_sink_ops json_ops = {.window = json_window, .flush = f_flush, .finish = f_finish, .destroy = f_destroy};
static const es_sink_ops pretty_ops = {.window = pretty_window, .flush = f_flush, .finish = f_finish, .destroy = f_destroy};
static const es_sink_ops alerts_ops = {.window = alerts_window, .sla = enriched_rec, .flush = f_flush, .finish = f_finish, .destroy = f_destroy};
static const es_sink_ops enriched_ops = {.enriched = enriched_rec, .flush = f_flush, .finish = f_finish, .destroy = f_destroy};
static const es_sink_ops triage_ops = {.triage = enriched_rec, .flush = f_flush, .finish = f_finish, .destroy = f_destroy};
static const es_sink_ops dead_ops = {.dead = dead_rec, .flush = f_flush, .finish = f_finish, .destroy = f_destroy};

static es_sink *make(const es_sink_ops *ops, const char *name, unsigned wants, const char *path, bool open_now,
                     es_diag *d) {
  fsink *s = es_calloc(1, sizeof *s);
  if (!s) {
    es_diag_set(d, ES_ENOMEM, "out of memory creating %s", name);
    return NULL;
  }
  s->base.ops = ops;
  s->base.name = name;
  s->base.wants = wants;
  s->key_start = s->key_size = INT64_MIN;
  es_buf_init(&s->buf);
  es_buf_init(&s->line);
  es_buf_init(&s->alerts);
  es_buf_init(&s->rec);
  if (!open_now) {
    if (!(s->path = es_strdup(path))) {
      f_destroy(&s->base);
      es_diag_set(d, ES_ENOMEM, "out of memory creating %s", name);
      return NULL;
    }
  } else if (!strcmp(path, "-")) {
    s->f = stdout;
  } else if (!(s->f = fopen(path, "w"))) {
    es_diag_set(d, ES_EIO, "cannot open %s '%s' for writing: %s", name, path, strerror(errno));
    f_destroy(&s->base);
    return NULL;
  }
  return &s->base;
}

es_sink *es_sink_json_create(const char *path, bool early, es_diag *d) {
  return make(&json_ops, "the window output", ES_SINK_WINDOWS | (early ? ES_SINK_EARLY : 0), path, true, d);
}

es_sink *es_sink_pretty_create(const char *path, es_diag *d) {
  es_sink *s = make(&pretty_ops, "the window output", ES_SINK_WINDOWS, path, true, d);
  if (s) ((fsink *)s)->pretty = true;
  return s;
}

es_sink *es_sink_alerts_create(const char *path, es_diag *d) {
  return make(&alerts_ops, "the alerts output", ES_SINK_WINDOWS | ES_SINK_SLA, path, true, d);
}

es_sink *es_sink_enriched_create(const char *path, es_diag *d) {
  return make(&enriched_ops, "the enriched output", ES_SINK_ENRICHED, path, true, d);
}

es_sink *es_sink_triage_create(const char *path, es_diag *d) {
  return make(&triage_ops, "the triage output", ES_SINK_TRIAGE, path, true, d);
}

es_sink *es_sink_dead_create(const char *path, es_diag *d) {
  return make(&dead_ops, "the dead-letter output", ES_SINK_DEAD, path, false, d);
}
