/* Routes: the decision for one mention with a loaded triage file
 * (triage_file.c): conditions, crisis overrides, office hours, overflow,
 * and the decision's explanation and JSON. es_triage_pre_eval: any thread;
 * es_triage_decide: the aggregator (its state is single-threaded). */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "earshot/hash.h"
#include "earshot/mem.h"
#include "earshot/output.h"
#include "earshot/timeutil.h"
#include "earshot/triage.h"
#include "triage_internal.h"


/* ------------------------------------------------------------ decide */

struct es_triage_bound {
  const es_triage *t;
  const es_queryset *qs;
  uint64_t *route_q;  /* per query: routes whose query list has it */
  uint32_t *crisis_q; /* per query: crisis overrides of it */
  uint64_t noq;       /* routes without a query condition */
  int64_t crisis_query[ES_TRIAGE_MAX_CRISIS];
};

es_triage_bound *es_triage_bind(const es_triage *t, const es_queryset *qs) {
  es_triage_bound *b = es_calloc(1, sizeof *b);
  size_t nq = es_queryset_count(qs);
  if (!b) return NULL;
  b->route_q = es_calloc(nq ? nq : 1, sizeof *b->route_q);
  b->crisis_q = es_calloc(nq ? nq : 1, sizeof *b->crisis_q);
  if (!b->route_q || !b->crisis_q) {
    es_triage_unbind(b);
    return NULL;
  }
  b->t = t;
  b->qs = qs;
  for (size_t r = 0; r < t->nroutes; r++) {
    const cond *c = &t->routes[r].when;
    if (!c->nqueries) b->noq |= 1ull << r;
    for (int i = 0; i < c->nqueries; i++) {
      int64_t q = es_queryset_find(qs, c->queries[i], strlen(c->queries[i]));
      if (q >= 0) b->route_q[q] |= 1ull << r;
    }
  }
  for (size_t k = 0; k < t->ncrises; k++) {
    int64_t q = es_queryset_find(qs, t->crises[k].query, strlen(t->crises[k].query));
    b->crisis_query[k] = q;
    if (q >= 0) b->crisis_q[q] |= 1u << k;
  }
  return b;
}

void es_triage_unbind(es_triage_bound *b) {
  if (!b) return;
  es_free(b->route_q);
  es_free(b->crisis_q);
  es_free(b);
}

int64_t es_triage_bound_crisis_query(const es_triage_bound *b, size_t k) { return b->crisis_query[k]; }

uint32_t es_triage_author_lists(const es_triage *t, const char *a, size_t n) {
  if (!n || !t->nhandles) return 0;
  char h[256];
  n = es__norm_handle(a, n, h, sizeof h);
  for (size_t k = es_hash_bytes(h, n) & (t->handle_cap - 1); t->handles[k]; k = (k + 1) & (t->handle_cap - 1))
    if (strlen(t->handles[k]) == n && !memcmp(t->handles[k], h, n)) return t->handle_mask[k];
  return 0;
}

static bool str_in(char *const *list, int n, const char *s, size_t sn) {
  for (int i = 0; i < n; i++)
    if (strlen(list[i]) == sn && !strncasecmp(list[i], s, sn)) return true;
  return false;
}

/* Whether the condition holds, queries aside (checked through the bound masks). */
static bool cond_holds(const cond *c, const es_triage_in *in, uint32_t lists) {
  if (c->situations && !(c->situations & in->situations)) return false;
  if (c->not_situations & in->situations) return false;
  if (c->labels && (in->label < 0 || in->label > ES_LABEL_NEGATIVE || !(c->labels >> in->label & 1))) return false;
  if (in->compound < c->cmin || in->compound > c->cmax) return false;
  if (c->lists && !(c->lists & lists)) return false;
  if (c->not_lists & lists) return false;
  if ((int64_t)in->followers < c->fmin || (in->followers > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)in->followers) > c->fmax)
    return false;
  if (c->nlangs && !str_in(c->langs, c->nlangs, in->lang ? in->lang : "und", in->lang ? in->lang_n : 3)) return false;
  if (c->nsources && !str_in(c->sources, c->nsources, in->source ? in->source : "unknown", in->source ? in->source_n : 7))
    return false;
  return true;
}

