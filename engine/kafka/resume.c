/* Exactly-once restart: learn from the output topics what an earlier run
 * already published.
 *
 * Window computation is deterministic, and the committed input offsets
 * carry the watermark up to which windows were published, so a restarted
 * engine recomputes exactly the windows after that watermark. Some of them
 * may have reached the output topics before the crash. The windows and
 * alerts topics are read from their first retained record to their end:
 * per query and window size, the end of the last window (and alert) found
 * there, and the detector state after that window (header earshot.state).
 * The sink then drops every recomputed window at or before it, and the
 * baseline continues exactly where the published records left it.
 *
 * Windows and alerts are different topics, so a crash can leave a window
 * published and its alert not (or the reverse): window records carry an
 * alert flag (header earshot.window), and such a lost alert is sent here,
 * from the window record's bytes, before consuming starts. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/log.h"
#include "earshot/timeutil.h"
#include "kafka_internal.h"

#define READ_DEADLINE_MS 120000

typedef struct lost_alert {
  uint32_t qs; /* query x size index */
  int64_t end;
  char *value;
  size_t len;
} lost_alert;

typedef struct resume {
  es_pipe *p;
  int nsizes;
  uint64_t records, unknown;
  uint64_t refused;           /* this engine's window records whose detector state is missing or unreadable */
  char first_refused[160];    /* where the first of them is */
  lost_alert *alerts; /* alert windows on the windows topic, in topic order */
  size_t nalerts, capalerts;
} resume;

/* A header's value as a NUL-terminated string in buf; false when absent. */
static bool header(const rd_kafka_message_t *m, const char *name, char *buf, size_t cap) {
  rd_kafka_headers_t *h;
  const void *v;
  size_t n;
  if (rd_kafka_message_headers(m, &h) || rd_kafka_header_get_last(h, name, &v, &n) || !v || n >= cap) return false;
  memcpy(buf, v, n);
  buf[n] = 0;
  return true;
}

/* The query x size index and window end of a record, false if it is not
 * one of this engine's windows (another query set, another window size). */
static bool locate(resume *r, const rd_kafka_message_t *m, uint32_t *qs, int64_t *end, int *alert) {
  char v[64];
  long long size, e;
  if (!header(m, ES_HDR_WINDOW, v, sizeof v) || sscanf(v, "%lld %lld %d", &size, &e, alert) != 3) return false;
  int64_t q = es_queryset_find(r->p->qs, m->key, m->key_len);
  int s = -1;
  for (int i = 0; i < r->nsizes; i++)
    if (r->p->cfg->windows.size_ms[i] == size) s = i;
  if (q < 0 || s < 0) return false;
  *qs = (uint32_t)q * (uint32_t)r->nsizes + (uint32_t)s;
  *end = e;
  return true;
}

static void on_alert_record(resume *r, const rd_kafka_message_t *m) {
  uint32_t qs;
  int64_t end;
  int alert;
  if (!locate(r, m, &qs, &end, &alert)) {
    r->unknown++;
    return;
  }
  if (end > r->p->sup_alert[qs]) r->p->sup_alert[qs] = end;
}

static void on_window_record(resume *r, const rd_kafka_message_t *m) {
  uint32_t qs;
  int64_t end;
  int alert;
  char v[ES_DETECT_STATE_TEXT];
  es_detect_state st;
  if (!locate(r, m, &qs, &end, &alert)) {
    r->unknown++;
    return;
  }
  if (!header(m, ES_HDR_STATE, v, sizeof v) || es_detect_state_parse(v, &st)) {
    /* A corrupted or foreign state header: refused, never used; the
     * query's detection continues from its last readable state. */
    if (!r->refused++)
      snprintf(r->first_refused, sizeof r->first_refused, "%s/%d/%lld", rd_kafka_topic_name(m->rkt),
               (int)m->partition, (long long)m->offset);
    return;
  }
  if (end > r->p->sup_win[qs]) {
    r->p->sup_win[qs] = end;
    r->p->det[qs] = st;
  }
  if (!alert) return;
  if (r->nalerts == r->capalerts) {
    size_t cap = r->capalerts ? r->capalerts * 2 : 64;
    lost_alert *n = es_realloc(r->alerts, cap * sizeof *n);
    if (!n) return; /* OOM: this alert is not re-sent (it may be lost) */
    r->alerts = n;
    r->capalerts = cap;
  }
  char *copy = es_malloc(m->len ? m->len : 1);
  if (!copy) return;
  if (m->len) memcpy(copy, m->payload, m->len);
  r->alerts[r->nalerts++] = (lost_alert){.qs = qs, .end = end, .value = copy, .len = m->len};
}

/* Reads `topic` from its first retained record to the end it had when the
 * read started, handing each record to fn. */
