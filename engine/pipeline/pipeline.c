/* es_replay: sets up one pipeline run (outputs, batch pool, rings, worker
 * state), starts the ingest and worker threads, runs the aggregator on the
 * calling thread, joins everything and sums the per-thread counters.
 * Teardown has one path, in reverse order of setup. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "earshot/log.h"
#include "earshot/timeutil.h"
#include "pipeline_internal.h"

es_batch *es__batch_create(void) {
  es_batch *b = es_calloc(1, sizeof *b);
  if (!b) return NULL;
  b->data = es_malloc(ES_BATCH_BYTES);
  if (!b->data) {
    es_free(b);
    return NULL;
  }
  es_arena_init(&b->arena, 65536);
  es_buf_init(&b->dlq);
  es_buf_init(&b->enriched);
  return b;
}

void es__batch_destroy(es_batch *b) {
  if (!b) return;
  es_free(b->data);
  es_free(b->hits);
  es_arena_destroy(&b->arena);
  es_buf_free(&b->dlq);
  es_buf_free(&b->enriched);
  es_buf_free(&b->triage);
  es_free(b->dlqm);
  es_free(b->enrm);
  es_free(b->trm);
  es_free(b);
}

es_batch *es__batch_take(es_pipe *p) {
  void *b;
  es_ring_pop(&p->free_batches, &b, -1);
  es__batch_reset(b);
  return b;
}

void es__batch_dispatch(es_pipe *p, es_batch *b, uint64_t *seq) {
  b->seq = *seq;
  b->qs = atomic_load(&p->qs_live);
  b->tr = atomic_load(&p->tr_live);
  es_ring_push(&p->to_worker[*seq % (uint64_t)p->nworkers], b);
  ++*seq;
}

void es__batch_reset(es_batch *b) {
  b->eof = false;
  b->barrier = false;
  b->restore_wm = INT64_MIN;
  b->len = 0;
  b->nlines = 0;
  b->nhits = 0;
  es_arena_reset(&b->arena);
  es_buf_clear(&b->dlq);
  es_buf_clear(&b->enriched);
  es_buf_clear(&b->triage);
  b->ndlq = b->nenr = b->ntr = 0;
}

void es_input_destroy(es_input *in) {
  if (in) in->destroy(in->ctx);
}

/* Adds a sink to the run (the pipeline owns those it created). */
static int add_sink(es_pipe *p, es_sink *s) {
  es_sink **n = es_realloc(p->sinks, (p->nsinks + 1) * sizeof *n);
  if (!n) return -1;
  p->sinks = n;
  p->sinks[p->nsinks++] = s;
  p->sink_wants |= s->wants;
  return 0;
}

/* The outputs cfg asks for, as sinks. With Kafka the records go to topics:
 * a file or stdout copy of the windows only when asked, dead letters to a
 * file only when dlq_output is set. */
static int own_sinks(es_pipe *p, const es_config *cfg, bool kafka, es_diag *d) {
  es_sink *s[5] = {0};
  int n = 0;
  if (!kafka || cfg->output) {
    const char *out = cfg->output ? cfg->output : "-";
    if (!(s[n++] = cfg->pretty ? es_sink_pretty_create(out, d) : es_sink_json_create(out, true, d))) goto fail;
  }
  if (cfg->alerts_output && !(s[n++] = es_sink_alerts_create(cfg->alerts_output, d))) goto fail;
  if (cfg->enriched_output && !(s[n++] = es_sink_enriched_create(cfg->enriched_output, d))) goto fail;
  if (cfg->triage_output && p->triage && !(s[n++] = es_sink_triage_create(cfg->triage_output, d))) goto fail;
  if ((!kafka || cfg->dlq_output) &&
      !(s[n++] = es_sink_dead_create(cfg->dlq_output ? cfg->dlq_output : "earshot.dlq.jsonl", d)))
    goto fail;
  for (int i = 0; i < n; i++)
    if (add_sink(p, s[i])) {
      for (int k = i; k < n; k++) es_sink_destroy(s[k]);
      return es_diag_set(d, ES_ENOMEM, "out of memory while setting up the outputs");
    }
  p->nown_sinks = (size_t)n;
  return 0;
fail:
  for (int i = 0; i < n; i++) es_sink_destroy(s[i]);
  return d->msg[0] && strstr(d->msg, "out of memory") ? ES_ENOMEM : ES_EIO;
}