void es_triage_pre_eval(const es_triage *t, const es_triage_bound *b, const es_triage_in *in, es_triage_pre *out) {
  uint64_t rmask = b->noq;
  uint32_t cmask = 0;
  for (size_t i = 0; i < in->nqueries; i++) {
    rmask |= b->route_q[in->queries[i]];
    cmask |= b->crisis_q[in->queries[i]];
  }
  uint32_t lists = es_triage_author_lists(t, in->author, in->author_n);
  out->route = -1;
  for (size_t r = 0; r < t->nroutes; r++)
    if ((rmask >> r & 1) && cond_holds(&t->routes[r].when, in, lists)) {
      out->route = (int32_t)r;
      break;
    }
  out->crisis = 0;
  for (size_t k = 0; k < t->ncrises; k++)
    if ((cmask >> k & 1) && cond_holds(&t->crises[k].when, in, lists)) out->crisis |= 1u << k;
}

/* The zone's offset (seconds east) at UTC ms. */
static int32_t zone_offset(const zone *z, int64_t ms) {
  int64_t s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  size_t lo = 0, hi = z->n;
  while (hi - lo > 1) {
    size_t mid = (lo + hi) / 2;
    if (z->at[mid] <= s) lo = mid;
    else hi = mid;
  }
  return z->n ? z->off[lo] : 0;
}

bool es_triage_in_hours(const es_triage *t, int64_t ts_ms) {
  if (!t->has_hours) return true;
  int64_t local = ts_ms / 1000 + zone_offset(&t->tz, ts_ms);
  int64_t day = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
  int64_t sec = local - day * 86400;
  int wd = (int)(((day % 7) + 7 + 3) % 7); /* 1970-01-01 was a Thursday (3 with Monday 0) */
  return t->open[wd][sec / 900] != 0;
}

es_triage_state *es_triage_state_create(const es_triage *t) {
  es_triage_state *s = es_calloc(1, sizeof *s);
  if (!s) return NULL;
  s->ntracks = t->ntracks;
  for (size_t i = 0; i < ES_TRIAGE_MAX_TRACKS; i++) {
    for (int k = 0; k < HOUR_SLOTS; k++) s->hour[i][k] = INT64_MIN;
    for (int k = 0; k < SLA_HOURS; k++) s->ts[i].h[k].hour = INT64_MIN;
  }
  return s;
}
void es_triage_state_destroy(es_triage_state *s) {
  if (!s) return;
  for (uint32_t i = 0; i < s->naw; i++) es_free(s->aw[i].id);
  es_free(s->aw);
  es_free(s->freeaw);
  es_free(s->slots);
  es_free(s->heap);
  for (size_t i = 0; i < ES_TRIAGE_MAX_TRACKS; i++)
    for (int k = 0; k < SLA_HOURS; k++) es_free(s->ts[i].h[k].times);
  es_free(s);
}
void es_triage_counts_get(const es_triage_state *s, es_triage_counts *c) { *c = s->c; }
uint64_t es_triage_track_routed(const es_triage_state *s, size_t i) { return s->routed_to[i]; }

/* Counts a mention into track i's hour; false when that hour was full. An
 * event older than the hours kept is counted without a limit. */
static bool take(const es_triage *t, es_triage_state *s, int32_t i, int64_t ts_ms) {
  int64_t h = ts_ms >= 0 ? ts_ms / 3600000 : -((-ts_ms + 3599999) / 3600000);
  size_t k = (size_t)(((h % HOUR_SLOTS) + HOUR_SLOTS) % HOUR_SLOTS);
  if (s->hour[i][k] > h) return true;
  if (s->hour[i][k] != h) {
    s->hour[i][k] = h;
    s->in_hour[i][k] = 0;
  }
  if (t->tracks[i].capacity && s->in_hour[i][k] >= (uint64_t)t->tracks[i].capacity) return false;
  s->in_hour[i][k]++;
  return true;
}

