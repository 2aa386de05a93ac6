/* Kafka client side of `earshot run` (see kafka_internal.h).
 *
 * Input: a high-level consumer in a consumer group (cooperative-sticky
 * assignor by default, so a member joining or leaving moves only the
 * partitions that change owner; the eager assignors work too), read
 * in batches of up to 1,024 messages with rd_kafka_consume_batch_queue.
 * Each message becomes one record of a pipeline batch, with its topic,
 * partition, offset and timestamp. librdkafka's fetch queue is capped
 * (queued.max.messages.kbytes), so when the workers fall behind the ingest
 * blocks on the batch pool and fetching stops at that cap: bounded memory.
 *
 * Output: one idempotent producer; window and alert records keyed by query
 * id, enriched mentions by mention id, dead letters carry the original
 * bytes with reason and source position in headers. Every record carries a
 * `schema` header.
 *
 * Delivery (at-least-once): an input offset is committed only when every
 * window that may contain its mention has closed and every record produced
 * so far has been acknowledged (the producer is flushed before each
 * commit). The commit metadata carries the watermark, so a restarted engine
 * does not emit those windows again from partial input. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/crash.h"
#include "earshot/log.h"
#include "earshot/timeutil.h"
#include "kafka_internal.h"

#define META_PREFIX "earshot-wm="

static int set(rd_kafka_conf_t *conf, const char *k, const char *v, es_diag *d) {
  char err[512];
  if (rd_kafka_conf_set(conf, k, v, err, sizeof err) != RD_KAFKA_CONF_OK)
    return es_diag_set(d, ES_ECONFIG, "kafka property %s=%s: %s", k, v, err);
  return 0;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  es_kafka *k = opaque;
  if (m->err) {
    k->failed++;
    if (k->failed - k->failed_reported < 10)
      es_log_error("kafka delivery failed", "topic=%s error=\"%s\"", rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
  } else {
    k->delivered++;
  }
}

/* Commit results, on the ingest thread (it polls the consumer). */
static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *offsets, void *opaque) {
  es_kafka *k = opaque;
  if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
    atomic_store(&k->commit_failed, true);
    es_log_warn("kafka commit failed; retried at the next interval", "error=\"%s\"", rd_kafka_err2str(err));
  }
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
  /* librdkafka's own warnings (broker down, retries) as structured logs.
   * Properties are given to both clients; the one that ignores a property
   * says so, which is expected. */
  if (!strcmp(fac, "CONFWARN") && strstr(buf, "will be ignored by this")) return;
  es_log(level <= 3 ? ES_LOG_ERROR : ES_LOG_WARN, "kafka", "facility=%s detail=\"%s\"", fac, buf);
}

/* The watermark committed with the partitions' offsets: the largest, since
 * each commit carries the watermark of its moment and a partition whose
 * position did not move keeps an older one. Every window ending at or
 * before it was published; every record before a committed offset belongs
 * only to such windows. */
static int64_t restore_mark(rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *parts) {
  rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_copy(parts);
  int64_t mark = INT64_MIN;
  bool any = false;
  if (rd_kafka_committed(rk, c, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < c->cnt; i++) {
      const rd_kafka_topic_partition_t *tp = &c->elems[i];
      if (tp->offset < 0 || !tp->metadata || tp->metadata_size <= strlen(META_PREFIX)) continue;
      char buf[64];
      size_t n = tp->metadata_size < sizeof buf - 1 ? tp->metadata_size : sizeof buf - 1;
      memcpy(buf, tp->metadata, n);
      buf[n] = 0;
      long long v;
      if (sscanf(buf, META_PREFIX "%lld", &v) == 1) {
        any = true;
        if (v > mark) mark = v;
      }
    }
  }
  rd_kafka_topic_partition_list_destroy(c);
  return any ? mark : INT64_MIN;
}

