/* Time to respond: routed mentions awaiting their answer, the answers,
 * and per track and event-time hour the p90 against the SLA (sla_breach
 * events). The aggregator's, like es_triage_decide. */
#include <stdlib.h>
#include <string.h>

#include "earshot/hash.h"
#include "earshot/mem.h"
#include "earshot/timeutil.h"
#include "earshot/triage.h"
#include "triage_internal.h"


#define SLOT_GONE UINT32_MAX

static size_t id_hash(const char *id, size_t n) { return (size_t)es_hash_bytes(id, n); }

/* The slot of id (its entry index + 1 there), or of where it would go. */
static size_t slot_of(const es_triage_state *s, const char *id, size_t n, bool *found) {
  size_t h = id_hash(id, n) & s->mask, gone = SIZE_MAX;
  for (; s->slots[h]; h = (h + 1) & s->mask) {
    if (s->slots[h] == SLOT_GONE) {
      if (gone == SIZE_MAX) gone = h;
      continue;
    }
    const await *a = &s->aw[s->slots[h] - 1];
    if (a->idn == n && !memcmp(a->id, id, n)) {
      *found = true;
      return h;
    }
  }
  *found = false;
  return gone != SIZE_MAX ? gone : h;
}

static bool heap_less(const es_triage_state *s, uint32_t a, uint32_t b) { return s->aw[a].due < s->aw[b].due; }

static void heap_push(es_triage_state *s, uint32_t i) {
  size_t k = s->nheap++;
  while (k && heap_less(s, i, s->heap[(k - 1) / 2])) {
    s->heap[k] = s->heap[(k - 1) / 2];
    k = (k - 1) / 2;
  }
  s->heap[k] = i;
}

static void heap_pop(es_triage_state *s) {
  uint32_t last = s->heap[--s->nheap];
  size_t k = 0, n = s->nheap;
  for (;;) {
    size_t c = 2 * k + 1;
    if (c >= n) break;
    if (c + 1 < n && heap_less(s, s->heap[c + 1], s->heap[c])) c++;
    if (!heap_less(s, s->heap[c], last)) break;
    s->heap[k] = s->heap[c];
    k = c;
  }
  if (n) s->heap[k] = last;
}

static int grow_slots(es_triage_state *s) {
  size_t cap = s->mask ? (s->mask + 1) * 2 : 1024;
  uint32_t *n = es_calloc(cap, sizeof *n);
  if (!n) return ES_ENOMEM;
  uint32_t *old = s->slots;
  size_t oldcap = s->mask ? s->mask + 1 : 0;
  s->slots = n;
  s->mask = cap - 1;
  s->used = 0;
  for (size_t i = 0; i < oldcap; i++) {
    if (!old[i] || old[i] == SLOT_GONE) continue;
    const await *a = &s->aw[old[i] - 1];
    bool f;
    n[slot_of(s, a->id, a->idn, &f)] = old[i];
    s->used++;
  }
  es_free(old);
  return 0;
}

/* Removes entry i from the id table (answered, or forgotten); its index
 * is reused once the heap has let go of it (`popped`). */
static void await_drop(es_triage_state *s, uint32_t i, bool popped) {
  await *a = &s->aw[i];
  if (a->id) {
    bool f;
    size_t h = slot_of(s, a->id, a->idn, &f);
    if (f) s->slots[h] = SLOT_GONE;
    es_free(a->id);
    a->id = NULL;
  }
  if (popped) s->freeaw[s->nfree++] = i;
}

enum { S_ON_TIME, S_LATE, S_UNANSWERED };

/* A response time (or an unanswered respond-by) into its track's hour. */
static void sample(es_triage_state *s, int32_t track, int64_t at, uint32_t secs, int kind) {
  int64_t h = at >= 0 ? at / HOUR_MS : -((-at + HOUR_MS - 1) / HOUR_MS);
  sla_hour *b = &s->ts[track].h[((h % SLA_HOURS) + SLA_HOURS) % SLA_HOURS];
  if (b->hour != h) {
    if (b->hour > h) return; /* older than the hours kept: counted in the totals only */
    b->hour = h;             /* (a stale hour here was closed, or is SLA_HOURS older) */
    b->n = b->answered = b->late = b->unanswered = 0;
  }
  if (b->n == b->cap && b->cap < SAMPLE_MAX) {
    uint32_t cap = b->cap ? b->cap * 2 : 64;
    uint32_t *x = es_realloc(b->times, cap * sizeof *x);
    if (x) b->times = x, b->cap = cap;
  }
  if (b->n < b->cap) b->times[b->n++] = secs;
  b->answered += kind != S_UNANSWERED;
  b->late += kind == S_LATE;
  b->unanswered += kind == S_UNANSWERED;
}

