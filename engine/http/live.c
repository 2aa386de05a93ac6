/* The live views: a sink that keeps, for the HTTP API and the dashboard,
 * each query's recent closed windows (a ring of `history` per window size),
 * its latest window and open alerts, the last alert events, the last status
 * of the run, and a ring of server-sent events (window, early window,
 * alert, status) that SSE clients read at their own pace.
 *
 * Memory is bounded: queries are entered when their first window closes
 * (history x 56 bytes per window size each), LIVE_ALERTS alert events, and
 * SSE_EVENTS events of at most SSE_BYTES in all; a client that falls behind
 * the ring is dropped, so a slow client never holds the aggregator.
 *
 * Threads: the sink runs on the aggregator thread; the readers on the HTTP
 * thread; `lock` guards everything. The sink formats outside the lock. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "earshot/hash.h"
#include "earshot/mem.h"
#include "earshot/output.h"
#include "earshot/timeutil.h"
#include "http_internal.h"

#define LIVE_ALERTS 256          /* alert events kept for /api/v1/alerts?state=all */
#define SSE_EVENTS 16384         /* events kept for SSE clients */
#define LIVE_TRIAGE 32           /* triage records kept per track for /api/v1/triage */
#define LIVE_TRACKS 40           /* tracks (and ignore, unrouted) shown */
#define SSE_BYTES (16u << 20)    /* and at most this many bytes of them */

typedef struct wsum { /* one closed window, for the sparklines */
  int64_t start_ms;
  uint64_t count, negative;
  double expected, lift, p_value, sentiment;
  uint8_t cls, alert_state;
} wsum;

typedef struct qlive {
  char *id, *name;
  wsum *ring[ES_MAX_WINDOW_SIZES];
  int head[ES_MAX_WINDOW_SIZES], n[ES_MAX_WINDOW_SIZES];
  int64_t size_ms[ES_MAX_WINDOW_SIZES];
  char *latest;                           /* the last closed window's record */
  char *open[ES_MAX_WINDOW_SIZES];        /* the last event of each open alert */
  uint8_t open_class[ES_MAX_WINDOW_SIZES]; /* the class that opened it */
} qlive;

typedef struct tlive { /* a triage track: its records so far and the last ones */
  char *track;
  uint64_t records, sla_events;
  char *recent[LIVE_TRIAGE];
  bool breach_open;
} tlive;

typedef struct sse_ev {
  uint64_t seq;
  char *text;
  size_t len;
} sse_ev;

struct es_live {
  es_sink sink;
  pthread_mutex_t lock;
  int history;
  void (*wake)(void *);
  void *wake_arg;
  qlive *q;
  size_t nq, capq;
  uint32_t *ix; /* open addressing by id hash: entry + 1, 0 empty */
  size_t capix;
  char *alerts[LIVE_ALERTS];
  uint64_t nalerts;
  sse_ev ev[SSE_EVENTS];
  uint64_t next_seq; /* ev[seq % SSE_EVENTS] holds seq for seq in [first_seq, next_seq) */
  uint64_t first_seq;
  size_t ev_bytes;
  es_sink_status st;
  bool have_status;
  int64_t status_mono_ms;
  uint64_t opened[ES_CLASS_COUNT], resolved[ES_CLASS_COUNT], open_alerts;
  tlive tr[LIVE_TRACKS];
  size_t ntr;
  char *sla[LIVE_ALERTS]; /* sla_breach events, newest last */
  uint64_t nsla;
  es_buf tmp, evbuf; /* aggregator thread: formatting */
};

static char *dup_n(const char *s, size_t n) {
  char *c = es_malloc(n + 1);
  if (!c) return NULL;
  memcpy(c, s, n);
  c[n] = 0;
  return c;
}