int es_replay(const es_config *cfg, const es_queryset *qs, const es_lexicon *lex, volatile int *stop,
              es_pipeline_stats *st, es_diag *d) {
  return es_pipeline_run(cfg, qs, lex, NULL, stop, st, d);
}

int es_pipeline_run(const es_config *cfg, const es_queryset *qs, const es_lexicon *lex, const es_run_io *io,
                    volatile int *stop, es_pipeline_stats *st, es_diag *d) {
  es_pipe p;
  memset(&p, 0, sizeof p);
  memset(st, 0, sizeof *st);
  p.cfg = cfg;
  p.qs = qs;
  atomic_store(&p.qs_live, qs);
  pthread_mutex_init(&p.qs_lock, NULL);
  p.lex = lex;
  p.stop = stop;
  p.st = st;
  p.diag = d;
  p.nworkers = cfg->workers < 1 ? 1 : cfg->workers > ES_MAX_WORKERS ? ES_MAX_WORKERS : cfg->workers;
  p.in_fd = -1;
  p.input = io ? io->input : NULL;
  p.triage = io ? io->triage : NULL;
  atomic_store(&p.tr_live, p.triage);
  es_buf_init(&p.dbuf);
  es_buf_init(&p.wbuf);
  int rc = 0, started_workers = 0;
  bool ingest_started = false;
  size_t nq = es_queryset_count(qs);

  if (p.input) {
    p.topics = p.input->topics;
    p.source = p.input->name;
  } else {
    const char *in = cfg->input ? cfg->input : "-";
    p.source = strcmp(in, "-") ? in : "stdin";
    p.in_fd = strcmp(in, "-") ? open(in, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
    if (p.in_fd < 0) {
      rc = es_diag_set(d, ES_EIO, "cannot open the input '%s': %s", in, strerror(errno));
      goto done;
    }
    struct stat sb;
    if (fstat(p.in_fd, &sb) == 0 && S_ISREG(sb.st_mode)) p.in_size = (uint64_t)sb.st_size;
  }
  p.progress_tty = cfg->progress && isatty(STDERR_FILENO) && p.in_size;
  if ((rc = own_sinks(&p, cfg, p.input != NULL, d))) goto done;
  if (p.input && p.input->sink && add_sink(&p, p.input->sink)) goto oom;
  for (size_t i = 0; io && i < io->nsinks; i++)
    if (add_sink(&p, io->sinks[i])) goto oom;
  p.want_enriched = (p.sink_wants & ES_SINK_ENRICHED) != 0;
  p.want_triage = p.triage && (p.sink_wants & ES_SINK_TRIAGE) != 0;
  es_buf_init(&p.tbuf);
  es_buf_init(&p.pbuf);
  for (size_t k = 0; p.triage && k < es_situations_count(es_triage_situations(p.triage)); k++)
    p.sitnames[k] = es_situation_name(es_triage_situations(p.triage), k);
  for (size_t k = 0; p.triage && k < es_triage_track_count(p.triage); k++) p.trknames[k] = es_triage_track_name(p.triage, k);
  if (p.triage && (!(p.tbound = es_triage_bind(p.triage, qs)) || !(p.tstate = es_triage_state_create(p.triage)) ||
                   !(p.chist = es_calloc(es_triage_crisis_count(p.triage) * (size_t)cfg->windows.nsizes + 1,
                                         es__crisis_hist_size()))))
    goto oom;
  for (size_t i = 0; i < p.nsinks && !p.status; i++)
    if (p.sinks[i]->ops->status && !(p.status = es_calloc(1, sizeof *p.status))) goto oom;

  es_window_opts wo = cfg->windows;
  wo.manual_advance = p.input != NULL;
  p.win = es_windows_create(&wo, nq, es__pipe_window_sink, &p);
  if (p.win && p.triage) es_windows_before_close(p.win, es__triage_before_close, &p);
  p.det = es_calloc(nq * (size_t)cfg->windows.nsizes + 1, sizeof *p.det);
  if (!p.win || !p.det) goto oom;
  if (p.input && (rc = p.input->attach(p.input, &p, d))) goto done;

  /* Pool: 4 batches in flight per worker plus one end marker each, one being
   * filled by ingest and one being consumed by the aggregator. */
  p.nbatches = (size_t)p.nworkers * 5 + 2;
  p.batches = es_calloc(p.nbatches, sizeof *p.batches);
  uint32_t ring_cap = 8;
  while (ring_cap < p.nbatches) ring_cap *= 2;
  if (!p.batches || es_ring_init(&p.free_batches, ring_cap)) goto oom;
  for (size_t i = 0; i < p.nbatches; i++) {
    if (!(p.batches[i] = es__batch_create())) goto oom;
    es_ring_push(&p.free_batches, p.batches[i]);
  }
  p.workers = es_calloc((size_t)p.nworkers, sizeof *p.workers);
  if (!p.workers) goto oom;
  es_decode_opts dopts = cfg->decode;
  for (int f = 0; f < ES_F_COUNT; f++) dopts.paths[f] = cfg->fields[f];
  for (int i = 0; i < p.nworkers; i++) {
    es_worker *w = &p.workers[i];
    w->p = &p;
    w->index = i;
    es_fold_init(&w->fold);
    w->fold.strip_marks = es_queryset_accent_insensitive(qs);
    if (es_ring_init(&p.to_worker[i], 8) || es_ring_init(&p.from_worker[i], 8)) goto oom;
    w->dec = es_decoder_create(&dopts, d);
    if (!w->dec) {
      rc = ES_ECONFIG;
      goto done;
    }
    w->qs = qs;
    w->rt = es_match_rt_create(qs);
    w->srt = es_sentiment_rt_create();
    w->qbuf = es_malloc((nq ? nq : 1) * sizeof *w->qbuf);
    if (!w->rt || !w->srt || !w->qbuf) goto oom;
    w->tr = p.triage;
    if (p.triage && (!(w->tb = es_triage_bind(p.triage, qs)) ||
                     !(w->sitrt = es_situations_rt_create(es_triage_situations(p.triage)))))
      goto oom;
  }
  for (; started_workers < p.nworkers; started_workers++)
    if (pthread_create(&p.workers[started_workers].thread, NULL, es__worker_main, &p.workers[started_workers])) {
      rc = es_diag_set(d, ES_ETHREAD, "cannot start worker thread %d", started_workers);
      goto done;
    }
  if ((cfg->queries || (p.triage && cfg->triage)) && cfg->reload && es__reload_start(&p))
    es_log_warn("hot reload is off: cannot start its thread", "queries=%s triage=%s", cfg->queries ? cfg->queries : "-",
                p.triage ? cfg->triage : "-");
  if (pthread_create(&p.ingest, NULL, p.input ? p.input->ingest_main : es__ingest_main, &p)) {
    rc = es_diag_set(d, ES_ETHREAD, "cannot start the ingest thread");
    goto done;
  }
  ingest_started = true;
  int64_t t0 = es_time_mono_ms();
  rc = es__aggregate(&p);
  st->seconds = (double)(es_time_mono_ms() - t0) / 1000.0;
  goto done;
oom:
  rc = es_diag_set(d, ES_ENOMEM, "out of memory while setting up the pipeline");
done:
  if (ingest_started) pthread_join(p.ingest, NULL);
  if (!ingest_started && started_workers) {
    /* Workers wait for batches that will never come: send end markers. */
    for (int i = 0; i < started_workers; i++) {
      es_batch *b = NULL;
      void *v;
      es_ring_pop(&p.free_batches, &v, -1);
      b = v;
      es__batch_reset(b);
      b->eof = true;
      es_ring_push(&p.to_worker[i], b);
    }
  }
  for (int i = 0; i < started_workers; i++) pthread_join(p.workers[i].thread, NULL);
  es__reload_stop(&p);
  if (atomic_load(&p.reloads) || atomic_load(&p.reload_failures))
    es_log_info("query reloads", "adopted=%llu loaded=%llu failed=%llu", (unsigned long long)p.adopted,
                (unsigned long long)atomic_load(&p.reloads), (unsigned long long)atomic_load(&p.reload_failures));
  if (atomic_load(&p.tr_reloads) || atomic_load(&p.tr_reload_failures))
    es_log_info("triage reloads", "adopted=%llu loaded=%llu failed=%llu", (unsigned long long)p.tr_adopted,
                (unsigned long long)atomic_load(&p.tr_reloads), (unsigned long long)atomic_load(&p.tr_reload_failures));
  if (!rc && p.ingest_err) rc = es_diag_set(d, p.ingest_err, "reading the input '%s' failed", p.source);
  st->workers = p.nworkers;
  for (int i = 0; p.workers && i < p.nworkers; i++) {
    es_worker *w = &p.workers[i];
    st->lines += ES_READ(w->c.lines);
    st->accepted += ES_READ(w->c.accepted);
    st->matched += ES_READ(w->c.matched);
    st->hits += ES_READ(w->c.hits);
    for (int r = 0; r < ES_REASON_COUNT; r++) st->reasons[r] += ES_READ(w->c.reasons[r]);
    es_decoder_destroy(w->dec);
    es_fold_free(&w->fold);
    es_match_rt_destroy(w->rt);
    es_sentiment_rt_destroy(w->srt);
    es_free(w->qbuf);
    es_triage_unbind(w->tb);
    es_situations_rt_destroy(w->sitrt);
    es_ring_free(&p.to_worker[i]);
    es_ring_free(&p.from_worker[i]);
  }
  es_free(p.workers);
  for (size_t i = 0; p.batches && i < p.nbatches; i++) es__batch_destroy(p.batches[i]);
  es_free(p.batches);
  es_ring_free(&p.free_batches);
  es_windows_destroy(p.win);
  es_free(p.det);
  es_free(p.sup_win);
  es_free(p.sup_alert);
  es_buf_free(&p.dbuf);
  es_buf_free(&p.wbuf);
  es_buf_free(&p.tbuf);
  es_buf_free(&p.pbuf);
  es_free(p.pend);
  es_free(p.chist);
  if (p.tstate) {
    es_triage_counts_get(p.tstate, &st->triage);
    for (size_t k = 0; k < es_triage_track_count(p.triage); k++) {
      st->triage_late += es_triage_sla_counts_get(p.tstate, k)->late;
      st->triage_unanswered += es_triage_sla_counts_get(p.tstate, k)->unanswered;
    }
    st->sla_events = p.sla_events;
  }
  es_triage_state_destroy(p.tstate);
  es_triage_unbind(p.tbound);
  for (size_t i = 0; i < p.tr_owned.n; i++) es_triage_destroy(p.tr_owned.v[i]);
  es_free(p.tr_owned.v);
  es_free(p.status);
  for (size_t i = 0; i < p.qs_owned.n; i++) es_queryset_destroy(p.qs_owned.v[i]);
  es_free(p.qs_owned.v);
  pthread_mutex_destroy(&p.qs_lock);
  /* The first output that failed, unless the run failed otherwise. */
  for (size_t i = 0; i < p.nsinks; i++)
    if (p.sinks[i]->err && !rc) rc = es_diag_set(d, p.sinks[i]->err, "%s", p.sinks[i]->diag.msg);
  for (size_t i = 0; i < p.nown_sinks; i++) es_sink_destroy(p.sinks[i]);
  es_free(p.sinks);
  if (p.in_fd > 0) close(p.in_fd);
  return rc;
}