/* Keeps k->own equal to the partitions this process holds (ingest thread). */
static void track_assignment(es_kafka *k, const rd_kafka_topic_partition_list_t *parts, bool assign, bool all) {
  pthread_mutex_lock(&k->lock);
  if (all) k->nown = 0;
  for (int i = 0; i < parts->cnt; i++) {
    es_kafka_tp tp = {.topic = -1, .partition = parts->elems[i].partition, .end = -1};
    for (int t = 0; t < k->kc->ntopics; t++)
      if (!strcmp(k->kc->topics[t], parts->elems[i].topic)) tp.topic = t;
    size_t j = 0;
    while (j < k->nown && (k->own[j].topic != tp.topic || k->own[j].partition != tp.partition)) j++;
    if (!assign) {
      if (j < k->nown) k->own[j] = k->own[--k->nown];
    } else if (j == k->nown) {
      if (k->nown == k->capown) {
        size_t cap = k->capown ? k->capown * 2 : 64;
        es_kafka_tp *n = es_realloc(k->own, cap * sizeof *n);
        if (!n) break; /* OOM: the partition counts once it delivers */
        k->own = n;
        k->capown = cap;
      }
      k->own[k->nown++] = tp;
    }
  }
  atomic_fetch_add(&k->epoch, 1);
  pthread_mutex_unlock(&k->lock);
}

/* The consumer reached the end of a partition (ingest thread): an empty
 * partition must not hold event time back. */
static void mark_at_end(es_kafka *k, const rd_kafka_message_t *m) {
  const char *topic = rd_kafka_topic_name(m->rkt);
  pthread_mutex_lock(&k->lock);
  for (size_t j = 0; j < k->nown; j++)
    if (k->own[j].partition == m->partition && k->own[j].topic >= 0 &&
        !strcmp(k->kc->topics[k->own[j].topic], topic) && k->own[j].end != m->offset) {
      k->own[j].end = m->offset;
      atomic_fetch_add(&k->epoch, 1);
    }
  pthread_mutex_unlock(&k->lock);
}

/* Hands the batch being filled and a barrier to the pipeline and waits
 * until the aggregator has committed behind the barrier (ingest thread, in
 * the rebalance callback). */
static void drain(es_kafka *k) {
  es_pipe *p = k->p;
  if (k->cur->nlines) {
    es__batch_dispatch(p, k->cur, &k->seq);
    k->cur = es__batch_take(p);
  }
  es_batch *bar = es__batch_take(p);
  bar->barrier = true;
  uint64_t want = k->seq + 1;
  es__batch_dispatch(p, bar, &k->seq);
  int64_t t0 = es_time_mono_ms();
  pthread_mutex_lock(&k->lock);
  while (k->drained < want) pthread_cond_wait(&k->drained_cv, &k->lock);
  pthread_mutex_unlock(&k->lock);
  es_log_info("drained before revocation", "ms=%" PRId64, es_time_mono_ms() - t0);
}

void es__kafka_drained(es_kafka *k, const es_batch *b, int64_t watermark) {
  es__kafka_tick(k, watermark, es_time_mono_ms(), true);
  pthread_mutex_lock(&k->lock);
  if (b->seq + 1 > k->drained) k->drained = b->seq + 1;
  pthread_cond_broadcast(&k->drained_cv);
  pthread_mutex_unlock(&k->lock);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
                         void *opaque) {
  es_kafka *k = opaque;
  bool coop = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
  for (int i = 0; i < parts->cnt; i++)
    es_log_info(err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS ? "partition assigned" : "partition revoked",
                "topic=%s partition=%d", parts->elems[i].topic, (int)parts->elems[i].partition);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    es_crash_point("assigned");
    int64_t mark = restore_mark(rk, parts);
    if (mark > k->pending_restore) k->pending_restore = mark;
    track_assignment(k, parts, true, !coop);
    rd_kafka_error_t *e = NULL;
    if (coop) e = rd_kafka_incremental_assign(rk, parts);
    else rd_kafka_assign(rk, parts);
    if (e) {
      es_log_error("kafka assign failed", "error=\"%s\"", rd_kafka_error_string(e));
      rd_kafka_error_destroy(e);
    }
  } else {
    /* Work already read from revoked partitions is finished and delivered
     * by this process. Cooperative: before letting them go, wait until the
     * pipeline has consumed everything read so far and committed what is
     * committable (the coordinator accepts commits here; with the eager
     * protocol it refuses them during a rebalance). Offsets still
     * uncommitted (windows not closed yet) are read again by the new owner
     * (at-least-once). */
    /* With no broker reachable (the statistics of the last second say so)
     * nothing can be flushed or committed: no drain, whose flush would
     * wait on brokers that are down. What was read and not committed is
     * read again by the next owner (at-least-once). */
    pthread_mutex_lock(&k->lock);
    bool unreachable = k->cstats.seen && k->cstats.brokers_up == 0;
    pthread_mutex_unlock(&k->lock);
    if (unreachable)
      es_log_warn("partitions revoked while no broker is reachable: not drained; their uncommitted records will be "
                  "read again", "count=%d", parts->cnt);
    if (coop && k->draining && !unreachable) drain(k);
    track_assignment(k, parts, false, !coop);
    if (coop) {
      rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
      if (e) rd_kafka_error_destroy(e);
    } else {
      rd_kafka_assign(rk, NULL);
    }
  }
}