/* The entry of query id (entered when missing); NULL on OOM. Under lock. */
static qlive *entry(es_live *l, const char *id, const char *name) {
  size_t n = strlen(id);
  uint64_t h = es_hash_bytes(id, n);
  if (l->capix) {
    for (size_t i = h & (l->capix - 1);; i = (i + 1) & (l->capix - 1)) {
      if (!l->ix[i]) break;
      qlive *e = &l->q[l->ix[i] - 1];
      if (!strcmp(e->id, id)) return e;
    }
  }
  if (l->nq == l->capq) {
    size_t cap = l->capq ? l->capq * 2 : 64;
    qlive *nq = es_realloc(l->q, cap * sizeof *nq);
    if (!nq) return NULL;
    l->q = nq;
    l->capq = cap;
  }
  if (2 * (l->nq + 1) > l->capix) { /* at most half full */
    size_t cap = l->capix ? l->capix * 2 : 128;
    uint32_t *ix = es_calloc(cap, sizeof *ix);
    if (!ix) return NULL;
    for (size_t k = 0; k < l->nq; k++) {
      size_t i = es_hash_bytes(l->q[k].id, strlen(l->q[k].id)) & (cap - 1);
      while (ix[i]) i = (i + 1) & (cap - 1);
      ix[i] = (uint32_t)k + 1;
    }
    es_free(l->ix);
    l->ix = ix;
    l->capix = cap;
  }
  qlive *e = &l->q[l->nq];
  memset(e, 0, sizeof *e);
  e->id = dup_n(id, n);
  e->name = dup_n(name ? name : id, strlen(name ? name : id));
  if (!e->id || !e->name) {
    es_free(e->id);
    es_free(e->name);
    return NULL;
  }
  size_t i = h & (l->capix - 1);
  while (l->ix[i]) i = (i + 1) & (l->capix - 1);
  l->ix[i] = (uint32_t)++l->nq;
  return e;
}

static qlive *find(es_live *l, const char *id) {
  if (!l->capix) return NULL;
  for (size_t i = es_hash_bytes(id, strlen(id)) & (l->capix - 1); l->ix[i]; i = (i + 1) & (l->capix - 1))
    if (!strcmp(l->q[l->ix[i] - 1].id, id)) return &l->q[l->ix[i] - 1];
  return NULL;
}

/* Appends an SSE event (text owned by the ring from here). Under lock. */
static void push_event(es_live *l, char *text, size_t len) {
  if (!text) return;
  while (l->next_seq > l->first_seq && (l->next_seq - l->first_seq >= SSE_EVENTS || l->ev_bytes + len > SSE_BYTES)) {
    sse_ev *o = &l->ev[l->first_seq % SSE_EVENTS];
    l->ev_bytes -= o->len;
    es_free(o->text);
    o->text = NULL;
    l->first_seq++;
  }
  sse_ev *e = &l->ev[l->next_seq % SSE_EVENTS];
  e->seq = l->next_seq++;
  e->text = text;
  e->len = len;
  l->ev_bytes += len;
}

/* "event: NAME\ndata: JSON\n\n" from a JSON line. */
static char *sse_text(const char *event, const char *json, size_t n, size_t *len) {
  if (n && json[n - 1] == '\n') n--;
  size_t en = strlen(event);
  char *t = es_malloc(en + n + 17);
  if (!t) return NULL;
  int k = snprintf(t, en + 17, "event: %s\ndata: ", event);
  memcpy(t + k, json, n);
  memcpy(t + k + n, "\n\n", 3);
  *len = (size_t)k + n + 2;
  return t;
}

static void live_window(es_sink *s, const es_sink_window *e) {
  es_live *l = (es_live *)s;
  const es_buf *j = es_sink_window_json(e, &l->tmp);
  size_t n = j->len ? j->len - 1 : 0; /* without the newline */
  const es_detect_result *d = e->d;
  bool alert = d && d->alert_state != ES_ALERT_NONE;
  size_t elen = 0, alen = 0;
  char *ev = sse_text(d ? "window" : "early", j->data, n, &elen);
  char *aev = alert ? sse_text("alert", j->data, n, &alen) : NULL;
  char *rec = d ? dup_n(j->data, n) : NULL;
  char *arec = alert ? dup_n(j->data, n) : NULL;
  int si = e->w->size_idx >= 0 && e->w->size_idx < ES_MAX_WINDOW_SIZES ? e->w->size_idx : 0;
  pthread_mutex_lock(&l->lock);
  push_event(l, ev, elen);
  qlive *q = d ? entry(l, e->q->id, e->q->name) : NULL;
  if (q) {
    if (!q->ring[si] && (q->ring[si] = es_calloc((size_t)l->history, sizeof(wsum))) == NULL) {
      /* out of memory: the window is not kept */
    }
    q->size_ms[si] = e->w->size_ms;
    if (q->ring[si]) {
      wsum *w = &q->ring[si][(q->head[si] + q->n[si]) % l->history];
      if (q->n[si] == l->history) q->head[si] = (q->head[si] + 1) % l->history;
      else q->n[si]++;
      *w = (wsum){.start_ms = e->w->start_ms, .count = e->w->count, .negative = e->w->negative,
                  .expected = d->expected, .lift = d->lift, .p_value = d->p_value,
                  .sentiment = e->w->sentiment_mean, .cls = (uint8_t)d->cls, .alert_state = (uint8_t)d->alert_state};
    }
    es_free(q->latest);
    q->latest = rec;
    rec = NULL;
    if (alert) {
      if (d->alert_state == ES_ALERT_OPENED) {
        l->opened[d->cls]++;
        if (!q->open[si]) l->open_alerts++;
        q->open_class[si] = (uint8_t)d->cls;
      }
      es_free(q->open[si]);
      q->open[si] = NULL;
      if (d->alert_state == ES_ALERT_RESOLVED) {
        l->resolved[q->open_class[si]]++;
        if (l->open_alerts) l->open_alerts--;
      } else {
        q->open[si] = dup_n(arec, strlen(arec ? arec : ""));
      }
      es_free(l->alerts[l->nalerts % LIVE_ALERTS]);
      l->alerts[l->nalerts++ % LIVE_ALERTS] = arec;
      arec = NULL;
      push_event(l, aev, alen);
      aev = NULL;
    }
  }
  pthread_mutex_unlock(&l->lock);
  es_free(rec);
  es_free(arec);
  es_free(aev);
  if (l->wake) l->wake(l->wake_arg);
}