void es_triage_await(es_triage_state *s, const char *id, size_t n, const es_triage_out *o, int64_t ts) {
  if (!n || o->action != ES_TRIAGE_ROUTE) return;
  if (s->naw - s->nfree >= AWAIT_MAX) {
    s->c.untracked++;
    return;
  }
  if ((s->used + 1) * 2 > (s->mask ? s->mask + 1 : 0) && grow_slots(s)) return;
  bool f;
  size_t h = slot_of(s, id, n, &f);
  if (f) return; /* the same id twice: the first one counts */
  uint32_t i;
  if (s->nfree) i = s->freeaw[--s->nfree];
  else {
    if (s->naw == s->capaw) {
      uint32_t cap = s->capaw ? s->capaw * 2 : 1024;
      await *x = es_realloc(s->aw, cap * sizeof *x);
      uint32_t *fr = x ? es_realloc(s->freeaw, cap * sizeof *fr) : NULL;
      uint32_t *hp = fr ? es_realloc(s->heap, cap * sizeof *hp) : NULL;
      if (x) s->aw = x;
      if (fr) s->freeaw = fr;
      if (hp) s->heap = hp;
      if (!hp) return;
      s->capaw = cap;
    }
    i = s->naw++;
  }
  char *copy = es_strndup(id, n);
  if (!copy) {
    s->freeaw[s->nfree++] = i;
    return;
  }
  s->aw[i] = (await){.id = copy, .idn = (uint32_t)n, .track = o->track, .ts = ts, .due = o->respond_by_ms,
                     .due_first = o->respond_by_ms};
  if (s->slots[h] != SLOT_GONE) s->used++;
  s->slots[h] = i + 1;
  heap_push(s, i);
}

bool es_triage_response(es_triage_state *s, const char *id, size_t n, int64_t ts) {
  if (!n || !s->slots) return false;
  bool f;
  size_t h = slot_of(s, id, n, &f);
  if (!f) {
    s->c.responses_unknown++;
    return false;
  }
  uint32_t i = s->slots[h] - 1;
  await *a = &s->aw[i];
  int64_t took = ts > a->ts ? ts - a->ts : 0;
  if (a->track < 0) { /* its track left the triage file (reload) */
    s->c.responses++;
    await_drop(s, i, false);
    return true;
  }
  es_triage_sla_counts *c = &s->sla[a->track];
  c->answered++;
  c->respond_ms_sum += took;
  bool late = a->late || ts > a->due_first;
  if (late && !a->late) c->late++; /* answered after its respond-by (an unanswered one is counted already) */
  s->c.responses++;
  sample(s, a->track, ts, took / 1000 > UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)(took / 1000),
         late ? S_LATE : S_ON_TIME);
  await_drop(s, i, false); /* the heap skips it when it comes up */
  return true;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* Closes one hour of track k: its p90 against the SLA, and the breach's state. */
static void close_hour(const es_triage *t, es_triage_state *s, size_t k, sla_hour *b,
                       void (*emit)(void *ctx, const es_sla_event *e), void *ctx) {
  track_sla *ts = &s->ts[k];
  if (!b->n) {
    b->hour = INT64_MIN;
    return;
  }
  qsort(b->times, b->n, sizeof *b->times, cmp_u32);
  uint32_t p90 = b->times[(b->n * 9 + 9) / 10 - 1]; /* the nearest-rank 90th percentile */
  int64_t sla_s = t->tracks[k].sla_ms / 1000;
  bool breach = p90 == UINT32_MAX || (int64_t)p90 > sla_s;
  es_sla_event e = {.track = t->tracks[k].name, .hour_start_ms = b->hour * HOUR_MS, .sla_s = sla_s,
                    .p90_s = p90 == UINT32_MAX ? -1 : (int64_t)p90, .answered = b->answered, .late = b->late,
                    .unanswered = b->unanswered};
  if (breach) e.state = ts->breach_open ? ES_SLA_UPDATED : ES_SLA_OPENED;
  else e.state = ts->breach_open ? ES_SLA_RESOLVED : ES_SLA_MET;
  ts->breach_open = breach;
  if (breach) s->sla[k].breach_hours++;
  emit(ctx, &e);
  b->n = b->answered = b->late = b->unanswered = 0;
  b->hour = INT64_MIN;
}