es_kafka *es__kafka_create(const es_config *cfg, es_diag *d) {
  const es_kafka_config *kc = &cfg->kafka;
  es_kafka *k = es_calloc(1, sizeof *k);
  if (!k) return NULL;
  k->kc = kc;
  k->pending_restore = INT64_MIN;
  k->sent_wm = INT64_MIN;
  k->kc_idle_ms = cfg->windows.idle_flush_ms;
  pthread_mutex_init(&k->lock, NULL);
  pthread_cond_init(&k->drained_cv, NULL);
  char err[512];
  rd_kafka_conf_t *cc = rd_kafka_conf_new(), *pc = rd_kafka_conf_new();
  /* Defaults first, then the user's properties over them. Prefetching stays
   * at librdkafka's default cap (queued.max.messages.kbytes, 64 MiB): a
   * 16 MiB cap made the fetcher back off and held consumption near
   * 40,000 records/s on the embedded broker. */
  if (set(cc, "bootstrap.servers", kc->brokers, d) || set(cc, "group.id", kc->group ? kc->group : "earshot", d) ||
      set(cc, "enable.auto.commit", "false", d) || set(cc, "enable.auto.offset.store", "false", d) ||
      set(cc, "auto.offset.reset", "earliest", d) ||
      set(cc, "partition.assignment.strategy", "cooperative-sticky", d) ||
      set(cc, "enable.partition.eof", "true", d) ||
      set(cc, "fetch.wait.max.ms", "100", d) ||
      set(pc, "bootstrap.servers", kc->brokers, d) || set(pc, "enable.idempotence", "true", d) ||
      set(pc, "linger.ms", "5", d) ||
      /* Statistics every second: readiness (brokers up, group joined),
       * consumer lag for the metrics. */
      set(cc, "statistics.interval.ms", "1000", d) || set(pc, "statistics.interval.ms", "1000", d))
    goto fail_conf;
  for (int i = 0; i < kc->nprops; i++) {
    /* A property belongs to the consumer, the producer or both; librdkafka
     * tells which by refusing it where it does not apply. */
    char e1[512], e2[512];
    rd_kafka_conf_res_t r1 = rd_kafka_conf_set(cc, kc->props[i][0], kc->props[i][1], e1, sizeof e1);
    rd_kafka_conf_res_t r2 = rd_kafka_conf_set(pc, kc->props[i][0], kc->props[i][1], e2, sizeof e2);
    if (r1 != RD_KAFKA_CONF_OK && r2 != RD_KAFKA_CONF_OK) {
      /* librdkafka's message may quote the value: not for a secret. */
      bool secret = es_config_secret_key(kc->props[i][0]);
      es_diag_set(d, ES_ECONFIG, "kafka.properties: %s=%s: %s", kc->props[i][0], secret ? "[redacted]" : kc->props[i][1],
                  secret ? "refused by librdkafka" : e1);
      goto fail_conf;
    }
  }
  rd_kafka_conf_set_opaque(cc, k);
  rd_kafka_conf_set_opaque(pc, k);
  rd_kafka_conf_set_rebalance_cb(cc, on_rebalance);
  rd_kafka_conf_set_offset_commit_cb(cc, on_commit);
  rd_kafka_conf_set_dr_msg_cb(pc, on_delivery);
  rd_kafka_conf_set_log_cb(cc, on_log);
  rd_kafka_conf_set_log_cb(pc, on_log);
  rd_kafka_conf_set_stats_cb(cc, es__kafka_on_stats);
  rd_kafka_conf_set_stats_cb(pc, es__kafka_on_stats);
  k->producer = rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof err);
  pc = NULL; /* owned by rd_kafka_new from here, even on failure */
  if (!k->producer) {
    es_diag_set(d, ES_ECONFIG, "cannot create the Kafka producer: %s", err);
    rd_kafka_conf_destroy(cc);
    goto fail;
  }
  k->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cc, err, sizeof err);
  cc = NULL; /* owned by rd_kafka_new from here */
  if (!k->consumer) {
    es_diag_set(d, ES_ECONFIG, "cannot create the Kafka consumer: %s", err);
    goto fail;
  }
  rd_kafka_poll_set_consumer(k->consumer);
  k->queue = rd_kafka_queue_get_consumer(k->consumer);
  rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(kc->ntopics);
  for (int i = 0; i < kc->ntopics; i++)
    rd_kafka_topic_partition_list_add(subs, kc->topics[i], RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t se = rd_kafka_subscribe(k->consumer, subs);
  rd_kafka_topic_partition_list_destroy(subs);
  if (se) {
    es_diag_set(d, ES_ECONFIG, "cannot subscribe to the input topics: %s", rd_kafka_err2str(se));
    goto fail;
  }
  return k;
fail_conf:
  rd_kafka_conf_destroy(cc);
  if (pc) rd_kafka_conf_destroy(pc);
fail:
  es__kafka_destroy(k);
  return NULL;
}

