/* The aggregator: consumes worker results strictly in input order (batch k
 * from worker k mod N), feeds windows, classifies closed windows, writes
 * window records, dead letters and enriched mentions, recycles batches and
 * draws the progress bar. Runs on the thread that called es_replay; the
 * per-mention work here is a few counter updates per matched query. */
#include <errno.h>
#include <signal.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "earshot/log.h"
#include "earshot/output.h"
#include "earshot/timeutil.h"
#include "pipeline_internal.h"

/* Every sink that takes `what` gets flushed. */
static void flush_sinks(es_pipe *p, unsigned what) {
  for (size_t i = 0; i < p->nsinks; i++)
    if (p->sinks[i]->wants & what) p->sinks[i]->ops->flush(p->sinks[i]);
}

static void dead_letter(es_pipe *p, const es_batch *b, uint32_t rec, int reason, const char *detail, const char *json,
                        size_t json_len) {
  es_sink_dead e = {.reason = reason, .detail = detail, .src = es__record_src(p, b, rec), .input = b->data + b->off[rec],
                    .input_len = b->len_[rec], .json = json, .json_len = json_len};
  for (size_t i = 0; i < p->nsinks; i++)
    if (p->sinks[i]->wants & ES_SINK_DEAD) p->sinks[i]->ops->dead(p->sinks[i], &e);
}

static void crisis_transition(es_pipe *p, uint32_t q, int s, int64_t end, bool open);

/* Window sink of the windows: classify, count, hand to the sinks. */
void es__pipe_window_sink(void *ctx, const es_window_result *w) {
  es_pipe *p = ctx;
  const es_query *q = es_queryset_get(p->qs, w->query);
  size_t si = (size_t)w->query * (size_t)p->cfg->windows.nsizes + (size_t)w->size_idx;
  if (p->sup_win && w->end_ms <= p->sup_win[si]) {
    /* Exactly-once: an earlier run published this window (and the detector
     * state after it, restored in p->det). */
    p->suppressed++;
    return;
  }
  es_detect_state *st = &p->det[si];
  es_detect_result d;
  /* Detection sees the effective volume: copies of one text (retweets,
   * copy-paste, bot swarms) count once; negatives in proportion. */
  uint64_t neg_eff = w->count ? (uint64_t)llround((double)w->negative * (double)w->effective / (double)w->count) : 0;
  uint64_t top2 = 0; /* the two most active authors' mentions (Space-Saving counts: upper bounds) */
  for (int i = 0; i < w->ntop && i < 2; i++) top2 += w->top[i].count;
  if (top2 > w->count) top2 = w->count;
  /* Mentions without an author are nobody's: for the noise rules each counts
   * as its own author (nothing says they are one account), so a stream
   * that carries no authors is judged by its volume alone. */
  es_detect_obs obs = {.index = w->index, .size_ms = w->size_ms, .count = w->effective, .negative = neg_eff,
                       .authors = w->unique_authors + w->anonymous, .top2 = top2, .negative_at_least = q->negative_at_least,
                       .count_at_least = q->count_at_least};
  bool was_open = st->alert_open;
  es_detect_window(&p->cfg->detect, st, &obs, &d);
  if (p->triage && st->alert_open != was_open) crisis_transition(p, w->query, w->size_idx, w->end_ms, st->alert_open);
  /* An open alert needs its quiet windows, empty or not, to resolve. */
  es_windows_watch(p->win, w->query, w->size_idx, st->alert_open);
  es_window_result fin = *w;
  fin.final = !p->stopped_early;
  if (p->triage) fin.situation_names = p->sitnames, fin.track_names = p->trknames;
  /* The next windows count their terms past the volume that could make
   * them a spike, or all of them while an alert is open. */
  uint64_t after = UINT64_MAX;
  if (st->alert_open) after = 0;
  else if (d.expected == d.expected) after = (uint64_t)fmax((double)p->cfg->detect.min_support, p->cfg->detect.min_lift * d.expected);
  es_windows_terms_after(p->win, w->query, w->size_idx, after);
  p->st->windows++;
  p->st->classes[d.cls]++;
  p->st->thresholds += d.threshold_breached;
  p->st->alerts_opened += d.alert_state == ES_ALERT_OPENED;
  p->st->alerts_resolved += d.alert_state == ES_ALERT_RESOLVED;
  es_buf_clear(&p->wbuf);
  es_sink_window e = {.q = q, .w = &fin, .d = &d, .st = st,
                      .alert_published = p->sup_alert && w->end_ms <= p->sup_alert[si], .json = &p->wbuf};
  for (size_t i = 0; i < p->nsinks; i++)
    if (p->sinks[i]->wants & ES_SINK_WINDOWS) p->sinks[i]->ops->window(p->sinks[i], &e);
}

