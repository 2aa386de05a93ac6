/* librdkafka statistics (statistics.interval.ms, one JSON document a second
 * per client) as the readiness and lag of the Kafka input: brokers up,
 * consumer-group state, and per partition the end offset, position,
 * committed offset and lag. Parsed by cJSON on the thread that polls the
 * client (consumer: ingest thread; producer: aggregator thread) and kept in
 * es_kafka under its lock; es__kafka_status reads them for the run's status
 * (aggregator thread). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "kafka_internal.h"

static int64_t num(const cJSON *o, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -1;
}

static void str(const cJSON *o, const char *name, char *out, size_t n) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  snprintf(out, n, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

int es__kafka_on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque) {
  es_kafka *k = opaque;
  cJSON *root = cJSON_ParseWithLength(json, len);
  if (!root) return 0;
  es_kafka_stats s = {.seen = true};
  const cJSON *b, *brokers = cJSON_GetObjectItemCaseSensitive(root, "brokers");
  cJSON_ArrayForEach(b, brokers) {
    /* Bootstrap entries (nodeid -1) only lead to the real brokers. */
    char state[16];
    str(b, "state", state, sizeof state);
    if (num(b, "nodeid") >= 0 && !strcmp(state, "UP")) s.brokers_up++;
  }
  const cJSON *cg = cJSON_GetObjectItemCaseSensitive(root, "cgrp");
  if (cg) {
    str(cg, "state", s.group_state, sizeof s.group_state);
    str(cg, "join_state", s.join_state, sizeof s.join_state);
    s.assigned = (int)num(cg, "assignment_size");
  }
  const cJSON *t, *topics = cJSON_GetObjectItemCaseSensitive(root, "topics");
  cJSON_ArrayForEach(t, topics) {
    const cJSON *pt, *parts = cJSON_GetObjectItemCaseSensitive(t, "partitions");
    cJSON_ArrayForEach(pt, parts) {
      int64_t id = num(pt, "partition");
      const cJSON *desired = cJSON_GetObjectItemCaseSensitive(pt, "desired");
      /* -1 is librdkafka's internal unassigned partition; only those this
       * consumer fetches count. */
      if (id < 0 || !cJSON_IsTrue(desired) || s.nparts == ES_STATUS_MAX_PARTS) continue;
      es_part_status *ps = &s.parts[s.nparts++];
      snprintf(ps->topic, sizeof ps->topic, "%s", t->string ? t->string : "");
      ps->partition = (int32_t)id;
      ps->position = num(pt, "app_offset");
      ps->committed = num(pt, "committed_offset");
      ps->end = num(pt, "hi_offset");
      ps->lag = num(pt, "consumer_lag");
    }
  }
  cJSON_Delete(root);
  bool consumer = rd_kafka_type(rk) == RD_KAFKA_CONSUMER;
  pthread_mutex_lock(&k->lock);
  if (consumer) k->cstats = s;
  else k->pstats = s;
  pthread_mutex_unlock(&k->lock);
  return 0; /* librdkafka frees json */
}

void es__kafka_status(es_kafka *k, es_sink_status *st) {
  st->input_pauses = atomic_load(&k->pauses);
  st->produced = k->produced;
  st->delivered = k->delivered;
  st->produce_errors = k->failed;
  pthread_mutex_lock(&k->lock);
  const es_kafka_stats *c = &k->cstats, *p = &k->pstats;
  st->nparts = c->nparts;
  memcpy(st->parts, c->parts, (size_t)c->nparts * sizeof *c->parts);
  st->ready = false;
  if (!c->seen || !p->seen)
    snprintf(st->not_ready, sizeof st->not_ready, "waiting for the first Kafka statistics");
  else if (!c->brokers_up)
    snprintf(st->not_ready, sizeof st->not_ready, "the consumer reaches no broker");
  else if (!p->brokers_up)
    snprintf(st->not_ready, sizeof st->not_ready, "the producer reaches no broker");
  else if (strcmp(c->group_state, "up") || strcmp(c->join_state, "steady"))
    snprintf(st->not_ready, sizeof st->not_ready, "joining the consumer group (state %s, %s)", c->group_state,
             c->join_state);
  else if (c->assigned <= 0)
    snprintf(st->not_ready, sizeof st->not_ready, "no input partition assigned");
  else
    st->ready = true;
  pthread_mutex_unlock(&k->lock);
}