void es__kafka_destroy(es_kafka *k) {
  if (!k) return;
  if (k->queue) rd_kafka_queue_destroy(k->queue);
  if (k->consumer) {
    rd_kafka_consumer_close(k->consumer); /* leaves the group cleanly */
    rd_kafka_destroy(k->consumer);
  }
  if (k->producer) {
    rd_kafka_flush(k->producer, 10000); /* serves the last delivery reports */
    es_log_info("kafka outputs",
                "produced=%" PRIu64 " delivered=%" PRIu64 " failed=%" PRIu64 " commits=%" PRIu64 " input_pauses=%" PRIu64,
                k->produced, k->delivered, k->failed, k->commits, atomic_load(&k->pauses));
    rd_kafka_destroy(k->producer);
  }
  for (size_t i = 0; i < k->nparts; i++) es_free(k->parts[i].runs);
  es_free(k->parts);
  es_free(k->own);
  pthread_mutex_destroy(&k->lock);
  pthread_cond_destroy(&k->drained_cv);
  es_free(k);
}

/* ---- ingest thread ---------------------------------------------------- */

static int topic_index(const es_pipe *p, const char *name) {
  for (int i = 0; i < p->cfg->kafka.ntopics; i++)
    if (!strcmp(p->topics[i], name)) return i;
  return 0;
}

/* A free batch. When none frees up within 100 ms the pipeline is stalled
 * (slow workers, a producer waiting on the broker): the input partitions
 * are paused until one does, so nothing more is fetched meanwhile. */
static es_batch *take(es_pipe *p, es_kafka *k) {
  void *v;
  if (!es_ring_pop(&p->free_batches, &v, 100)) {
    rd_kafka_topic_partition_list_t *own = NULL;
    if (rd_kafka_assignment(k->consumer, &own) == RD_KAFKA_RESP_ERR_NO_ERROR && own->cnt)
      rd_kafka_pause_partitions(k->consumer, own);
    atomic_fetch_add(&k->pauses, 1);
    es_ring_pop(&p->free_batches, &v, -1);
    if (own) {
      if (own->cnt) rd_kafka_resume_partitions(k->consumer, own);
      rd_kafka_topic_partition_list_destroy(own);
    }
  }
  es__batch_reset(v);
  return v;
}