/* ---- triage ----
 * A matched mention's route is decided once the watermark has passed its
 * event time: every window that ended by then is closed, so whether a
 * crisis query's alert was open at that event time is known, and decisions
 * are taken in event-time order (overflow counts per event-time hour).
 * The result does not depend on how the input was batched or, for Kafka,
 * when partitions were read: the same input gives the same records. The
 * price is the allowed lateness: a record waits for it (10 s by default). */

typedef struct es_pend {
  int64_t ts;
  uint64_t seq;          /* input order, for equal event times */
  es_triage_pre pre;
  uint32_t off, len;     /* the record's prefix in pbuf; len 0: no record */
  uint32_t why_off, why_len;
  uint32_t id_off, id_len; /* the mention's id (a response: the id it answers) in pbuf */
  uint32_t q_off, nq;      /* its queries (uint32_t each) in pbuf: its windows count its track */
  bool response;
} es_pend;

#define ES_CRISIS_HIST 32
typedef struct es_crisis_hist {
  int64_t at[ES_CRISIS_HIST]; /* window end when the alert opened or resolved */
  bool open[ES_CRISIS_HIST];
  uint32_t n;                 /* transitions recorded (the last ES_CRISIS_HIST kept) */
  bool before;                /* the state before the first one kept */
} es_crisis_hist;

size_t es__crisis_hist_size(void) { return sizeof(es_crisis_hist); }

static es_crisis_hist *chist_of(es_pipe *p, size_t k, int s) {
  return &p->chist[k * (size_t)p->cfg->windows.nsizes + (size_t)s];
}

/* A crisis query's alert changed when window (q, s) ending at `end` closed. */
static void crisis_transition(es_pipe *p, uint32_t q, int s, int64_t end, bool open) {
  for (size_t k = 0; k < es_triage_crisis_count(p->triage); k++) {
    if (es_triage_bound_crisis_query(p->tbound, k) != (int64_t)q) continue;
    es_crisis_hist *h = chist_of(p, k, s);
    if (h->n >= ES_CRISIS_HIST) h->before = h->open[h->n % ES_CRISIS_HIST];
    else if (!h->n) h->before = !open;
    h->at[h->n % ES_CRISIS_HIST] = end;
    h->open[h->n % ES_CRISIS_HIST] = open;
    h->n++;
  }
}

typedef struct crisis_ctx {
  es_pipe *p;
  int64_t ts;
} crisis_ctx;

/* Whether crisis override k's query had an open alert (any window size) at
 * event time ts: the last transition at or before ts; before any, the state
 * the detector had (restored from an earlier run, or closed). */
static bool crisis_open(void *ctx, size_t k) {
  crisis_ctx *c = ctx;
  es_pipe *p = c->p;
  int64_t q = es_triage_bound_crisis_query(p->tbound, k);
  int ns = p->cfg->windows.nsizes;
  for (int s = 0; s < ns; s++) {
    const es_crisis_hist *h = chist_of(p, k, s);
    bool open;
    if (!h->n) open = q >= 0 && p->det[(size_t)q * (size_t)ns + (size_t)s].alert_open;
    else {
      uint32_t first = h->n > ES_CRISIS_HIST ? h->n - ES_CRISIS_HIST : 0;
      open = h->before;
      for (uint32_t i = first; i < h->n && h->at[i % ES_CRISIS_HIST] <= c->ts; i++) open = h->open[i % ES_CRISIS_HIST];
    }
    if (open) return true;
  }
  return false;
}

static bool pend_less(const es_pend *a, const es_pend *b) { return a->ts < b->ts || (a->ts == b->ts && a->seq < b->seq); }

static int pend_push(es_pipe *p, const es_pend *e) {
  if (p->npend == p->cappend) {
    size_t cap = p->cappend ? p->cappend * 2 : 1024;
    es_pend *n = es_realloc(p->pend, cap * sizeof *n);
    if (!n) return ES_ENOMEM;
    p->pend = n;
    p->cappend = cap;
  }
  size_t i = p->npend++;
  while (i && pend_less(e, &p->pend[(i - 1) / 2])) {
    p->pend[i] = p->pend[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  p->pend[i] = *e;
  return 0;
}

static void pend_pop(es_pipe *p) {
  es_pend last = p->pend[--p->npend];
  size_t i = 0, n = p->npend;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && pend_less(&p->pend[c + 1], &p->pend[c])) c++;
    if (!pend_less(&p->pend[c], &last)) break;
    p->pend[i] = p->pend[c];
    i = c;
  }
  if (n) p->pend[i] = last;
}