static void live_status(es_sink *s, const es_sink_status *st) {
  es_live *l = (es_live *)s;
  /* The status event: the counters the dashboard shows. */
  es_buf *b = &l->evbuf;
  es_buf_clear(b);
  uint64_t dead = 0;
  for (int r = 1; r < ES_REASON_COUNT; r++) dead += st->reasons[r];
  double up = (double)(st->now_ms - st->started_ms) / 1000.0;
  es_buf_printf(b, "{\"lines\":%llu,\"accepted\":%llu,\"matched\":%llu,\"dead_letters\":%llu,\"windows\":%llu,"
                   "\"alerts_opened\":%llu,\"alerts_resolved\":%llu,\"ready\":%s,\"uptime_seconds\":%.1f,"
                   "\"batches_busy\":%u,\"batches\":%u,\"lag\":",
                (unsigned long long)st->lines, (unsigned long long)st->accepted, (unsigned long long)st->matched,
                (unsigned long long)dead, (unsigned long long)st->windows, (unsigned long long)st->alerts_opened,
                (unsigned long long)st->alerts_resolved, st->ready ? "true" : "false", up, st->batches_busy,
                st->batches);
  int64_t lag = 0;
  bool known = false;
  for (int i = 0; i < st->nparts; i++)
    if (st->parts[i].lag >= 0) lag += st->parts[i].lag, known = true;
  if (known) es_buf_printf(b, "%lld}", (long long)lag);
  else es_buf_puts(b, "null}");
  size_t len = 0;
  char *ev = sse_text("status", b->data, b->len, &len);
  pthread_mutex_lock(&l->lock);
  l->st = *st;
  l->have_status = true;
  l->status_mono_ms = es_time_mono_ms();
  push_event(l, ev, len);
  pthread_mutex_unlock(&l->lock);
  if (l->wake) l->wake(l->wake_arg);
}

static void live_nothing(es_sink *s) { (void)s; }

/* The track's entry (added on its first record); NULL when there are too many. */
static tlive *track_of(es_live *l, const char *key, size_t kn) {
  for (size_t i = 0; i < l->ntr; i++)
    if (strlen(l->tr[i].track) == kn && !memcmp(l->tr[i].track, key, kn)) return &l->tr[i];
  if (l->ntr == LIVE_TRACKS) return NULL;
  tlive *t = &l->tr[l->ntr];
  if (!(t->track = dup_n(key, kn))) return NULL;
  l->ntr++;
  return t;
}

static void live_triage(es_sink *s, const char *key, size_t kn, const char *json, size_t n) {
  es_live *l = (es_live *)s;
  if (n && json[n - 1] == '\n') n--;
  char *copy = dup_n(json, n); /* copied outside the lock */
  pthread_mutex_lock(&l->lock);
  tlive *t = track_of(l, key, kn);
  if (t) {
    char **slot = &t->recent[t->records % LIVE_TRIAGE];
    es_free(*slot);
    *slot = copy;
    copy = NULL;
    t->records++;
  }
  pthread_mutex_unlock(&l->lock);
  es_free(copy);
}

static void live_sla(es_sink *s, const char *key, size_t kn, const char *json, size_t n) {
  es_live *l = (es_live *)s;
  if (n && json[n - 1] == '\n') n--;
  char *copy = dup_n(json, n);
  pthread_mutex_lock(&l->lock);
  tlive *t = track_of(l, key, kn);
  if (t) {
    t->sla_events++;
    t->breach_open = copy && !strstr(copy, "\"state\":\"resolved\"");
  }
  char **slot = &l->sla[l->nsla % LIVE_ALERTS];
  es_free(*slot);
  *slot = copy;
  l->nsla++;
  pthread_mutex_unlock(&l->lock);
}