void es_triage_decide(const es_triage *t, es_triage_state *s, const es_triage_pre *pre, int64_t ts_ms,
                      bool (*alert_open)(void *ctx, size_t crisis), void *ctx, es_triage_out *o) {
  memset(o, 0, sizeof *o);
  o->rule = -1;
  o->track = o->asked_track = -1;
  for (size_t k = 0; k < t->ncrises; k++)
    if ((pre->crisis >> k & 1) && alert_open(ctx, k)) {
      const crisis *c = &t->crises[k];
      o->action = ES_TRIAGE_ROUTE;
      o->via = ES_VIA_CRISIS;
      o->rule = (int32_t)k;
      o->track = o->asked_track = c->track;
      o->priority = c->priority;
      o->sla_ms = c->sla_ms > 0 ? c->sla_ms : t->tracks[c->track].sla_ms;
      break;
    }
  if (o->action == ES_TRIAGE_NONE) {
    if (pre->route < 0) {
      s->c.unrouted++;
      return;
    }
    const route *r = &t->routes[pre->route];
    o->rule = pre->route;
    o->action = r->action;
    if (r->action == ES_TRIAGE_IGNORE) {
      o->reason = r->reason;
      s->c.ignored++;
      return;
    }
    o->via = ES_VIA_ROUTE;
    o->track = o->asked_track = r->track;
    o->priority = r->priority;
    o->sla_ms = r->sla_ms > 0 ? r->sla_ms : t->tracks[r->track].sla_ms;
    /* Outside office hours the off-hours track, with its SLA (a crisis
     * goes where it is sent at any hour). */
    if (t->has_hours && t->tracks[o->track].keeps_hours && o->track != t->off_hours && !es_triage_in_hours(t, ts_ms)) {
      o->via = ES_VIA_OFF_HOURS;
      o->track = t->off_hours;
      o->sla_ms = t->tracks[o->track].sla_ms;
      s->c.off_hours++;
    }
  } else s->c.crisis++;
  /* Past its capacity in this hour, the track's overflow track. */
  if (!take(t, s, o->track, ts_ms) && t->tracks[o->track].overflow >= 0) {
    o->via = ES_VIA_OVERFLOW;
    o->track = t->tracks[o->track].overflow;
    o->sla_ms = t->tracks[o->track].sla_ms;
    take(t, s, o->track, ts_ms);
    s->c.overflowed++;
  }
  o->respond_by_ms = ts_ms + o->sla_ms;
  s->routed_to[o->track]++;
  s->c.routed++;
}

const char *es_triage_rule_name(const es_triage *t, const es_triage_out *o) {
  if (o->rule < 0) return "";
  return o->via == ES_VIA_CRISIS ? t->crises[o->rule].name : t->routes[o->rule].name;
}

static void add_why(char *out, size_t cap, size_t *at, const char *fmt, const char *a, const char *b) {
  if (*at >= cap) return;
  int n = snprintf(out + *at, cap - *at, "%s", *at ? "; " : "");
  if (n > 0) *at += (size_t)n;
  if (*at >= cap) return;
  n = snprintf(out + *at, cap - *at, fmt, a, b);
  if (n > 0) *at += (size_t)n;
  if (*at >= cap) *at = cap - 1;
}