/* The pending records' bytes, when most of pbuf is records already
 * written: copied down to the live ones. */
static void pend_compact(es_pipe *p) {
  if (!p->npend) {
    es_buf_clear(&p->pbuf);
    return;
  }
  size_t live = 0;
  for (size_t i = 0; i < p->npend; i++)
    live += p->pend[i].len + p->pend[i].why_len + p->pend[i].id_len + p->pend[i].nq * sizeof(uint32_t);
  if (p->pbuf.len < (64u << 20) || live * 2 > p->pbuf.len) return;
  es_buf nb;
  es_buf_init(&nb);
  if (!es_buf_reserve(&nb, live)) return; /* out of memory: keep the old buffer */
  for (size_t i = 0; i < p->npend; i++) {
    es_pend *e = &p->pend[i];
    uint32_t off = (uint32_t)nb.len;
    es_buf_put(&nb, p->pbuf.data + e->off, e->len);
    uint32_t woff = (uint32_t)nb.len;
    es_buf_put(&nb, p->pbuf.data + e->why_off, e->why_len);
    uint32_t ioff = (uint32_t)nb.len;
    es_buf_put(&nb, p->pbuf.data + e->id_off, e->id_len);
    uint32_t qoff = (uint32_t)nb.len;
    es_buf_put(&nb, p->pbuf.data + e->q_off, e->nq * sizeof(uint32_t));
    e->off = off;
    e->why_off = woff;
    e->id_off = ioff;
    e->q_off = qoff;
  }
  es_buf_free(&p->pbuf);
  p->pbuf = nb;
}

/* Decides and writes one pending record. */
static void triage_decide(es_pipe *p, const es_pend *e) {
  if (e->response) {
    es_triage_response(p->tstate, p->pbuf.data + e->id_off, e->id_len, e->ts);
    return;
  }
  es_triage_out o;
  crisis_ctx cc = {p, e->ts};
  es_triage_decide(p->triage, p->tstate, &e->pre, e->ts, crisis_open, &cc, &o);
  if (o.action == ES_TRIAGE_ROUTE) {
    es_triage_await(p->tstate, p->pbuf.data + e->id_off, e->id_len, &o, e->ts);
    for (uint32_t k = 0; k < e->nq; k++) { /* its windows still open count its track */
      uint32_t q;
      memcpy(&q, p->pbuf.data + e->q_off + k * sizeof q, sizeof q);
      if (q != UINT32_MAX) es_windows_count_track(p->win, q, e->ts, o.track);
    }
  }
  if (!e->len) return;
  es_buf_clear(&p->tbuf);
  es_buf_put(&p->tbuf, p->pbuf.data + e->off, e->len);
  char why[256];
  if (o.via == ES_VIA_CRISIS) {
    int64_t q = es_triage_bound_crisis_query(p->tbound, (size_t)o.rule);
    snprintf(why, sizeof why, "query %s had an open alert", q >= 0 ? es_queryset_get(p->qs, (size_t)q)->id : "?");
  } else snprintf(why, sizeof why, "%.*s", (int)e->why_len, p->pbuf.data + e->why_off);
  es_triage_route_json(&p->tbuf, p->triage, &o, why);
  es_buf_put(&p->tbuf, "}\n", 2);
  const char *key = o.action == ES_TRIAGE_ROUTE ? es_triage_track_name(p->triage, (size_t)o.track)
                    : o.action == ES_TRIAGE_IGNORE ? "ignore" : "unrouted";
  for (size_t k = 0; k < p->nsinks; k++)
    if (p->sinks[k]->wants & ES_SINK_TRIAGE)
      p->sinks[k]->ops->triage(p->sinks[k], key, strlen(key), p->tbuf.data, p->tbuf.len);
}

/* A track's time-to-respond alert event, to the sinks that take them. */
static void sla_event(void *ctx, const es_sla_event *e) {
  es_pipe *p = ctx;
  if (e->state == ES_SLA_MET) return; /* an hour within the SLA, no breach open: nothing to say */
  es_buf_clear(&p->tbuf);
  es_sla_event_json(&p->tbuf, e);
  p->sla_events++;
  for (size_t k = 0; k < p->nsinks; k++)
    if (p->sinks[k]->wants & ES_SINK_SLA)
      p->sinks[k]->ops->sla(p->sinks[k], e->track, strlen(e->track), p->tbuf.data, p->tbuf.len);
}