static int read_topic(es_kafka *k, resume *r, const char *topic, void (*fn)(resume *, const rd_kafka_message_t *),
                      es_diag *d) {
  const es_kafka_config *kc = k->kc;
  char err[512], group[300];
  rd_kafka_conf_t *c = rd_kafka_conf_new();
  /* A group id only because librdkafka's assign API needs one: this reader
   * never joins the group and never commits. */
  snprintf(group, sizeof group, "%s.resume", kc->group ? kc->group : "earshot");
  rd_kafka_conf_set(c, "bootstrap.servers", kc->brokers, err, sizeof err);
  rd_kafka_conf_set(c, "group.id", group, err, sizeof err);
  for (int i = 0; i < kc->nprops; i++) /* security and the like; validated by es__kafka_create */
    rd_kafka_conf_set(c, kc->props[i][0], kc->props[i][1], err, sizeof err);
  rd_kafka_conf_set(c, "enable.auto.commit", "false", err, sizeof err);
  rd_kafka_conf_set(c, "enable.partition.eof", "true", err, sizeof err);
  rd_kafka_conf_set(c, "partition.assignment.strategy", "range", err, sizeof err);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
  if (!rk) return es_diag_set(d, ES_EIO, "exactly-once: cannot create a reader for %s: %s", topic, err);
  int rc = 0;
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
  const struct rd_kafka_metadata *md = NULL;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
  if (e || md->topic_cnt != 1 || md->topics[0].err) {
    rc = es_diag_set(d, ES_EIO, "exactly-once: cannot read the metadata of %s: %s", topic,
                     rd_kafka_err2str(e ? e : md->topic_cnt ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));
    goto out;
  }
  int np = md->topics[0].partition_cnt;
  int64_t *hi = es_calloc((size_t)np + 1, sizeof *hi);
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(np);
  int pending = 0;
  for (int i = 0; hi && i < np && !rc; i++) {
    int32_t part = md->topics[0].partitions[i].id;
    int64_t lo = 0, h = 0;
    e = rd_kafka_query_watermark_offsets(rk, topic, part, &lo, &h, 10000);
    if (e) {
      rc = es_diag_set(d, ES_EIO, "exactly-once: cannot read the offsets of %s [%d]: %s", topic, (int)part,
                       rd_kafka_err2str(e));
    } else if (h > lo) {
      rd_kafka_topic_partition_list_add(l, topic, part)->offset = lo;
      if (part < np) hi[part] = h;
      pending++;
    }
  }
  if (!hi) rc = es_diag_set(d, ES_ENOMEM, "exactly-once: out of memory");
  if (!rc && pending && (e = rd_kafka_assign(rk, l)))
    rc = es_diag_set(d, ES_EIO, "exactly-once: cannot read %s: %s", topic, rd_kafka_err2str(e));
  int64_t deadline = es_time_mono_ms() + READ_DEADLINE_MS;
  while (!rc && pending > 0) {
    if (es_time_mono_ms() > deadline) {
      rc = es_diag_set(d, ES_EIO, "exactly-once: reading %s did not reach its end within %d s (%d partitions left)",
                       topic, READ_DEADLINE_MS / 1000, pending);
      break;
    }
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 500);
    if (!m) continue;
    int32_t part = m->partition;
    bool done_part = false;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      done_part = true;
    } else if (m->err) {
      es_log_warn("exactly-once: reading an output topic", "topic=%s error=\"%s\"", topic, rd_kafka_message_errstr(m));
    } else {
      r->records++;
      fn(r, m);
      done_part = part >= 0 && part < np && m->offset >= hi[part] - 1;
    }
    if (done_part && part >= 0 && part < np && hi[part]) {
      hi[part] = 0;
      pending--;
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_topic_partition_list_destroy(l);
  es_free(hi);
out:
  if (md) rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return rc;
}

int es__kafka_resume(es_kafka *k, es_pipe *p, es_diag *d) {
  resume r = {.p = p, .nsizes = p->cfg->windows.nsizes};
  int64_t t0 = es_time_mono_ms();
  int rc = read_topic(k, &r, k->kc->alerts_topic, on_alert_record, d);
  uint64_t alert_records = r.records;
  if (!rc) rc = read_topic(k, &r, k->kc->windows_topic, on_window_record, d);
  uint64_t resent = 0;
  for (size_t i = 0; i < r.nalerts; i++) {
    lost_alert *a = &r.alerts[i];
    if (!rc && a->end > p->sup_alert[a->qs]) {
      const es_query *q = es_queryset_get(p->qs, a->qs / (uint32_t)r.nsizes);
      rd_kafka_headers_t *h = es__kafka_schema("earshot.alert.v1");
      es__kafka_window_header(h, p->cfg->windows.size_ms[a->qs % (uint32_t)r.nsizes], a->end, true);
      es__kafka_produce(k, k->kc->alerts_topic, q->id, strlen(q->id), a->value, a->len, h);
      p->sup_alert[a->qs] = a->end;
      resent++;
    }
    es_free(a->value);
  }
  es_free(r.alerts);
  if (rc) return rc;
  size_t keys = 0;
  for (size_t i = 0; i < es_queryset_count(p->qs) * (size_t)r.nsizes; i++) keys += p->sup_win[i] != INT64_MIN;
  if (r.refused)
    es_log_warn("exactly-once: window records with a missing or unreadable detector state (earshot.state header) "
                "were refused; their queries continue from their last readable state",
                "refused=%" PRIu64 " first=%s", r.refused, r.first_refused);
  es_log_info("exactly-once: read the output topics", "alert_records=%" PRIu64 " window_records=%" PRIu64
              " windows_known=%zu other_records=%" PRIu64 " alerts_resent=%" PRIu64 " seconds=%.3f",
              alert_records, r.records - alert_records, keys, r.unknown, resent,
              (double)(es_time_mono_ms() - t0) / 1000.0);
  return 0;
}