static const es_sink_ops live_ops = {.window = live_window, .triage = live_triage, .sla = live_sla,
                                     .flush = live_nothing, .status = live_status, .finish = live_nothing,
                                     .destroy = live_nothing};

es_live *es_live_create(int history, void (*wake)(void *), void *wake_arg) {
  es_live *l = es_calloc(1, sizeof *l);
  if (!l) return NULL;
  l->sink = (es_sink){.ops = &live_ops, .name = "the live views",
                      .wants = ES_SINK_WINDOWS | ES_SINK_EARLY | ES_SINK_TRIAGE | ES_SINK_SLA};
  pthread_mutex_init(&l->lock, NULL);
  l->history = history > 0 ? history : 1;
  l->wake = wake;
  l->wake_arg = wake_arg;
  es_buf_init(&l->tmp);
  es_buf_init(&l->evbuf);
  return l;
}

void es_live_destroy(es_live *l) {
  if (!l) return;
  for (size_t i = 0; i < l->nq; i++) {
    qlive *q = &l->q[i];
    es_free(q->id);
    es_free(q->name);
    es_free(q->latest);
    for (int s = 0; s < ES_MAX_WINDOW_SIZES; s++) {
      es_free(q->ring[s]);
      es_free(q->open[s]);
    }
  }
  es_free(l->q);
  es_free(l->ix);
  for (int i = 0; i < LIVE_ALERTS; i++) es_free(l->alerts[i]);
  for (int i = 0; i < LIVE_ALERTS; i++) es_free(l->sla[i]);
  for (size_t i = 0; i < l->ntr; i++) {
    es_free(l->tr[i].track);
    for (int k = 0; k < LIVE_TRIAGE; k++) es_free(l->tr[i].recent[k]);
  }
  for (uint64_t s = l->first_seq; s < l->next_seq; s++) es_free(l->ev[s % SSE_EVENTS].text);
  es_buf_free(&l->tmp);
  es_buf_free(&l->evbuf);
  pthread_mutex_destroy(&l->lock);
  es_free(l);
}

es_sink *es_live_sink(es_live *l) { return &l->sink; }

uint64_t es_live_next_seq(es_live *l) {
  pthread_mutex_lock(&l->lock);
  uint64_t s = l->next_seq;
  pthread_mutex_unlock(&l->lock);
  return s;
}

bool es_live_events(es_live *l, uint64_t *seq, es_buf *out, size_t max_bytes) {
  pthread_mutex_lock(&l->lock);
  bool ok = *seq >= l->first_seq;
  if (ok) {
    size_t start = out->len;
    while (*seq < l->next_seq) {
      const sse_ev *e = &l->ev[*seq % SSE_EVENTS];
      if (out->len > start && out->len - start + e->len > max_bytes) break;
      es_buf_put(out, e->text, e->len);
      ++*seq;
    }
  }
  pthread_mutex_unlock(&l->lock);
  return ok;
}

static void key_time(es_buf *b, const char *key, int64_t ms) {
  char t[32];
  es_time_format_rfc3339(ms, t);
  es_buf_printf(b, "\"%s\":\"%s\"", key, t);
}

static void num(es_buf *b, double v) {
  if (isfinite(v)) es_buf_printf(b, "%.6g", v);
  else es_buf_puts(b, "null");
}