/* Decides the pending records with event times up to `last`, in order. */
static void decide_through(es_pipe *p, int64_t last) {
  while (p->npend && p->pend[0].ts <= last) {
    es_pend e = p->pend[0];
    pend_pop(p);
    triage_decide(p, &e);
  }
}

/* Windows ending at `end` are about to close: the mentions before it are
 * decided first (the watermark has passed them), so that their windows
 * count the tracks they were routed to. */
void es__triage_before_close(void *ctx, int64_t end) { decide_through(ctx, end - 1); }

/* A query reload renumbered the queries: the pending mentions' queries
 * follow (new_of_old[q], -1 removed). */
void es__triage_remap_queries(es_pipe *p, const int64_t *new_of_old, size_t old_nq) {
  for (size_t i = 0; i < p->npend; i++)
    for (uint32_t k = 0; k < p->pend[i].nq; k++) {
      char *at = p->pbuf.data + p->pend[i].q_off + k * sizeof(uint32_t);
      uint32_t q;
      memcpy(&q, at, sizeof q);
      q = q < old_nq && new_of_old[q] >= 0 ? (uint32_t)new_of_old[q] : UINT32_MAX;
      memcpy(at, &q, sizeof q);
    }
}

static void destroy_triage(void *x) { es_triage_destroy(x); }

/* A batch read under a reloaded triage file: the records pending are
 * decided under the old one, then tracks keep their counts and awaited
 * answers by name, crisis overrides their alert history by query, open
 * windows their situation and track counts by name. 0 or ES_ENOMEM
 * (nothing adopted). */
int es__reload_adopt_triage(es_pipe *p, const es_triage *next) {
  const es_triage *prev = p->triage;
  size_t ns = (size_t)p->cfg->windows.nsizes, nc = es_triage_crisis_count(next);
  es_crisis_hist *ch = es_calloc(nc * ns + 1, sizeof *ch);
  es_triage_bound *tb = es_triage_bind(next, p->qs);
  if (!ch || !tb) {
    es_free(ch);
    es_triage_unbind(tb);
    return ES_ENOMEM;
  }
  /* every pending record is decided now, under the file it was read with
   * (its crisis state and hour counts are those known now, not at its event time) */
  decide_through(p, INT64_MAX);
  pend_compact(p);
  for (size_t k = 0; k < nc; k++)
    for (size_t j = 0; j < es_triage_crisis_count(prev); j++)
      if (!strcmp(es_triage_crisis_query(next, k), es_triage_crisis_query(prev, j)))
        memcpy(&ch[k * ns], &p->chist[j * ns], ns * sizeof *ch);
  es_free(p->chist);
  p->chist = ch;
  es_triage_unbind(p->tbound);
  p->tbound = tb;
  es_triage_state_retrack(p->tstate, prev, next);
  const es_situations *so = es_triage_situations(prev), *sn = es_triage_situations(next);
  int8_t new_of_old[32];
  bool same = es_situations_count(so) == es_situations_count(sn);
  for (size_t i = 0; i < 32; i++) new_of_old[i] = -1;
  for (size_t i = 0; i < es_situations_count(so); i++) {
    const char *name = es_situation_name(so, i);
    int j = es_situation_find(sn, name, strlen(name));
    new_of_old[i] = (int8_t)j;
    same &= j == (int)i;
  }
  int8_t trk_new_of_old[32];
  for (size_t i = 0; i < 32; i++) trk_new_of_old[i] = -1;
  for (size_t i = 0; i < es_triage_track_count(prev); i++)
    for (size_t j = 0; j < es_triage_track_count(next); j++)
      if (!strcmp(es_triage_track_name(prev, i), es_triage_track_name(next, j))) trk_new_of_old[i] = (int8_t)j;
  for (size_t i = 0; i < es_triage_track_count(prev); i++) same &= trk_new_of_old[i] == (int)i;
  if (!same) es_windows_remap_triage(p->win, new_of_old, trk_new_of_old);
  memset(p->sitnames, 0, sizeof p->sitnames);
  for (size_t k = 0; k < es_situations_count(sn); k++) p->sitnames[k] = es_situation_name(sn, k);
  memset(p->trknames, 0, sizeof p->trknames);
  for (size_t k = 0; k < es_triage_track_count(next); k++) p->trknames[k] = es_triage_track_name(next, k);
  p->triage = next;
  /* Files published before `next` can no longer be referred to by a batch. */
  pthread_mutex_lock(&p->qs_lock);
  es__owned_forget_before(&p->tr_owned, next, destroy_triage);
  pthread_mutex_unlock(&p->qs_lock);
  p->tr_adopted++;
  es_log_info("triage file adopted", "tracks=%zu adopted=%llu", es_triage_track_count(next),
              (unsigned long long)p->tr_adopted);
  return 0;
}