void *es__kafka_ingest(es_kafka *k, es_pipe *p) {
  rd_kafka_message_t *msgs[1024];
  k->p = p;
  k->cur = take(p, k);
  k->draining = true;
  int64_t errors_logged = 0;
  int64_t first_ms = 0; /* when the current batch got its first record */
  while (!*p->stop) {
    /* rd_kafka_consume_batch_queue waits until it has the full 1,024
     * messages or the timeout passes, so it blocks only while the batch is
     * empty; a partly filled batch takes what is queued without waiting and
     * is handed on when the queue is empty or the batch is 10 ms old. */
    ssize_t n = rd_kafka_consume_batch_queue(k->queue, k->cur->nlines ? 0 : 100, msgs, 1024);
    if (n < 0) {
      es_log_error("kafka consume failed", "error=\"%s\"", rd_kafka_err2str(rd_kafka_last_error()));
      continue;
    }
    es_batch *b = k->cur; /* the callbacks inside consume may have handed the last one on */
    if (k->pending_restore != INT64_MIN && b->restore_wm == INT64_MIN) {
      b->restore_wm = k->pending_restore; /* applied before this batch's records */
      k->pending_restore = INT64_MIN;
    }
    for (ssize_t i = 0; i < n; i++) {
      rd_kafka_message_t *m = msgs[i];
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) mark_at_end(k, m);
      if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF && errors_logged++ < 100)
          es_log_warn("kafka consumer error", "error=\"%s\"", rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
        continue;
      }
      bool too_long = m->len > ES_RECORD_MAX;
      size_t len = too_long ? ES_TOO_LONG_KEEP : m->len;
      if (b->nlines == ES_BATCH_MAX_LINES || ES_BATCH_BYTES - ES_DECODE_PADDING - b->len < len + 1) {
        es__batch_dispatch(p, b, &k->seq);
        b = k->cur = take(p, k);
      }
      if (!b->nlines) first_ms = es_time_mono_ms();
      uint32_t r = b->nlines++;
      if (len) memcpy(b->data + b->len, m->payload, len);
      b->off[r] = (uint32_t)b->len;
      b->len_[r] = (uint32_t)len;
      b->len += len;
      b->data[b->len++] = '\n'; /* keeps dead-letter copies of files and topics alike */
      b->too_long[r] = too_long;
      b->line_no[r] = (uint64_t)m->offset;
      b->kpart[r] = m->partition;
      b->ktopic[r] = (uint16_t)topic_index(p, rd_kafka_topic_name(m->rkt));
      rd_kafka_timestamp_type_t tt;
      int64_t ts = rd_kafka_message_timestamp(m, &tt);
      b->kts[r] = ts >= 0 ? ts : INT64_MIN;
      rd_kafka_message_destroy(m);
    }
    if (b->nlines && (n == 0 || es_time_mono_ms() - first_ms >= 10)) { /* caught up, or 10 ms old */
      es__batch_dispatch(p, b, &k->seq);
      k->cur = take(p, k);
    }
  }
  k->draining = false; /* the pipeline ends: revocations from here on (closing) do not wait */
  es__batch_dispatch(p, k->cur, &k->seq);
  k->cur = NULL;
  for (int i = 0; i < p->nworkers; i++) { /* end markers, as in the file ingest */
    es_batch *b = es__batch_take(p);
    b->eof = true;
    es__batch_dispatch(p, b, &k->seq);
  }
  return NULL;
}

/* ---- outputs (aggregator thread) --------------------------------------- */

void es__kafka_produce(es_kafka *k, const char *topic, const char *key, size_t kn, const char *val, size_t vn,
                    rd_kafka_headers_t *hdrs) {
  es_crash_point("produce");
  for (;;) {
    rd_kafka_resp_err_t e = rd_kafka_producev(
      k->producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, kn), RD_KAFKA_V_VALUE((void *)val, vn),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
      k->produced++;
      return; /* the headers are owned by the message now */
    }
    if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(k->producer, 100); /* backpressure: wait for deliveries */
      continue;
    }
    k->failed++;
    es_log_error("kafka produce failed", "topic=%s error=\"%s\"", topic, rd_kafka_err2str(e));
    rd_kafka_headers_destroy(hdrs);
    return;
  }
}

rd_kafka_headers_t *es__kafka_schema(const char *name) {
  rd_kafka_headers_t *h = rd_kafka_headers_new(4);
  rd_kafka_header_add(h, "schema", -1, name, -1);
  return h;
}