void es_live_status_json(es_live *l, es_buf *out, const char *version, const char *config_json) {
  pthread_mutex_lock(&l->lock);
  const es_sink_status *s = &l->st;
  es_buf_printf(out, "{\"version\":\"%s\",", version);
  if (!l->have_status) {
    es_buf_printf(out, "\"state\":\"starting\",\"config\":%s}", config_json ? config_json : "null");
    pthread_mutex_unlock(&l->lock);
    return;
  }
  es_buf_printf(out, "\"state\":\"%s\",\"uptime_seconds\":%.1f,", s->finished ? "finished" : "running",
                (double)(s->now_ms - s->started_ms) / 1000.0);
  key_time(out, "started", s->started_ms);
  es_buf_puts(out, ",\"input\":");
  es_buf_json_str(out, s->input ? s->input : "", strlen(s->input ? s->input : ""));
  es_buf_printf(out, ",\"ready\":%s,\"not_ready\":", s->ready ? "true" : "false");
  if (s->ready) es_buf_puts(out, "null");
  else es_buf_json_str(out, s->not_ready, strlen(s->not_ready));
  es_buf_puts(out, ",");
  if (s->watermark == INT64_MIN) es_buf_puts(out, "\"watermark\":null");
  else key_time(out, "watermark", s->watermark);
  es_buf_printf(out, ",\"queries\":%llu,\"mentions\":{\"read\":%llu,\"accepted\":%llu,\"matched\":%llu},"
                     "\"windows\":%llu,\"alerts\":{\"opened\":%llu,\"resolved\":%llu,\"open\":%llu},\"partitions\":[",
                (unsigned long long)s->queries, (unsigned long long)s->lines, (unsigned long long)s->accepted,
                (unsigned long long)s->matched, (unsigned long long)s->windows, (unsigned long long)s->alerts_opened,
                (unsigned long long)s->alerts_resolved, (unsigned long long)l->open_alerts);
  for (int i = 0; i < s->nparts; i++) {
    const es_part_status *p = &s->parts[i];
    if (i) es_buf_putc(out, ',');
    es_buf_puts(out, "{\"topic\":");
    es_buf_json_str(out, p->topic, strlen(p->topic));
    es_buf_printf(out, ",\"partition\":%d,\"position\":%lld,\"committed\":%lld,\"end\":%lld,\"lag\":%lld}",
                  (int)p->partition, (long long)p->position, (long long)p->committed, (long long)p->end,
                  (long long)p->lag);
  }
  es_buf_printf(out, "],\"config\":%s}", config_json ? config_json : "null");
  pthread_mutex_unlock(&l->lock);
}

void es_live_queries_json(es_live *l, es_buf *out) {
  pthread_mutex_lock(&l->lock);
  es_buf_putc(out, '[');
  for (size_t i = 0; i < l->nq; i++) {
    const qlive *q = &l->q[i];
    if (i) es_buf_putc(out, ',');
    es_buf_puts(out, "{\"id\":");
    es_buf_json_str(out, q->id, strlen(q->id));
    es_buf_puts(out, ",\"name\":");
    es_buf_json_str(out, q->name, strlen(q->name));
    es_buf_puts(out, ",\"latest\":");
    es_buf_puts(out, q->latest ? q->latest : "null");
    es_buf_puts(out, ",\"open_alerts\":[");
    bool first = true;
    for (int s = 0; s < ES_MAX_WINDOW_SIZES; s++) {
      if (!q->open[s]) continue;
      if (!first) es_buf_putc(out, ',');
      es_buf_puts(out, q->open[s]);
      first = false;
    }
    es_buf_puts(out, "]}");
  }
  es_buf_putc(out, ']');
  pthread_mutex_unlock(&l->lock);
}

bool es_live_windows_json(es_live *l, const char *id, int64_t size_ms, int64_t since_ms, es_buf *out) {
  pthread_mutex_lock(&l->lock);
  const qlive *q = find(l, id);
  if (!q) {
    pthread_mutex_unlock(&l->lock);
    return false;
  }
  int si = -1;
  for (int s = 0; s < ES_MAX_WINDOW_SIZES && si < 0; s++)
    if (q->ring[s] && (size_ms <= 0 || q->size_ms[s] == size_ms)) si = s;
  es_buf_puts(out, "{\"query\":");
  es_buf_json_str(out, q->id, strlen(q->id));
  es_buf_printf(out, ",\"window_seconds\":%lld,\"windows\":[", si >= 0 ? (long long)(q->size_ms[si] / 1000) : 0LL);
  bool first = true;
  for (int k = 0; si >= 0 && k < q->n[si]; k++) {
    const wsum *w = &q->ring[si][(q->head[si] + k) % l->history];
    if (w->start_ms < since_ms) continue;
    if (!first) es_buf_putc(out, ',');
    first = false;
    es_buf_putc(out, '{');
    key_time(out, "window_start", w->start_ms);
    es_buf_printf(out, ",\"count\":%llu,\"negative\":%llu,\"expected\":", (unsigned long long)w->count,
                  (unsigned long long)w->negative);
    num(out, w->expected);
    es_buf_puts(out, ",\"lift\":");
    num(out, w->lift);
    es_buf_puts(out, ",\"p_value\":");
    num(out, w->p_value);
    es_buf_puts(out, ",\"sentiment_mean\":");
    num(out, w->sentiment);
    es_buf_printf(out, ",\"class\":\"%s\",\"alert_state\":", es_class_name(w->cls));
    if (w->alert_state == ES_ALERT_NONE) es_buf_puts(out, "null}");
    else es_buf_printf(out, "\"%s\"}", es_alert_state_name(w->alert_state));
  }
  es_buf_puts(out, "]}");
  pthread_mutex_unlock(&l->lock);
  return true;
}