/* Every pending record whose event time the watermark has passed (all of
 * them at the end of the input), then the respond-bys and hours of time to
 * respond the watermark has passed. */
static void triage_release(es_pipe *p, bool all) {
  if (!p->triage) return;
  int64_t wm = es_windows_watermark(p->win);
  decide_through(p, all ? INT64_MAX : wm);
  pend_compact(p);
  if (all && es_windows_max_event(p->win) != INT64_MIN) wm = es_windows_max_event(p->win);
  if (wm != INT64_MIN) es_triage_sla_advance(p->triage, p->tstate, wm, all, sla_event, p);
}

/* Matched mention i waits for the watermark (its record's prefix copied:
 * the batch goes back to the pool). */
static void triage(es_pipe *p, const es_batch *b, uint32_t i) {
  const es_line_res *r = &b->res[i];
  es_pend e = {.ts = r->ts_ms, .seq = p->pend_seq++, .pre = {.route = r->route, .crisis = r->crisis},
               .response = r->response != 0};
  if (r->id_len && p->pbuf.len + r->id_len < UINT32_MAX) {
    e.id_off = (uint32_t)p->pbuf.len;
    e.id_len = r->id_len;
    es_buf_put(&p->pbuf, r->id, r->id_len);
  }
  if (r->nhits && p->pbuf.len + r->nhits * sizeof(uint32_t) < UINT32_MAX) {
    e.q_off = (uint32_t)p->pbuf.len;
    e.nq = r->nhits;
    es_buf_put(&p->pbuf, b->hits + r->hit_off, r->nhits * sizeof(uint32_t));
  }
  if (r->tri) {
    const es_rec_meta *m = &b->trm[r->tri - 1];
    size_t wl = m->detail ? strlen(m->detail) : 0;
    if (p->pbuf.len + m->len + wl < UINT32_MAX) {
      e.off = (uint32_t)p->pbuf.len;
      e.len = m->len;
      es_buf_put(&p->pbuf, b->triage.data + m->off, m->len);
      e.why_off = (uint32_t)p->pbuf.len;
      e.why_len = (uint32_t)wl;
      es_buf_put(&p->pbuf, m->detail, wl);
    }
  }
  if (pend_push(p, &e)) triage_decide(p, &e); /* out of memory: decided now */
}

/* Early updates: the open windows that changed, without detection (it
 * runs when a window closes). */
static void early_sink(void *ctx, const es_window_result *w) {
  es_pipe *p = ctx;
  size_t si = (size_t)w->query * (size_t)p->cfg->windows.nsizes + (size_t)w->size_idx;
  if (p->sup_win && w->end_ms <= p->sup_win[si]) return; /* published by an earlier run */
  const es_query *q = es_queryset_get(p->qs, w->query);
  p->st->early_updates++;
  es_buf_clear(&p->wbuf);
  es_window_result ew = *w;
  if (p->triage) ew.situation_names = p->sitnames, ew.track_names = p->trknames;
  es_sink_window e = {.q = q, .w = &ew, .json = &p->wbuf};
  for (size_t i = 0; i < p->nsinks; i++)
    if (p->sinks[i]->wants & ES_SINK_EARLY) p->sinks[i]->ops->window(p->sinks[i], &e);
}

/* Every windows.early_ms of wall-clock time, the open windows that
 * changed since; written out at once. */
static void early_updates(es_pipe *p) {
  if (!p->cfg->windows.early_ms) return;
  int64_t now = es_time_mono_ms();
  if (now - p->early_mark_ms < p->cfg->windows.early_ms) return;
  p->early_mark_ms = now;
  if (!es_windows_early(p->win, early_sink, p)) return;
  flush_sinks(p, ES_SINK_EARLY);
}

/* The event time until which a mention's windows are all open: the end of
 * its window of the largest size. */
static int64_t done_mark(const es_pipe *p, int64_t ts) {
  int64_t mark = INT64_MIN;
  for (int i = 0; i < p->cfg->windows.nsizes; i++) {
    int64_t size = p->cfg->windows.size_ms[i];
    int64_t start = ts >= 0 ? ts / size * size : -((-ts + size - 1) / size) * size;
    if (start + size > mark) mark = start + size;
  }
  return mark;
}

