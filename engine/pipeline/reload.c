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
 * no batch can still refer to them (stamps are monotone in batch order). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "earshot/crash.h"
#include "earshot/log.h"
#include "pipeline_internal.h"

#define RELOAD_DEBOUNCE_MS 50

typedef struct reloader {
  es_pipe *p;
  uv_loop_t loop;
  uv_signal_t hup;
  uv_fs_event_t watch;
  uv_timer_t debounce;
  uv_async_t stop;
  const char *path, *base; /* the query file and its name within its directory */
  bool watching;
} reloader;

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
  if (p->nqs_owned == p->capqs_owned) {
    size_t cap = p->capqs_owned ? p->capqs_owned * 2 : 8;
    es_queryset **n = es_realloc(p->qs_owned, cap * sizeof *n);
    if (!n) {
      pthread_mutex_unlock(&p->qs_lock);
      es_queryset_destroy(qs);
      atomic_fetch_add(&p->reload_failures, 1);
      es_log_error("query reload failed; the active queries stay", "file=%s error=\"out of memory\"", r->path);
      return;
    }
    p->qs_owned = n;
    p->capqs_owned = cap;
  }
  p->qs_owned[p->nqs_owned++] = qs;
  atomic_store(&p->qs_live, qs);
  pthread_mutex_unlock(&p->qs_lock);
  uint64_t n = atomic_fetch_add(&p->reloads, 1) + 1;
  es_log_info("queries reloaded", "file=%s queries=%zu atoms=%zu reload=%llu", r->path, es_queryset_count(qs),
              es_queryset_atom_count(qs), (unsigned long long)n);
}

static void schedule(reloader *r) { uv_timer_start(&r->debounce, do_reload, RELOAD_DEBOUNCE_MS, 0); }

static void on_hup(uv_signal_t *s, int sig) { schedule(s->data); }

/* An event for the file's own name, or for a name starting with "..": a
 * Kubernetes ConfigMap or Secret volume updates by writing a new
 * timestamped directory and renaming a symbolic link "..data_tmp" over
 * "..data", which the file (itself a link into "..data") resolves
 * through; the file's own name sees no event then. */
static void on_change(uv_fs_event_t *e, const char *name, int events, int status) {
  reloader *r = e->data;
  if (status == 0 && (!name || !strcmp(name, r->base) || !strncmp(name, "..", 2))) schedule(r);
}

static void close_cb(uv_handle_t *h, void *arg) {
  if (!uv_is_closing(h)) uv_close(h, NULL);
}

static void on_stop(uv_async_t *a) { uv_walk(a->loop, close_cb, NULL); }

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
  const char *slash = strrchr(r->path, '/');
  r->base = slash ? slash + 1 : r->path;
  char dir[4096];
  if (slash) snprintf(dir, sizeof dir, "%.*s", (int)(slash - r->path) ? (int)(slash - r->path) : 1, r->path);
  else snprintf(dir, sizeof dir, ".");
  if (uv_loop_init(&r->loop)) {
    es_free(r);
    return ES_EIO;
  }
  uv_timer_init(&r->loop, &r->debounce);
  uv_signal_init(&r->loop, &r->hup);
  uv_async_init(&r->loop, &r->stop, on_stop);
  uv_fs_event_init(&r->loop, &r->watch);
  r->debounce.data = r->hup.data = r->watch.data = r->stop.data = r;
  uv_signal_start(&r->hup, on_hup, SIGHUP);
  int we = uv_fs_event_start(&r->watch, on_change, dir, 0);
  if (we) es_log_warn("not watching the query file; reload with SIGHUP", "dir=%s error=\"%s\"", dir, uv_strerror(we));
  else es_log_info("reloading the queries on change and on SIGHUP", "file=%s", r->path);
  p->reloader = r;
  if (pthread_create(&p->reload_thread, NULL, reload_main, r)) {
    uv_walk(&r->loop, close_cb, NULL);
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
  if (es_windows_remap(p->win, nq, old_of_new)) goto oom;
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
  size_t keep = 0;
  for (size_t i = 0; i < p->nqs_owned; i++) {
    if (p->qs_owned[i] == next) {
      keep = i;
      break;
    }
  }
  for (size_t i = 0; i < keep; i++) es_queryset_destroy(p->qs_owned[i]);
  memmove(p->qs_owned, p->qs_owned + keep, (p->nqs_owned - keep) * sizeof *p->qs_owned);
  p->nqs_owned -= keep;
  pthread_mutex_unlock(&p->qs_lock);
  p->adopted++;
  return 0;
oom:
  es_free(old_of_new);
  es_free(det);
  return ES_ENOMEM;
}
