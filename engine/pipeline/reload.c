/* Query hot reload: a thread with a libuv loop watching the query file
 * (a file-system event on its directory, so editors that replace the file
 * by renaming are seen, and so is a Kubernetes ConfigMap volume's "..data"
 * link swap) and SIGHUP. Either schedules a reload 50 ms later
 * (bursts of events give one reload). The file is parsed and compiled here,
 * off the hot path; on any error the active set stays and the failure is
 * logged and counted. A new set is published in p->qs_live: the ingest
 * stamps each batch with the set live when it is dispatched, workers match
 * a batch with its set, and the aggregator adopts a set when the first
 * batch stamped with it arrives (in input order), remapping windows and
 * baselines by query id. Sets older than the adopted one are then freed:
 * no batch can still refer to them (stamps are monotone in batch order).
 *
 * The triage file reloads the same way: watched with its author lists and
 * situation rule files (the files it was read from), loaded here, published
 * in p->tr_live, stamped on batches, adopted by the aggregator
 * (es__reload_adopt_triage in aggregate.c). */
#include <libgen.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "earshot/crash.h"
#include "earshot/log.h"
#include "pipeline_internal.h"

#define RELOAD_DEBOUNCE_MS 50

#define TRIAGE_WATCHES ES_TRIAGE_MAX_FILES

/* A watched directory for the triage: events for `base` (or any name when
 * the path is a directory of rule files) reload it. */
typedef struct twatch {
  uv_fs_event_t ev;
  struct reloader *r;
  char base[256];
  bool any;
} twatch;

typedef struct reloader {
  es_pipe *p;
  uv_loop_t loop;
  uv_signal_t hup;
  uv_fs_event_t watch;
  uv_timer_t debounce, tdebounce;
  uv_async_t stop;
  const char *path, *base; /* the query file and its name within its directory (NULL: none) */
  twatch *tw[TRIAGE_WATCHES];
  size_t ntw;
  bool triage; /* the triage file reloads (p->triage is the aggregator's) */
  const es_triage *running; /* the last triage loaded or published: its time zone is reused */
} reloader;

/* Under qs_lock: keeps x, published; false on OOM. */
static bool own(es_owned *o, void *x) {
  if (o->n == o->cap) {
    size_t cap = o->cap ? o->cap * 2 : 8;
    void **n = es_realloc(o->v, cap * sizeof *n);
    if (!n) return false;
    o->v = n;
    o->cap = cap;
  }
  o->v[o->n++] = x;
  return true;
}

void es__owned_forget_before(es_owned *o, const void *next, void (*destroy)(void *)) {
  size_t keep = 0;
  while (keep < o->n && o->v[keep] != next) keep++;
  if (keep == o->n) return; /* (not one of them) */
  for (size_t i = 0; i < keep; i++) destroy(o->v[i]);
  memmove(o->v, o->v + keep, (o->n - keep) * sizeof *o->v);
  o->n -= keep;
}

static void destroy_qs(void *x) { es_queryset_destroy(x); }

static void do_reload(uv_timer_t *t) {
  reloader *r = t->data;
  es_pipe *p = r->p;
  int err;
  es_diag d = {{0}};
  es_query_opts qo = {.accent_insensitive = p->cfg->accent_insensitive};
  es_queryset *qs = es_queryset_load_opts(r->path, &qo, &err, &d);
  if (!qs) {
    atomic_fetch_add(&p->reload_failures, 1);
    es_log_error("query reload failed; the active queries stay", "file=%s error=\"%s\"", r->path, d.msg);
    return;
  }
  es_crash_point("reload"); /* fault tests: killed with the new set compiled, not adopted */
  pthread_mutex_lock(&p->qs_lock);
  bool kept = own(&p->qs_owned, qs);
  if (kept) atomic_store(&p->qs_live, qs);
  pthread_mutex_unlock(&p->qs_lock);
  if (!kept) {
    es_queryset_destroy(qs);
    atomic_fetch_add(&p->reload_failures, 1);
    es_log_error("query reload failed; the active queries stay", "file=%s error=\"out of memory\"", r->path);
    return;
  }
  uint64_t n = atomic_fetch_add(&p->reloads, 1) + 1;
  es_log_info("queries reloaded", "file=%s queries=%zu atoms=%zu reload=%llu", r->path, es_queryset_count(qs),
              es_queryset_atom_count(qs), (unsigned long long)n);
}

static void schedule(reloader *r) {
  if (r->path) uv_timer_start(&r->debounce, do_reload, RELOAD_DEBOUNCE_MS, 0);
}

static void watch_triage(reloader *r, const es_triage *t);