void es__kafka_window_header(rd_kafka_headers_t *h, int64_t size_ms, int64_t end_ms, bool alert) {
  char v[64];
  snprintf(v, sizeof v, "%" PRId64 " %" PRId64 " %d", size_ms, end_ms, alert);
  rd_kafka_header_add(h, ES_HDR_WINDOW, -1, v, -1);
}

void es__kafka_window(es_kafka *k, const es_query *q, const es_window_result *w, const es_detect_state *st,
                      const char *json, size_t n, bool alert, bool is_alert) {
  if (n && json[n - 1] == '\n') n--;
  rd_kafka_headers_t *h = es__kafka_schema("earshot.window.v1");
  es__kafka_window_header(h, w->size_ms, w->end_ms, is_alert);
  /* The detector state after this window, exactly (hex floats): an
   * exactly-once restart continues the baseline from here. */
  char v[ES_DETECT_STATE_TEXT];
  es_detect_state_format(st, v, sizeof v);
  rd_kafka_header_add(h, ES_HDR_STATE, -1, v, -1);
  es__kafka_produce(k, k->kc->windows_topic, q->id, strlen(q->id), json, n, h);
  if (alert) {
    h = es__kafka_schema("earshot.alert.v1");
    es__kafka_window_header(h, w->size_ms, w->end_ms, true);
    es__kafka_produce(k, k->kc->alerts_topic, q->id, strlen(q->id), json, n, h);
  }
}

void es__kafka_early(es_kafka *k, const es_query *q, const char *json, size_t n) {
  if (n && json[n - 1] == '\n') n--;
  /* No window or state header: an exactly-once restart passes over it. */
  es__kafka_produce(k, k->kc->windows_topic, q->id, strlen(q->id), json, n, es__kafka_schema("earshot.window.early.v1"));
}

void es__kafka_enriched(es_kafka *k, const char *key, size_t kn, const char *json, size_t n) {
  if (!k->kc->enriched_topic) return;
  if (n && json[n - 1] == '\n') n--;
  es__kafka_produce(k, k->kc->enriched_topic, key, kn, json, n, es__kafka_schema("earshot.enriched.v1"));
}

void es__kafka_triage(es_kafka *k, const char *key, size_t kn, const char *json, size_t n) {
  if (!k->kc->triage_topic) return;
  if (n && json[n - 1] == '\n') n--;
  es__kafka_produce(k, k->kc->triage_topic, key, kn, json, n, es__kafka_schema("earshot.triage.v1"));
}

void es__kafka_sla(es_kafka *k, const char *key, size_t kn, const char *json, size_t n) {
  if (n && json[n - 1] == '\n') n--;
  es__kafka_produce(k, k->kc->alerts_topic, key, kn, json, n, es__kafka_schema("earshot.sla.v1"));
}

void es__kafka_dead(es_kafka *k, const es_sink_dead *e) {
  rd_kafka_headers_t *h = es__kafka_schema("earshot.dlq.v1");
  char num[32];
  rd_kafka_header_add(h, "reason", -1, es_reason_name(e->reason), -1);
  rd_kafka_header_add(h, "action", -1, es_reason_action(e->reason), -1);
  rd_kafka_header_add(h, "detail", -1, e->detail ? e->detail : "", -1);
  rd_kafka_header_add(h, "source.topic", -1, e->src.name, -1);
  snprintf(num, sizeof num, "%d", (int)e->src.partition);
  rd_kafka_header_add(h, "source.partition", -1, num, -1);
  snprintf(num, sizeof num, "%" PRIu64, e->src.pos);
  rd_kafka_header_add(h, "source.offset", -1, num, -1);
  es__kafka_produce(k, k->kc->dlq_topic, NULL, 0, e->input, e->input_len, h);
}