void es_triage_explain_cond(const es_triage *t, int which, int32_t idx, const es_triage_in *in, char *out, size_t cap) {
  size_t at = 0;
  out[0] = 0;
  if (idx < 0) return;
  const cond *c = which ? &t->crises[idx].when : &t->routes[idx].when;
  if (which) add_why(out, cap, &at, "query %s has an open alert%s", t->crises[idx].query, "");
  for (int i = 0; i < c->nqueries; i++)
    for (size_t k = 0; k < in->nqueries; k++) {
      const char *id = es_queryset_get(in->qs, in->queries[k])->id;
      if (!strcmp(id, c->queries[i])) add_why(out, cap, &at, "query %s%s", id, "");
    }
  for (size_t k = 0; k < es_situations_count(t->sit); k++)
    if (c->situations >> k & 1 && in->situations >> k & 1)
      add_why(out, cap, &at, "situation %s%s", es_situation_name(t->sit, k), "");
  for (size_t k = 0; k < es_situations_count(t->sit); k++)
    if (c->not_situations >> k & 1) add_why(out, cap, &at, "not %s%s", es_situation_name(t->sit, k), "");
  if (c->labels) add_why(out, cap, &at, "sentiment %s%s", es_label_name(in->label), "");
  if (c->cmin > -1 || c->cmax < 1) {
    char v[32];
    snprintf(v, sizeof v, "%.3f", in->compound);
    add_why(out, cap, &at, "compound %s in range%s", v, "");
  }
  uint32_t lists = es_triage_author_lists(t, in->author, in->author_n);
  for (size_t k = 0; k < t->nlists; k++)
    if (c->lists >> k & 1 && lists >> k & 1) add_why(out, cap, &at, "author in %s%s", t->lists[k], "");
  for (size_t k = 0; k < t->nlists; k++)
    if (c->not_lists >> k & 1) add_why(out, cap, &at, "author not in %s%s", t->lists[k], "");
  if (c->fmin > 0 || c->fmax < INT64_MAX) {
    char v[32];
    snprintf(v, sizeof v, "%llu", (unsigned long long)in->followers);
    add_why(out, cap, &at, "followers %s in range%s", v, "");
  }
  if (c->nlangs) add_why(out, cap, &at, "lang %s%s", in->lang_n ? in->lang : "und", "");
  if (c->nsources) add_why(out, cap, &at, "source %s%s", in->source_n ? in->source : "unknown", "");
  if (!at) snprintf(out, cap, "%s", "every mention (no condition)");
}

void es_triage_route_json(es_buf *b, const es_triage *t, const es_triage_out *o, const char *why) {
  es_buf_puts(b, "\"route\":");
  if (o->action == ES_TRIAGE_NONE) {
    es_buf_puts(b, "null,\"respond_by\":null");
    return;
  }
  static const char *const via[] = {"route", "crisis", "off_hours", "overflow"};
  es_buf_puts(b, "{\"action\":");
  es_buf_puts(b, o->action == ES_TRIAGE_IGNORE ? "\"ignore\"" : "\"route\"");
  es_buf_puts(b, ",\"rule\":");
  const char *rn = es_triage_rule_name(t, o);
  es_buf_json_str(b, rn, strlen(rn));
  if (o->action == ES_TRIAGE_IGNORE) {
    es_buf_puts(b, ",\"reason\":");
    es_buf_json_str(b, o->reason, strlen(o->reason));
  } else {
    es_buf_puts(b, ",\"track\":");
    es_buf_json_str(b, t->tracks[o->track].name, strlen(t->tracks[o->track].name));
    es_buf_printf(b, ",\"priority\":%d,\"sla_s\":%lld,\"via\":\"%s\"", o->priority, (long long)(o->sla_ms / 1000),
                  via[o->via]);
    if (o->track != o->asked_track) {
      es_buf_puts(b, ",\"asked_track\":");
      es_buf_json_str(b, t->tracks[o->asked_track].name, strlen(t->tracks[o->asked_track].name));
    }
  }
  if (why) {
    es_buf_puts(b, ",\"why\":");
    es_buf_json_str(b, why, strlen(why));
  }
  es_buf_puts(b, "},\"respond_by\":");
  if (o->action == ES_TRIAGE_IGNORE) {
    es_buf_puts(b, "null");
    return;
  }
  char ts[32];
  size_t n = es_time_format_rfc3339(o->respond_by_ms, ts);
  es_buf_json_str(b, ts, n);
}

const char *es_triage_off_hours_track(const es_triage *t) { return t->off_hours >= 0 ? t->tracks[t->off_hours].name : NULL; }
const char *es_triage_timezone(const es_triage *t) { return t->tz_name; }