static void do_reload_triage(uv_timer_t *tm) {
  reloader *r = tm->data;
  es_pipe *p = r->p;
  int err;
  es_diag d = {{0}};
  const char *path = p->cfg->triage;
  es_triage *t = es_triage_reload(path, r->running, &err, &d);
  if (!t) {
    atomic_fetch_add(&p->tr_reload_failures, 1);
    es_log_error("triage reload failed; the active triage file stays", "file=%s error=\"%s\"", path, d.msg);
    return;
  }
  pthread_mutex_lock(&p->qs_lock);
  bool kept = own(&p->tr_owned, t);
  if (kept) atomic_store(&p->tr_live, t);
  pthread_mutex_unlock(&p->qs_lock);
  if (!kept) {
    es_triage_destroy(t);
    atomic_fetch_add(&p->tr_reload_failures, 1);
    es_log_error("triage reload failed; the active triage file stays", "file=%s error=\"out of memory\"", path);
    return;
  }
  uint64_t n = atomic_fetch_add(&p->tr_reloads, 1) + 1;
  es_log_info("triage reloaded", "file=%s tracks=%zu situations=%zu reload=%llu", path, es_triage_track_count(t),
              es_situations_count(es_triage_situations(t)), (unsigned long long)n);
  r->running = t; /* (published: freed only once a later one is adopted, after this thread loaded it) */
  watch_triage(r, t); /* its lists may be other files now */
}

static void schedule_triage(reloader *r) {
  if (r->triage) uv_timer_start(&r->tdebounce, do_reload_triage, RELOAD_DEBOUNCE_MS, 0);
}

static void on_hup(uv_signal_t *s, int sig) {
  schedule(s->data);
  schedule_triage(s->data);
}

/* An event for the file's own name, or for a name starting with "..": a
 * Kubernetes ConfigMap or Secret volume updates by writing a new
 * timestamped directory and renaming a symbolic link "..data_tmp" over
 * "..data", which the file (itself a link into "..data") resolves
 * through; the file's own name sees no event then. */
static void on_change(uv_fs_event_t *e, const char *name, int events, int status) {
  reloader *r = e->data;
  if (status == 0 && (!name || !strcmp(name, r->base) || !strncmp(name, "..", 2))) schedule(r);
}

static void on_triage_change(uv_fs_event_t *e, const char *name, int events, int status) {
  twatch *w = e->data;
  if (status == 0 && (w->any || !name || !strcmp(name, w->base) || !strncmp(name, "..", 2))) schedule_triage(w->r);
}

static void free_twatch(uv_handle_t *h) { es_free(h->data); }

/* Watches the directories of the files triage t was read from (the last
 * set of watches closed). */
static void watch_triage(reloader *r, const es_triage *t) {
  for (size_t i = 0; i < r->ntw; i++) uv_close((uv_handle_t *)&r->tw[i]->ev, free_twatch);
  r->ntw = 0;
  const char *const *files;
  size_t n = es_triage_files(t, &files);
  for (size_t i = 0; i < n && r->ntw < TRIAGE_WATCHES; i++) {
    twatch *w = es_calloc(1, sizeof *w);
    char dir[4096], base[4096];
    if (!w) break;
    struct stat sb;
    w->r = r;
    w->any = !stat(files[i], &sb) && S_ISDIR(sb.st_mode);
    snprintf(dir, sizeof dir, "%s", files[i]);
    snprintf(base, sizeof base, "%s", files[i]);
    snprintf(w->base, sizeof w->base, "%s", basename(base));
    const char *watched = w->any ? files[i] : dirname(dir);
    uv_fs_event_init(&r->loop, &w->ev);
    w->ev.data = w;
    int we = uv_fs_event_start(&w->ev, on_triage_change, watched, 0);
    if (we) {
      es_log_warn("not watching a triage file; reload it with SIGHUP", "path=%s error=\"%s\"", watched, uv_strerror(we));
      uv_close((uv_handle_t *)&w->ev, free_twatch);
      continue;
    }
    r->tw[r->ntw++] = w;
  }
}

static void close_cb(uv_handle_t *h, void *arg) {
  if (uv_is_closing(h)) return;
  bool tw = h->type == UV_FS_EVENT && h->data != arg; /* a triage watch (owns its memory) */
  uv_close(h, tw ? free_twatch : NULL);
}

static void on_stop(uv_async_t *a) { uv_walk(a->loop, close_cb, a->data); }

static void *reload_main(void *arg) {
  reloader *r = arg;
  uv_run(&r->loop, UV_RUN_DEFAULT);
  uv_loop_close(&r->loop);
  return NULL;
}