void es_live_alerts_json(es_live *l, bool open_only, es_buf *out) {
  pthread_mutex_lock(&l->lock);
  es_buf_putc(out, '[');
  bool first = true;
  if (open_only) {
    for (size_t i = 0; i < l->nq; i++)
      for (int s = 0; s < ES_MAX_WINDOW_SIZES; s++) {
        if (!l->q[i].open[s]) continue;
        if (!first) es_buf_putc(out, ',');
        es_buf_puts(out, l->q[i].open[s]);
        first = false;
      }
  } else { /* newest first */
    uint64_t n = l->nalerts < LIVE_ALERTS ? l->nalerts : LIVE_ALERTS;
    for (uint64_t k = 0; k < n; k++) {
      const char *a = l->alerts[(l->nalerts - 1 - k) % LIVE_ALERTS];
      if (!a) continue;
      if (!first) es_buf_putc(out, ',');
      es_buf_puts(out, a);
      first = false;
    }
  }
  es_buf_putc(out, ']');
  pthread_mutex_unlock(&l->lock);
}

void es_live_triage_json(es_live *l, es_buf *out) {
  pthread_mutex_lock(&l->lock);
  es_buf_puts(out, "{\"tracks\":[");
  for (size_t i = 0; i < l->ntr; i++) {
    const tlive *t = &l->tr[i];
    if (i) es_buf_putc(out, ',');
    es_buf_puts(out, "{\"track\":");
    es_buf_json_str(out, t->track, strlen(t->track));
    es_buf_printf(out, ",\"records\":%llu,\"sla_events\":%llu,\"sla_breach_open\":%s,\"recent\":[",
                  (unsigned long long)t->records, (unsigned long long)t->sla_events, t->breach_open ? "true" : "false");
    uint64_t n = t->records < LIVE_TRIAGE ? t->records : LIVE_TRIAGE;
    for (uint64_t k = 0; k < n; k++) { /* newest first */
      if (k) es_buf_putc(out, ',');
      es_buf_puts(out, t->recent[(t->records - 1 - k) % LIVE_TRIAGE]);
    }
    es_buf_puts(out, "]}");
  }
  es_buf_puts(out, "],\"sla_events\":[");
  uint64_t n = l->nsla < LIVE_ALERTS ? l->nsla : LIVE_ALERTS;
  bool first = true;
  for (uint64_t k = 0; k < n; k++) {
    const char *e = l->sla[(l->nsla - 1 - k) % LIVE_ALERTS];
    if (!e) continue;
    if (!first) es_buf_putc(out, ',');
    es_buf_puts(out, e);
    first = false;
  }
  es_buf_puts(out, "]}");
  pthread_mutex_unlock(&l->lock);
}

bool es_live_healthy(es_live *l, int64_t max_age_ms, int64_t max_stall_ms, es_buf *out) {
  pthread_mutex_lock(&l->lock);
  bool ok = true;
  if (!l->have_status) {
    es_buf_puts(out, "{\"status\":\"starting\"}");
  } else if (l->st.finished) {
    es_buf_puts(out, "{\"status\":\"finished\"}");
  } else {
    int64_t age = es_time_mono_ms() - l->status_mono_ms;
    if (age > max_age_ms) {
      ok = false;
      es_buf_printf(out, "{\"status\":\"stalled\",\"reason\":\"the aggregator has not reported for %lld ms\"}",
                    (long long)age);
    } else if (l->st.stalled_ms > max_stall_ms) {
      ok = false;
      es_buf_printf(out, "{\"status\":\"stalled\",\"reason\":\"a worker has been on one batch for %lld ms\"}",
                    (long long)l->st.stalled_ms);
    } else {
      es_buf_puts(out, "{\"status\":\"ok\"}");
    }
  }
  pthread_mutex_unlock(&l->lock);
  return ok;
}

bool es_live_ready(es_live *l, es_buf *out) {
  pthread_mutex_lock(&l->lock);
  bool ok = l->have_status && l->st.ready && !l->st.finished;
  if (ok) {
    es_buf_puts(out, "{\"ready\":true}");
  } else {
    const char *why = !l->have_status ? "starting: the pipeline has not started yet"
                      : l->st.finished ? "the run is over"
                                       : l->st.not_ready;
    es_buf_puts(out, "{\"ready\":false,\"reason\":");
    es_buf_json_str(out, why, strlen(why));
    es_buf_putc(out, '}');
  }
  pthread_mutex_unlock(&l->lock);
  return ok;
}

/* ---- Prometheus text ------------------------------------------------ */