/* Kafka: event time is the slowest active partition's (a watermark per
 * partition), advanced after each batch and while the input is quiet (a
 * partition that went idle stops holding it back). */
static void input_advance(es_pipe *p, int64_t now_wall) {
  if (!p->input) return;
  p->input->sync(p->input->ctx, now_wall);
  int64_t t = p->input->event_time(p->input->ctx, now_wall, p->cfg->windows.idle_flush_ms);
  if (t != INT64_MIN) es_windows_advance(p->win, t);
}

static void consume(es_pipe *p, es_batch *b) {
  int64_t now_wall = es_time_wall_ms();
  if (b->qs && b->qs != p->qs && es__reload_adopt(p, b->qs)) {
    /* its query indices are the new set's: it cannot be counted */
    if (!p->io_err) p->io_err = es_diag_set(p->diag, ES_ENOMEM, "out of memory adopting reloaded queries");
    *p->stop = SIGTERM;
    return;
  }
  if (b->tr && b->tr != p->triage && es__reload_adopt_triage(p, b->tr)) {
    if (!p->io_err) p->io_err = es_diag_set(p->diag, ES_ENOMEM, "out of memory adopting a reloaded triage file");
    *p->stop = SIGTERM;
    return;
  }
  if (p->input) p->input->sync(p->input->ctx, now_wall);
  if (b->restore_wm != INT64_MIN) {
    char t[32];
    es_time_format_rfc3339(b->restore_wm, t);
    es_log_info("resuming after the committed watermark", "watermark=%s", t);
    es_windows_restore(p->win, b->restore_wm);
  }
  for (uint32_t i = 0; i < b->ndlq; i++) {
    const es_rec_meta *m = &b->dlqm[i];
    dead_letter(p, b, m->rec, m->reason, m->detail, b->dlq.data + m->off, m->len);
  }
  for (uint32_t k = 0; k < b->nenr; k++) {
    const es_rec_meta *m = &b->enrm[k];
    for (size_t i = 0; i < p->nsinks; i++)
      if (p->sinks[i]->wants & ES_SINK_ENRICHED)
        p->sinks[i]->ops->enriched(p->sinks[i], m->key, m->key_len, b->enriched.data + m->off, m->len);
  }
  for (uint32_t i = 0; i < b->nlines; i++) {
    const es_line_res *r = &b->res[i];
    int64_t mark = INT64_MIN; /* rejected: done once its dead letter is delivered */
    if (!r->reason && !r->response) { /* (a response is not a mention: no windows) */
      es_window_obs o = {.ts_ms = r->ts_ms,
                         .author_hash = r->author_hash,
                         .author = r->author,
                         .author_len = r->author_len,
                         .followers = r->followers,
                         .compound = r->compound,
                         .label = r->label,
                         .content_hash = r->content_hash,
                         .simhash = r->simhash,
                         .id = r->id,
                         .id_len = r->id_len,
                         .terms = r->terms,
                         .terms_len = r->terms_len,
                         .situations = r->situations};
      unsigned late_mask = es_windows_observe(p->win, &o, b->hits + r->hit_off, r->nhits);
      /* Counted in the windows that were still open (if any): done when
       * they close. */
      if (late_mask != (1u << p->cfg->windows.nsizes) - 1) mark = done_mark(p, r->ts_ms);
      if (late_mask) {
        char detail[160], ts[32], wm[32];
        es_time_format_rfc3339(r->ts_ms, ts);
        es_time_format_rfc3339(es_windows_watermark(p->win), wm);
        snprintf(detail, sizeof detail, "event time %s is behind the watermark %s: its window had closed", ts, wm);
        es_buf_clear(&p->dbuf);
        es__dead_letter(p, b, &p->dbuf, i, ES_REASON_LATE, detail);
        dead_letter(p, b, i, ES_REASON_LATE, detail, p->dbuf.data, p->dbuf.len);
        p->st->reasons[ES_REASON_LATE]++;
      }
    }
    if (b->tr && !r->reason && (r->nhits || r->response)) triage(p, b, i);
    if (p->input && b->kpart[i] >= 0) p->input->track(p->input->ctx, b, i, r->reason ? INT64_MIN : r->ts_ms, mark, now_wall);
  }
  input_advance(p, now_wall);
  triage_release(p, false);
  p->st->bytes += b->len;
  p->consumed += b->nlines;
}