static es_kafka_part *part_of(es_kafka *k, int topic, int32_t partition) {
  for (size_t i = 0; i < k->nparts; i++)
    if (k->parts[i].topic == topic && k->parts[i].partition == partition) return &k->parts[i];
  if (k->nparts == k->capparts) {
    size_t cap = k->capparts ? k->capparts * 2 : 16;
    es_kafka_part *n = es_realloc(k->parts, cap * sizeof *n);
    if (!n) return NULL;
    k->parts = n;
    k->capparts = cap;
  }
  es_kafka_part *pt = &k->parts[k->nparts++];
  memset(pt, 0, sizeof *pt);
  pt->topic = topic;
  pt->partition = partition;
  pt->runmax = INT64_MIN;
  pt->committed = -1;
  pt->sent = -1;
  pt->end = -1;
  pt->next = -1;
  pt->max_ts = INT64_MIN;
  return pt;
}

void es__kafka_sync_assignment(es_kafka *k, int64_t now_wall) {
  uint64_t e = atomic_load(&k->epoch);
  if (e == k->seen_epoch) return;
  k->seen_epoch = e;
  for (size_t i = 0; i < k->nparts; i++) k->parts[i].assigned = false;
  pthread_mutex_lock(&k->lock);
  for (size_t i = 0; i < k->nown; i++) {
    if (k->own[i].topic < 0) continue;
    es_kafka_part *pt = part_of(k, k->own[i].topic, k->own[i].partition);
    if (!pt) continue;
    if (!pt->assigned && pt->max_ts == INT64_MIN) pt->last_wall = now_wall;
    pt->assigned = true;
    pt->end = k->own[i].end;
  }
  pthread_mutex_unlock(&k->lock);
}

int64_t es__kafka_event_time(const es_kafka *k, int64_t now_wall, int64_t idle_ms) {
  int64_t t = INT64_MAX, quiet = INT64_MIN;
  bool grace = now_wall - k->wake_wall < ES_KAFKA_WAKE_GRACE_MS;
  for (size_t i = 0; i < k->nparts; i++) {
    const es_kafka_part *pt = &k->parts[i];
    if (pt->max_ts > quiet) quiet = pt->max_ts;
    if (!pt->assigned) continue;
    bool idle = idle_ms > 0 && now_wall - pt->last_wall >= idle_ms;
    if (pt->max_ts == INT64_MIN) {
      if (pt->end >= 0 || idle) continue; /* empty (read to its end), or silent since its assignment */
      return INT64_MIN;                   /* assigned, nothing read yet: it may hold older mentions */
    }
    if (idle && !grace) continue;
    if (pt->max_ts < t) t = pt->max_ts;
  }
  return t == INT64_MAX ? quiet : t; /* every partition quiet: the latest event time read */
}

void es__kafka_track(es_kafka *k, const es_batch *b, uint32_t rec, int64_t ts, int64_t mark, int64_t now_wall) {
  es_kafka_part *pt = part_of(k, b->ktopic[rec], b->kpart[rec]);
  if (!pt) return; /* OOM: this offset is simply not committed; it is read again after a restart */
  /* A partition waking up after a silence: the others that went silent
   * may wake up with older mentions in the next fetch, so for a grace
   * period they hold event time back again (see es__kafka_event_time). */
  if ((pt->max_ts != INT64_MIN && k->kc_idle_ms > 0 && now_wall - pt->last_wall >= k->kc_idle_ms) ||
      (pt->max_ts == INT64_MIN && pt->end >= 0))
    k->wake_wall = now_wall;
  pt->last_wall = now_wall;
  pt->next = (int64_t)b->line_no[rec] + 1;
  if (ts > pt->max_ts) pt->max_ts = ts;
  if (mark > pt->runmax) pt->runmax = mark;
  int64_t off = (int64_t)b->line_no[rec];
  if (pt->n) {
    es_kafka_run *last = &pt->runs[(pt->head + pt->n - 1) % pt->cap];
    if (last->mark == pt->runmax) {
      last->last_offset = off;
      return;
    }
  }
  if (pt->n == pt->cap) {
    size_t cap = pt->cap ? pt->cap * 2 : 64;
    es_kafka_run *r = es_malloc(cap * sizeof *r);
    if (!r) return;
    for (size_t i = 0; i < pt->n; i++) r[i] = pt->runs[(pt->head + i) % pt->cap];
    es_free(pt->runs);
    pt->runs = r;
    pt->cap = cap;
    pt->head = 0;
  }
  pt->runs[(pt->head + pt->n++) % pt->cap] = (es_kafka_run){.last_offset = off, .mark = pt->runmax};
}