static void metric(es_buf *b, const char *name, const char *type, const char *help) {
  es_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A metric with one sample (counts below 10^15 print exactly). */
static void one(es_buf *b, const char *name, const char *type, const char *help, double v) {
  metric(b, name, type, help);
  es_buf_printf(b, "%s %.15g\n", name, v);
}

static void hist(es_buf *b, const char *name, const char *label, const es_hist *h) {
  uint64_t cum = 0;
  for (int i = 0; i < ES_HIST_BUCKETS; i++) {
    cum += h->bucket[i];
    if (i < ES_HIST_BUCKETS - 1) es_buf_printf(b, "%s_bucket{%s,le=\"%g\"} %llu\n", name, label, es_hist_bounds[i],
                                               (unsigned long long)cum);
    else es_buf_printf(b, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, label, (unsigned long long)cum);
  }
  es_buf_printf(b, "%s_sum{%s} %.9g\n%s_count{%s} %llu\n", name, label, h->sum, name, label,
                (unsigned long long)h->count);
}

void es_live_metrics(es_live *l, const es_http_counters *hc, const char *version, es_buf *b) {
  pthread_mutex_lock(&l->lock);
  const es_sink_status *s = &l->st;
  metric(b, "earshot_build_info", "gauge", "The running version (always 1).");
  es_buf_printf(b, "earshot_build_info{version=\"%s\"} 1\n", version);
  one(b, "earshot_up", "gauge", "1 while the pipeline runs and has reported within the last seconds.",
      (double)(l->have_status && !s->finished ? 1 : 0));
  one(b, "earshot_ready", "gauge", "1 when the input can deliver (Kafka: group joined, partitions assigned).",
      (double)(l->have_status && s->ready && !s->finished ? 1 : 0));
  one(b, "earshot_start_time_seconds", "gauge", "When the run started, in seconds since the epoch.",
      (double)s->started_ms / 1000.0);
  one(b, "earshot_mentions_read_total", "counter", "Input records read (non-blank lines or Kafka records).",
      (double)(s->lines));
  one(b, "earshot_mentions_accepted_total", "counter", "Mentions decoded (repaired ones included).",
      (double)(s->accepted));
  one(b, "earshot_mentions_matched_total", "counter", "Mentions that matched at least one query.",
      (double)(s->matched));
  one(b, "earshot_query_matches_total", "counter", "(mention, query) matches.", (double)(s->hits));
  metric(b, "earshot_dead_letters_total", "counter", "Records sent to the dead-letter output, by reason.");
  for (int r = 1; r < ES_REASON_COUNT; r++)
    es_buf_printf(b, "earshot_dead_letters_total{reason=\"%s\"} %llu\n", es_reason_name(r),
                  (unsigned long long)s->reasons[r]);
  metric(b, "earshot_windows_total", "counter", "Closed windows, by class.");
  for (int c = 0; c < ES_CLASS_COUNT; c++)
    es_buf_printf(b, "earshot_windows_total{class=\"%s\"} %llu\n", es_class_name(c), (unsigned long long)s->classes[c]);
  one(b, "earshot_early_updates_total", "counter", "Early records of open windows.", (double)(s->early_updates));
  metric(b, "earshot_alerts_opened_total", "counter", "Alerts opened, by the class of the window that opened them.");
  metric(b, "earshot_alerts_resolved_total", "counter", "Alerts resolved, by the class that opened them.");
  for (int c = 0; c < ES_CLASS_COUNT; c++) {
    if (!es_detect_alerting(c) && c != ES_CLASS_THRESHOLD) continue;
    es_buf_printf(b, "earshot_alerts_opened_total{class=\"%s\"} %llu\n", es_class_name(c),
                  (unsigned long long)l->opened[c]);
    es_buf_printf(b, "earshot_alerts_resolved_total{class=\"%s\"} %llu\n", es_class_name(c),
                  (unsigned long long)l->resolved[c]);
  }
  one(b, "earshot_alerts_open", "gauge", "Alerts open now.", (double)(l->open_alerts));
  metric(b, "earshot_stage_seconds", "histogram",
         "Time per mention in decode, match and score (one mention in 64 timed), and per batch in aggregate.");
  for (int g = 0; g < ES_STAGE_COUNT; g++) {
    char label[32];
    snprintf(label, sizeof label, "stage=\"%s\"", es_stage_name(g));
    hist(b, "earshot_stage_seconds", label, &s->stage[g]);
  }
  one(b, "earshot_batches", "gauge", "Batches in the pipeline's pool.", (double)(s->batches));
  one(b, "earshot_batches_busy", "gauge", "Batches in flight (being filled, matched or aggregated).",
      (double)(s->batches_busy));
  one(b, "earshot_input_pauses_total", "counter", "Times the input was paused because no batch was free.",
      (double)(s->input_pauses));
  one(b, "earshot_watermark_seconds", "gauge", "Event time up to which windows are closed.",
      s->watermark == INT64_MIN ? 0 : (double)s->watermark / 1000.0);
  one(b, "earshot_queries", "gauge", "Queries in the live query set.", (double)(s->queries));
  one(b, "earshot_query_set_version", "gauge", "Query sets adopted since start (0: the first).",
      (double)(s->query_sets_adopted));
  metric(b, "earshot_query_reloads_total", "counter", "Query file reloads, by result.");
  es_buf_printf(b, "earshot_query_reloads_total{result=\"success\"} %llu\n", (unsigned long long)s->query_reloads);
  es_buf_printf(b, "earshot_query_reloads_total{result=\"failure\"} %llu\n",
                (unsigned long long)s->query_reload_failures);
  metric(b, "earshot_triage_reloads_total", "counter", "Triage file reloads, by result.");
  es_buf_printf(b, "earshot_triage_reloads_total{result=\"success\"} %llu\n", (unsigned long long)s->triage_reloads);
  es_buf_printf(b, "earshot_triage_reloads_total{result=\"failure\"} %llu\n",
                (unsigned long long)s->triage_reload_failures);
  one(b, "earshot_kafka_produced_total", "counter", "Records handed to the Kafka producer.", (double)(s->produced));
  one(b, "earshot_kafka_delivered_total", "counter", "Records the brokers acknowledged.", (double)(s->delivered));
  one(b, "earshot_kafka_produce_errors_total", "counter", "Records the producer failed to deliver.",
      (double)(s->produce_errors));
  if (s->nparts) {
    metric(b, "earshot_kafka_consumer_lag", "gauge", "Records behind the partition's end (librdkafka statistics).");
    for (int i = 0; i < s->nparts; i++) {
      if (s->parts[i].lag < 0) continue;
      es_buf_puts(b, "earshot_kafka_consumer_lag{topic=\"");
      for (const char *c = s->parts[i].topic; *c; c++) { /* topic names are [a-zA-Z0-9._-]: nothing to escape */
        if (*c == '"' || *c == '\\' || *c == '\n') continue;
        es_buf_putc(b, *c);
      }
      es_buf_printf(b, "\",partition=\"%d\"} %lld\n", (int)s->parts[i].partition, (long long)s->parts[i].lag);
    }
  }
  if (l->ntr) { /* label values escaped as the text format wants */
    metric(b, "earshot_triage_records_total", "counter", "Triage records, by track (ignore, unrouted: no track).");
    for (int pass = 0; pass < 2; pass++) {
      if (pass) metric(b, "earshot_sla_breach_open", "gauge", "1 while a track's time-to-respond breach is open.");
      for (size_t i = 0; i < l->ntr; i++) {
        es_buf_puts(b, pass ? "earshot_sla_breach_open{track=\"" : "earshot_triage_records_total{track=\"");
        for (const char *c = l->tr[i].track; *c; c++) {
          if (*c == '"' || *c == '\\') es_buf_putc(b, '\\');
          if (*c == '\n') es_buf_puts(b, "\\n");
          else es_buf_putc(b, *c);
        }
        if (pass) es_buf_printf(b, "\"} %d\n", l->tr[i].breach_open ? 1 : 0);
        else es_buf_printf(b, "\"} %llu\n", (unsigned long long)l->tr[i].records);
      }
    }
  }
  pthread_mutex_unlock(&l->lock);
  metric(b, "earshot_http_requests_total", "counter", "HTTP requests answered, by status class.");
  static const char *const cls[] = {"2xx", "3xx", "4xx", "5xx"};
  for (int i = 0; i < 4; i++)
    es_buf_printf(b, "earshot_http_requests_total{code=\"%s\"} %llu\n", cls[i], (unsigned long long)hc->requests[i]);
  metric(b, "earshot_http_rejected_total", "counter", "Requests refused by a limit, by reason.");
  static const char *const why[] = {"header_timeout", "body_too_large", "headers_too_large", "connection_cap"};
  for (int i = 0; i < 4; i++)
    es_buf_printf(b, "earshot_http_rejected_total{reason=\"%s\"} %llu\n", why[i], (unsigned long long)hc->rejected[i]);
  metric(b, "earshot_sse_clients", "gauge", "Event-stream clients connected.");
  es_buf_printf(b, "earshot_sse_clients %llu\n", (unsigned long long)hc->sse_clients);
  metric(b, "earshot_sse_dropped_total", "counter", "Event-stream clients dropped for falling behind.");
  es_buf_printf(b, "earshot_sse_dropped_total %llu\n", (unsigned long long)hc->sse_dropped);
}