/* The run's counters and health for the sinks that want them: at most
 * every ES_STATUS_PERIOD_MS, and at the end. Reads the workers' counters
 * (relaxed atomics) and the batch pool; the rest is the aggregator's. */
static void publish_status(es_pipe *p, bool final) {
  if (!p->status) return;
  int64_t now = es_time_mono_ms();
  if (!final && now - p->status_mark_ms < ES_STATUS_PERIOD_MS) return;
  p->status_mark_ms = now;
  es_sink_status *s = p->status;
  memset(s, 0, offsetof(es_sink_status, parts));
  s->now_ms = es_time_wall_ms();
  s->started_ms = p->started_wall_ms;
  s->watermark = es_windows_watermark(p->win);
  s->input = p->source;
  s->ready = true;
  s->finished = final;
  for (int i = 0; i < p->nworkers; i++) {
    es_worker_counters *c = &p->workers[i].c;
    s->lines += ES_READ(c->lines);
    s->accepted += ES_READ(c->accepted);
    s->matched += ES_READ(c->matched);
    s->hits += ES_READ(c->hits);
    for (int r = 0; r < ES_REASON_COUNT; r++) s->reasons[r] += ES_READ(c->reasons[r]);
    for (int g = 0; g < ES_STAGE_AGGREGATE; g++) {
      for (int k = 0; k < ES_HIST_BUCKETS; k++) {
        uint64_t n = ES_READ(c->stage_bucket[g][k]);
        s->stage[g].bucket[k] += n;
        s->stage[g].count += n;
      }
      s->stage[g].sum += (double)ES_READ(c->stage_ns[g]) * 1e-9;
    }
    int64_t busy = ES_READ(c->busy_since_ms);
    if (busy && now - busy > s->stalled_ms) s->stalled_ms = now - busy;
  }
  /* Late mentions are counted by the aggregator. */
  s->reasons[ES_REASON_LATE] += p->st->reasons[ES_REASON_LATE];
  s->stage[ES_STAGE_AGGREGATE] = p->agg_hist;
  s->windows = p->st->windows;
  memcpy(s->classes, p->st->classes, sizeof s->classes);
  s->thresholds = p->st->thresholds;
  s->early_updates = p->st->early_updates;
  s->alerts_opened = p->st->alerts_opened;
  s->alerts_resolved = p->st->alerts_resolved;
  s->batches = (uint32_t)p->nbatches;
  s->batches_busy = (uint32_t)p->nbatches - es_ring_count(&p->free_batches);
  s->queries = es_queryset_count(p->qs);
  s->query_reloads = atomic_load(&p->reloads);
  s->query_reload_failures = atomic_load(&p->reload_failures);
  s->triage_reloads = atomic_load(&p->tr_reloads);
  s->triage_reload_failures = atomic_load(&p->tr_reload_failures);
  s->query_sets_adopted = p->adopted;
  if (p->input) p->input->status(p->input->ctx, s);
  for (size_t i = 0; i < p->nsinks; i++)
    if (p->sinks[i]->ops->status) p->sinks[i]->ops->status(p->sinks[i], s);
}

/* The input's regular work: delivery reports and commits. Failures are
 * reported by the final tick. */
static void tick(es_pipe *p, bool force) {
  if (!p->input) return;
  es_diag d;
  p->input->tick(p->input->ctx, es_windows_watermark(p->win), es_time_mono_ms(), force, &d);
}

static void progress(es_pipe *p, bool final) {
  if (p->input && p->cfg->pretty) return; /* the demo's terminal shows the windows instead */
  if (p->input && !p->cfg->pretty) { /* a service: a log line every 5 s while records flow */
    int64_t now = es_time_mono_ms();
    if (p->log_mark_ms == 0) {
      p->log_mark_ms = now;
      p->log_mark_lines = p->consumed;
    } else if (now - p->log_mark_ms >= 5000 && p->consumed != p->log_mark_lines) {
      double rate = (double)(p->consumed - p->log_mark_lines) * 1000.0 / (double)(now - p->log_mark_ms);
      es_log_info("progress", "records=%llu records_per_s=%.0f windows=%llu", (unsigned long long)p->consumed, rate,
                  (unsigned long long)p->st->windows);
      p->log_mark_ms = now;
      p->log_mark_lines = p->consumed;
    }
    return;
  }
  if (!p->progress_tty) return;
  int64_t now = es_time_mono_ms();
  if (!final && now - p->last_progress_ms < 250) return;
  p->last_progress_ms = now;
  double secs = (double)(now - p->started_ms) / 1000.0;
  uint64_t lines = p->consumed;
  double rate = secs > 0 ? (double)lines / secs : 0;
  char bar[41];
  double frac = p->in_size ? (double)p->st->bytes / (double)p->in_size : 0;
  if (frac > 1) frac = 1;
  int fill = (int)(frac * 40);
  for (int i = 0; i < 40; i++) bar[i] = i < fill ? '#' : '.';
  bar[40] = 0;
  if (p->in_size)
    fprintf(stderr, "\r[%s] %5.1f%%  %llu mentions  %.0f/s ", bar, frac * 100, (unsigned long long)lines, rate);
  else
    fprintf(stderr, "\r%llu mentions  %.0f/s ", (unsigned long long)lines, rate);
  if (final) fputc('\n', stderr);
}