void es_triage_sla_advance(const es_triage *t, es_triage_state *s, int64_t watermark, bool all,
                           void (*emit)(void *ctx, const es_sla_event *e), void *ctx) {
  /* respond-bys passed unanswered, in order */
  while (s->nheap) {
    uint32_t i = s->heap[0];
    await *a = &s->aw[i];
    if (!a->id) { /* answered: its index is free now */
      heap_pop(s);
      s->freeaw[s->nfree++] = i;
      continue;
    }
    if (a->due > watermark) break;
    heap_pop(s);
    if (!a->late && a->track < 0) { /* its track left the triage file (reload): forgotten */
      await_drop(s, i, true);
      continue;
    }
    if (!a->late) {
      a->late = true;
      s->sla[a->track].unanswered++;
      s->sla[a->track].late++;
      sample(s, a->track, a->due, UINT32_MAX, S_UNANSWERED);
      a->due += AWAIT_KEEP_MS; /* kept for a late answer, until a day past its respond-by */
      heap_push(s, i);
      continue;
    }
    await_drop(s, i, true);
  }
  /* hours the watermark has left behind, oldest first */
  int64_t wh = watermark >= 0 ? watermark / HOUR_MS : -((-watermark + HOUR_MS - 1) / HOUR_MS);
  for (size_t k = 0; k < t->ntracks; k++)
    for (;;) {
      sla_hour *old = NULL;
      for (int j = 0; j < SLA_HOURS; j++) {
        sla_hour *b = &s->ts[k].h[j];
        if (b->hour != INT64_MIN && (all || b->hour < wh) && (!old || b->hour < old->hour)) old = b;
      }
      if (!old) break;
      close_hour(t, s, k, old, emit, ctx);
    }
}

const es_triage_sla_counts *es_triage_sla_counts_get(const es_triage_state *s, size_t track) { return &s->sla[track]; }

void es_sla_event_json(es_buf *b, const es_sla_event *e) {
  static const char *const states[] = {"met", "opened", "updated", "resolved"};
  char hs[32], he[32];
  es_time_format_rfc3339(e->hour_start_ms, hs);
  es_time_format_rfc3339(e->hour_start_ms + HOUR_MS, he);
  es_buf_puts(b, "{\"type\":\"sla_breach\",\"track\":");
  es_buf_json_str(b, e->track, strlen(e->track));
  es_buf_printf(b, ",\"state\":\"%s\",\"window_start\":\"%s\",\"window_end\":\"%s\",\"sla_s\":%lld,\"p90_s\":",
                states[e->state], hs, he, (long long)e->sla_s);
  if (e->p90_s < 0) es_buf_puts(b, "null");
  else es_buf_printf(b, "%lld", (long long)e->p90_s);
  es_buf_printf(b, ",\"answered\":%u,\"late\":%u,\"unanswered\":%u}\n", e->answered, e->late, e->unanswered);
}


/* A reloaded triage file: per-track state follows its track by name (hour
 * counts, SLA hours and counts, mentions awaiting an answer); a track no
 * longer named loses its state, and its awaited mentions are forgotten. */
void es_triage_state_retrack(es_triage_state *s, const es_triage *from, const es_triage *to) {
  int32_t to_of[ES_TRIAGE_MAX_TRACKS];
  for (size_t i = 0; i < from->ntracks; i++) {
    to_of[i] = -1;
    for (size_t j = 0; j < to->ntracks; j++)
      if (!strcmp(from->tracks[i].name, to->tracks[j].name)) to_of[i] = (int32_t)j;
  }
  es_triage_state *n = es_triage_state_create(to);
  if (!n) return; /* out of memory: tracks keep their indices (the caller logs it) */
  for (size_t i = 0; i < from->ntracks; i++) {
    int32_t j = to_of[i];
    if (j < 0) {
      for (int k = 0; k < SLA_HOURS; k++) es_free(s->ts[i].h[k].times);
      continue;
    }
    memcpy(n->hour[j], s->hour[i], sizeof n->hour[j]);
    memcpy(n->in_hour[j], s->in_hour[i], sizeof n->in_hour[j]);
    n->routed_to[j] = s->routed_to[i];
    n->sla[j] = s->sla[i];
    n->ts[j] = s->ts[i];
  }
  for (size_t i = 0; i < ES_TRIAGE_MAX_TRACKS; i++) {
    memcpy(s->hour[i], n->hour[i], sizeof s->hour[i]);
    memcpy(s->in_hour[i], n->in_hour[i], sizeof s->in_hour[i]);
    s->routed_to[i] = n->routed_to[i];
    s->sla[i] = n->sla[i];
    s->ts[i] = n->ts[i];
  }
  s->ntracks = to->ntracks;
  for (uint32_t i = 0; i < s->naw; i++)
    if (s->aw[i].id && s->aw[i].track >= 0) s->aw[i].track = to_of[s->aw[i].track];
  es_free(n); /* its hours' buffers are s's now (none of its own) */
}