int es__reload_start(es_pipe *p) {
  reloader *r = es_calloc(1, sizeof *r);
  if (!r) return ES_ENOMEM;
  r->p = p;
  r->path = p->cfg->queries;
  const char *slash = r->path ? strrchr(r->path, '/') : NULL;
  r->base = slash ? slash + 1 : r->path;
  char dir[4096];
  if (slash) snprintf(dir, sizeof dir, "%.*s", (int)(slash - r->path) ? (int)(slash - r->path) : 1, r->path);
  else snprintf(dir, sizeof dir, ".");
  if (uv_loop_init(&r->loop)) {
    es_free(r);
    return ES_EIO;
  }
  uv_timer_init(&r->loop, &r->debounce);
  uv_timer_init(&r->loop, &r->tdebounce);
  uv_signal_init(&r->loop, &r->hup);
  uv_async_init(&r->loop, &r->stop, on_stop);
  uv_fs_event_init(&r->loop, &r->watch);
  r->debounce.data = r->tdebounce.data = r->hup.data = r->watch.data = r->stop.data = r;
  uv_signal_start(&r->hup, on_hup, SIGHUP);
  if (r->path) {
    int we = uv_fs_event_start(&r->watch, on_change, dir, 0);
    if (we) es_log_warn("not watching the query file; reload with SIGHUP", "dir=%s error=\"%s\"", dir, uv_strerror(we));
    else es_log_info("reloading the queries on change and on SIGHUP", "file=%s", r->path);
  }
  if (p->triage && p->cfg->triage) { /* (before the thread starts: the aggregator's p->triage is read once here) */
    r->triage = true;
    r->running = p->triage;
    watch_triage(r, p->triage);
    es_log_info("reloading the triage file on change and on SIGHUP", "file=%s watched=%zu", p->cfg->triage, r->ntw);
  }
  p->reloader = r;
  if (pthread_create(&p->reload_thread, NULL, reload_main, r)) {
    uv_walk(&r->loop, close_cb, r);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    uv_loop_close(&r->loop);
    es_free(r);
    p->reloader = NULL;
    return ES_ETHREAD;
  }
  return 0;
}

void es__reload_stop(es_pipe *p) {
  reloader *r = p->reloader;
  if (!r) return;
  uv_async_send(&r->stop);
  pthread_join(p->reload_thread, NULL);
  signal(SIGHUP, SIG_IGN); /* closing the handle restored the default, which terminates */
  es_free(r);
  p->reloader = NULL;
}

/* Aggregator: batch b was matched with a set other than the one the
 * aggregator uses; adopt it. */
int es__reload_adopt(es_pipe *p, const es_queryset *next) {
  const es_queryset *prev = p->qs;
  size_t nq = es_queryset_count(next), ns = (size_t)p->cfg->windows.nsizes;
  int64_t *old_of_new = es_malloc((nq ? nq : 1) * sizeof *old_of_new);
  es_detect_state *det = es_calloc(nq * ns + 1, sizeof *det);
  if (!old_of_new || !det) goto oom;
  for (size_t j = 0; j < nq; j++) { /* by id: windows and baselines continue */
    const char *id = es_queryset_get(next, j)->id;
    old_of_new[j] = es_queryset_find(prev, id, strlen(id));
  }
  size_t onq = es_queryset_count(prev);
  int64_t *new_of_old = es_malloc((onq ? onq : 1) * sizeof *new_of_old);
  if (!new_of_old) goto oom;
  if (es_windows_remap(p->win, nq, old_of_new)) {
    es_free(new_of_old);
    goto oom;
  }
  /* mentions waiting for their triage decision name their queries */
  for (size_t q = 0; q < onq; q++) new_of_old[q] = -1;
  for (size_t j = 0; j < nq; j++)
    if (old_of_new[j] >= 0) new_of_old[old_of_new[j]] = (int64_t)j;
  es__triage_remap_queries(p, new_of_old, onq);
  es_free(new_of_old);
  for (size_t j = 0; j < nq; j++)
    if (old_of_new[j] >= 0) memcpy(&det[j * ns], &p->det[(size_t)old_of_new[j] * ns], ns * sizeof *det);
  es_free(p->det);
  p->det = det;
  if (p->sup_win) { /* exactly-once: what was published continues with its query */
    int64_t *sw = es_malloc((nq * ns + 1) * sizeof *sw), *sa = es_malloc((nq * ns + 1) * sizeof *sa);
    if (!sw || !sa) {
      es_free(sw);
      es_free(sa);
      es_free(old_of_new);
      return ES_ENOMEM;
    }
    for (size_t j = 0; j < nq; j++)
      for (size_t s = 0; s < ns; s++) {
        int64_t o = old_of_new[j];
        sw[j * ns + s] = o >= 0 ? p->sup_win[(size_t)o * ns + s] : INT64_MIN;
        sa[j * ns + s] = o >= 0 ? p->sup_alert[(size_t)o * ns + s] : INT64_MIN;
      }
    es_free(p->sup_win);
    es_free(p->sup_alert);
    p->sup_win = sw;
    p->sup_alert = sa;
  }
  es_free(old_of_new);
  if (p->triage) { /* crisis overrides name queries: bound to the new set */
    es_triage_bound *tb = es_triage_bind(p->triage, next);
    if (!tb) return ES_ENOMEM;
    es_triage_unbind(p->tbound);
    p->tbound = tb;
  }
  p->qs = next;
  /* Sets published before `next` can no longer be referred to by a batch. */
  pthread_mutex_lock(&p->qs_lock);
  es__owned_forget_before(&p->qs_owned, next, destroy_qs);
  pthread_mutex_unlock(&p->qs_lock);
  p->adopted++;
  return 0;
oom:
  es_free(old_of_new);
  es_free(det);
  return ES_ENOMEM;
}