int es__aggregate(es_pipe *p) {
  uint64_t next = 0;
  int eofs = 0;
  p->started_ms = es_time_mono_ms();
  p->started_wall_ms = es_time_wall_ms();
  es_windows_touch(p->win, es_time_wall_ms());
  p->early_mark_ms = es_time_mono_ms();
  int wait_ms = p->cfg->windows.early_ms && p->cfg->windows.early_ms < 100 ? (int)p->cfg->windows.early_ms : 100;
  while (eofs < p->nworkers) {
    void *v;
    es_ring *r = &p->from_worker[next % (uint64_t)p->nworkers];
    if (!es_ring_pop(r, &v, wait_ms)) {
      input_advance(p, es_time_wall_ms());
      es_windows_idle(p->win, es_time_wall_ms());
      triage_release(p, false);
      early_updates(p);
      tick(p, false);
      progress(p, false);
      publish_status(p, false);
      /* A quiet stream: write out what closed so far. */
      flush_sinks(p, ~0u);
      continue;
    }
    es_batch *b = v;
    next++;
    if (b->eof) {
      eofs++;
      es_ring_push(&p->free_batches, b);
      continue;
    }
    uint64_t t0 = es_time_mono_ns();
    consume(p, b);
    if (b->nlines) {
      uint64_t ns = es_time_mono_ns() - t0;
      p->agg_hist.bucket[es_hist_bucket(ns)]++;
      p->agg_hist.count++;
      p->agg_hist.sum += (double)ns * 1e-9;
    }
    if (b->barrier && p->input) p->input->drained(p->input->ctx, b, es_windows_watermark(p->win));
    if (b->nlines) { /* records flowing (not markers) */
      if (!p->first_batch_ms) p->first_batch_ms = es_time_mono_ms();
      p->last_batch_ms = es_time_mono_ms();
    }
    es_windows_touch(p->win, es_time_wall_ms());
    es_ring_push(&p->free_batches, b);
    tick(p, false);
    early_updates(p);
    progress(p, false);
    publish_status(p, false);
  }
  p->stopped_early = *p->stop != 0;
  if (p->input && p->last_batch_ms > p->first_batch_ms)
    es_log_info("consumed", "records=%llu seconds=%.3f records_per_s=%.0f (first to last batch)",
                (unsigned long long)p->consumed, (double)(p->last_batch_ms - p->first_batch_ms) / 1000.0,
                (double)p->consumed * 1000.0 / (double)(p->last_batch_ms - p->first_batch_ms));
  /* A Kafka service stopped by a signal leaves its open windows to the
   * next run (their offsets are not committed), unless told to flush them. */
  int64_t emitted = es_windows_watermark(p->win);
  if (!p->input || !p->stopped_early || p->cfg->kafka.flush_on_shutdown) {
    es_windows_flush(p->win);
    triage_release(p, true); /* (a service stopped without flushing leaves them to the next run, like its windows) */
    if (es_windows_max_event(p->win) != INT64_MIN) emitted = done_mark(p, es_windows_max_event(p->win));
  }
  publish_status(p, true);
  for (size_t i = 0; i < p->nsinks; i++) p->sinks[i]->ops->finish(p->sinks[i]);
  if (p->input) {
    es_diag d = {{0}};
    if (p->input->tick(p->input->ctx, emitted, es_time_mono_ms(), true, &d) && !p->io_err)
      p->io_err = es_diag_set(p->diag, ES_EIO, "%s", d.msg);
  }
  if (p->sup_win) es_log_info("exactly-once", "windows_already_published=%llu", (unsigned long long)p->suppressed);
  progress(p, true);
  return p->io_err;
}