int es__kafka_tick(es_kafka *k, int64_t watermark, int64_t now_ms, bool force) {
  rd_kafka_poll(k->producer, 0);
  if (!force && now_ms - k->last_commit_ms < k->kc->commit_interval_ms) return 0;
  k->last_commit_ms = now_ms;
  /* Only partitions this process holds now, and only when something moved
   * (a position or the watermark) or the last commit failed. A commit for a
   * partition that was revoked, or any commit during a rebalance, is
   * refused by the group coordinator and makes the client rejoin:
   * committing every interval regardless kept a two-member group from ever
   * settling. Each commit carries every held position, so a retried older
   * commit that lands after a newer one is corrected by the next. */
  bool resend = atomic_exchange(&k->commit_failed, false);
  bool moved = resend || watermark != k->sent_wm;
  for (size_t i = 0; i < k->nparts; i++) {
    es_kafka_part *pt = &k->parts[i];
    int64_t next = pt->committed;
    while (pt->n && pt->runs[pt->head].mark <= watermark) {
      next = pt->runs[pt->head].last_offset + 1;
      pt->head = (pt->head + 1) % pt->cap;
      pt->n--;
    }
    pt->committed = next;
    moved |= next != pt->sent;
  }
  if (!moved && !force) return 0;
  /* Everything produced so far must be acknowledged before any offset
   * behind it is committed. A regular commit waits at most
   * ES_KAFKA_FLUSH_WAIT_MS (with the brokers down it is retried at the next
   * interval: the aggregator stays responsive, and alive for /healthz);
   * the last one, at shutdown or before a revocation, up to 30 s. */
  rd_kafka_resp_err_t fe = rd_kafka_flush(k->producer, force ? 30000 : ES_KAFKA_FLUSH_WAIT_MS);
  if (fe || k->failed != k->failed_reported) {
    k->failed_reported = k->failed;
    atomic_store(&k->commit_failed, true); /* commit everything once delivery works again */
    es_log_error("not committing: output records were not delivered",
                 "failed=%" PRIu64 " flush=\"%s\"", k->failed, rd_kafka_err2str(fe));
    return ES_EIO;
  }
  es_crash_point("flushed");
  rd_kafka_topic_partition_list_t *own = NULL;
  if (rd_kafka_assignment(k->consumer, &own) != RD_KAFKA_RESP_ERR_NO_ERROR) own = NULL;
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)k->nparts + 1);
  char meta[48];
  int mn = snprintf(meta, sizeof meta, META_PREFIX "%" PRId64, watermark);
  for (size_t i = 0; i < k->nparts; i++) {
    es_kafka_part *pt = &k->parts[i];
    int64_t next = pt->committed;
    if (next < 0) continue;
    const char *topic = k->kc->topics[pt->topic];
    if (!own || !rd_kafka_topic_partition_list_find(own, topic, pt->partition)) continue;
    rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_add(l, topic, pt->partition);
    tp->offset = next;
    tp->metadata = es_malloc((size_t)mn);
    if (tp->metadata) {
      memcpy(tp->metadata, meta, (size_t)mn);
      tp->metadata_size = (size_t)mn;
    }
    pt->sent = next;
  }
  if (own) rd_kafka_topic_partition_list_destroy(own);
  if (l->cnt) {
    /* Asynchronous: a commit must never stall the aggregator (a stalled
     * aggregator stalls the ingest, whose polling a rebalance needs). The
     * result arrives in on_commit; a failed commit is repeated at the next
     * interval. The last one (force, at shutdown) waits for its result, so
     * it is the one stored. */
    k->sent_wm = watermark;
    rd_kafka_resp_err_t ce = rd_kafka_commit(k->consumer, l, force ? 0 : 1);
    if (ce) es_log_warn("kafka commit failed; retried at the next interval", "error=\"%s\"", rd_kafka_err2str(ce));
    else k->commits++;
    es_crash_point("committed");
  }
  rd_kafka_topic_partition_list_destroy(l); /* frees the metadata too */
  return 0;
}
