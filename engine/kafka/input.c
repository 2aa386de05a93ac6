/* Kafka as one es_input of the pipeline (include/earshot/kafka.h): the
 * consumer group as its ingest thread and watermarks, the producer as its
 * sink, commits in its tick. Aggregator thread, except ingest_main. */
#include <string.h>

#include "earshot/kafka.h"
#include "earshot/mem.h"
#include "kafka_internal.h"

typedef struct kinput {
  es_input in;
  es_sink sink; /* the producer: windows, alerts, early updates, enriched mentions, triage records, dead letters */
  es_kafka *k;
  es_buf buf;   /* one window record, when the pipeline gave none to share */
} kinput;

static kinput *of_sink(es_sink *s) { return (kinput *)(void *)((char *)s - offsetof(kinput, sink)); }

static void k_window(es_sink *s, const es_sink_window *e) {
  kinput *ki = of_sink(s);
  const es_buf *j = es_sink_window_json(e, &ki->buf);
  if (!e->d) {
    es__kafka_early(ki->k, e->q, j->data, j->len);
    return;
  }
  bool alert = e->d->alert_state != ES_ALERT_NONE; /* opened, updated or resolved */
  es__kafka_window(ki->k, e->q, e->w, e->st, j->data, j->len, alert && !e->alert_published, alert);
}

static void k_enriched(es_sink *s, const char *key, size_t kn, const char *json, size_t n) {
  es__kafka_enriched(of_sink(s)->k, key, kn, json, n);
}

static void k_triage(es_sink *s, const char *key, size_t kn, const char *json, size_t n) {
  es__kafka_triage(of_sink(s)->k, key, kn, json, n);
}

static void k_sla(es_sink *s, const char *key, size_t kn, const char *json, size_t n) {
  es__kafka_sla(of_sink(s)->k, key, kn, json, n);
}

static void k_dead(es_sink *s, const es_sink_dead *e) { es__kafka_dead(of_sink(s)->k, e); }

/* Delivery is the input's tick: it flushes the producer before committing. */
static void k_nothing(es_sink *s) { (void)s; }

static const es_sink_ops sink_ops = {
    .window = k_window, .enriched = k_enriched, .triage = k_triage, .sla = k_sla, .dead = k_dead, .flush = k_nothing, .finish = k_nothing,
    .destroy = k_nothing};

/* Exactly-once restart: what the output topics already hold, before any
 * thread starts. */
static int k_attach(es_input *in, es_pipe *p, es_diag *d) {
  kinput *ki = (kinput *)in;
  if (!p->cfg->kafka.exactly_once) return 0;
  size_t ns = (size_t)p->cfg->windows.nsizes, n = es_queryset_count(p->qs) * ns + 1;
  p->sup_win = es_malloc(n * sizeof *p->sup_win);
  p->sup_alert = es_malloc(n * sizeof *p->sup_alert);
  if (!p->sup_win || !p->sup_alert) return es_diag_set(d, ES_ENOMEM, "out of memory while setting up the pipeline");
  for (size_t i = 0; i < n; i++) p->sup_win[i] = p->sup_alert[i] = INT64_MIN;
  if (es__kafka_resume(ki->k, p, d)) return ES_EIO;
  /* Alerts that were open when the earlier run stopped still need their
   * quiet windows. */
  for (size_t i = 0; i < n; i++)
    if (p->det[i].alert_open) es_windows_watch(p->win, (uint32_t)(i / ns), (int)(i % ns), true);
  return 0;
}

static void *k_ingest(void *arg) {
  es_pipe *p = arg;
  return es__kafka_ingest(((kinput *)p->input->ctx)->k, p);
}

static void k_sync(void *ctx, int64_t now_wall) { es__kafka_sync_assignment(((kinput *)ctx)->k, now_wall); }

static void k_track(void *ctx, const es_batch *b, uint32_t rec, int64_t ts, int64_t mark, int64_t now_wall) {
  es__kafka_track(((kinput *)ctx)->k, b, rec, ts, mark, now_wall);
}

static int64_t k_event_time(void *ctx, int64_t now_wall, int64_t idle_ms) {
  return es__kafka_event_time(((kinput *)ctx)->k, now_wall, idle_ms);
}

static void k_drained(void *ctx, const es_batch *b, int64_t watermark) {
  es__kafka_drained(((kinput *)ctx)->k, b, watermark);
}

static void k_status(void *ctx, es_sink_status *st) { es__kafka_status(((kinput *)ctx)->k, st); }

static int k_tick(void *ctx, int64_t watermark, int64_t now_ms, bool force, es_diag *d) {
  if (!es__kafka_tick(((kinput *)ctx)->k, watermark, now_ms, force)) return 0;
  return es_diag_set(d, ES_EIO, "some output records were not delivered to Kafka; offsets behind them were not committed");
}

static void k_destroy(void *ctx) {
  kinput *ki = ctx;
  es__kafka_destroy(ki->k);
  es_buf_free(&ki->buf);
  es_free(ki);
}

es_input *es_kafka_input_create(const es_config *cfg, es_diag *d) {
  if (!cfg->kafka.ntopics) {
    es_diag_set(d, ES_ECONFIG, "no input topic: pass --topic NAME or set kafka.topics");
    return NULL;
  }
  kinput *ki = es_calloc(1, sizeof *ki);
  if (!ki) {
    es_diag_set(d, ES_ENOMEM, "out of memory while setting up Kafka");
    return NULL;
  }
  if (!(ki->k = es__kafka_create(cfg, d))) {
    es_free(ki);
    return NULL;
  }
  es_buf_init(&ki->buf);
  ki->sink = (es_sink){.ops = &sink_ops, .name = "the Kafka outputs",
                       .wants = ES_SINK_WINDOWS | ES_SINK_EARLY | ES_SINK_DEAD |
                                (cfg->kafka.enriched_topic ? ES_SINK_ENRICHED : 0) |
                                (cfg->kafka.triage_topic ? ES_SINK_TRIAGE : 0) | ES_SINK_SLA};
  ki->in = (es_input){.ctx = ki, .name = "kafka", .topics = (const char *const *)cfg->kafka.topics,
                      .sink = &ki->sink, .attach = k_attach, .ingest_main = k_ingest, .sync = k_sync,
                      .track = k_track, .event_time = k_event_time, .drained = k_drained, .status = k_status, .tick = k_tick,
                      .destroy = k_destroy};
  return &ki->in;
}
