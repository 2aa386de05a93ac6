/* The embedded broker (include/earshot/broker.h): a librdkafka mock cluster
 * owned by a dedicated producer handle that never produces, plus the
 * control commands used for fault tests from a shell:
 *
 *   topic NAME PARTITIONS        create a topic
 *   down BROKER_ID | up BROKER_ID
 *   errors API COUNT [CODE]      fail the next COUNT requests of API
 *                                (produce, fetch, commit, offsetfetch,
 *                                metadata, joingroup, heartbeat) with CODE
 *                                (a Kafka error number; default 7,
 *                                REQUEST_TIMED_OUT)
 *   rtt BROKER_ID MS             add round-trip delay
 *   help
 * Main thread. */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/broker.h"
#include "earshot/mem.h"

struct es_broker {
  rd_kafka_t *rk;
  rd_kafka_mock_cluster_t *mc;
  int nbrokers;
};

es_broker *es_broker_start(int brokers, es_diag *d) {
  char err[256];
  es_broker *b = es_calloc(1, sizeof *b);
  if (!b) return NULL;
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  b->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err); /* owns conf from here */
  if (!b->rk) {
    es_diag_set(d, ES_EIO, "cannot create the broker's handle: %s", err);
    es_free(b);
    return NULL;
  }
  b->mc = rd_kafka_mock_cluster_new(b->rk, brokers);
  if (!b->mc) {
    es_diag_set(d, ES_EIO, "cannot start the embedded broker");
    rd_kafka_destroy(b->rk);
    es_free(b);
    return NULL;
  }
  b->nbrokers = brokers;
  return b;
}

void es_broker_stop(es_broker *b) {
  if (!b) return;
  rd_kafka_mock_cluster_destroy(b->mc);
  rd_kafka_destroy(b->rk);
  es_free(b);
}

const char *es_broker_bootstraps(const es_broker *b) { return rd_kafka_mock_cluster_bootstraps(b->mc); }

int es_broker_create_topic(es_broker *b, const char *name, int partitions, es_diag *d) {
  rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(b->mc, name, partitions, 1);
  if (e) return es_diag_set(d, ES_EINVAL, "cannot create topic %s: %s", name, rd_kafka_err2str(e));
  return 0;
}

static int api_key(const char *name) {
  static const struct {
    const char *name;
    int key;
  } apis[] = {{"produce", 0}, {"fetch", 1}, {"listoffsets", 2}, {"metadata", 3}, {"commit", 8},
              {"offsetfetch", 9}, {"findcoordinator", 10}, {"joingroup", 11}, {"heartbeat", 12}, {"syncgroup", 14}};
  for (size_t i = 0; i < sizeof apis / sizeof *apis; i++)
    if (!strcmp(name, apis[i].name)) return apis[i].key;
  return -1;
}

int es_broker_command(es_broker *b, const char *line, char *reply, size_t cap) {
  char cmd[32] = "", a1[256] = "", a2[64] = "", a3[64] = "";
  int n = sscanf(line, "%31s %255s %63s %63s", cmd, a1, a2, a3);
  if (n <= 0) {
    snprintf(reply, cap, "error: empty command (try help)");
    return ES_EINVAL;
  }
  if (!strcmp(cmd, "help")) {
    snprintf(reply, cap, "ok commands: topic NAME PARTITIONS | down ID | up ID | errors API COUNT [CODE] | rtt ID MS");
    return 0;
  }
  if (!strcmp(cmd, "topic") && n == 3) {
    es_diag d;
    int parts = atoi(a2);
    if (parts < 1 || es_broker_create_topic(b, a1, parts, &d)) {
      snprintf(reply, cap, "error: %s", parts < 1 ? "PARTITIONS must be at least 1" : d.msg);
      return ES_EINVAL;
    }
    snprintf(reply, cap, "ok topic %s %d", a1, parts);
    return 0;
  }
  if ((!strcmp(cmd, "down") || !strcmp(cmd, "up")) && n == 2) {
    int id = atoi(a1);
    if (id < 1 || id > b->nbrokers) {
      snprintf(reply, cap, "error: broker ids are 1..%d", b->nbrokers);
      return ES_EINVAL;
    }
    rd_kafka_resp_err_t e = cmd[0] == 'd' ? rd_kafka_mock_broker_set_down(b->mc, id) : rd_kafka_mock_broker_set_up(b->mc, id);
    snprintf(reply, cap, e ? "error: %s" : "ok broker %s %s", e ? rd_kafka_err2str(e) : a1, cmd);
    return e ? ES_EINVAL : 0;
  }
  if (!strcmp(cmd, "errors") && n >= 3) {
    int key = api_key(a1), count = atoi(a2), code = n >= 4 ? atoi(a3) : RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT;
    if (key < 0 || count < 1 || count > 10000) {
      snprintf(reply, cap, "error: usage errors API COUNT [CODE], API one of produce fetch listoffsets metadata commit "
                           "offsetfetch findcoordinator joingroup heartbeat syncgroup");
      return ES_EINVAL;
    }
    rd_kafka_resp_err_t *errs = es_malloc((size_t)count * sizeof *errs);
    if (!errs) {
      snprintf(reply, cap, "error: out of memory");
      return ES_ENOMEM;
    }
    for (int i = 0; i < count; i++) errs[i] = (rd_kafka_resp_err_t)code;
    rd_kafka_mock_push_request_errors_array(b->mc, (int16_t)key, (size_t)count, errs);
    es_free(errs);
    snprintf(reply, cap, "ok next %d %s requests fail with %s", count, a1, rd_kafka_err2name((rd_kafka_resp_err_t)code));
    return 0;
  }
  if (!strcmp(cmd, "rtt") && n == 3) {
    int id = atoi(a1), ms = atoi(a2);
    rd_kafka_resp_err_t e = rd_kafka_mock_broker_set_rtt(b->mc, id, ms);
    snprintf(reply, cap, e ? "error: %s" : "ok broker %s rtt %s ms", e ? rd_kafka_err2str(e) : a1, a2);
    return e ? ES_EINVAL : 0;
  }
  snprintf(reply, cap, "error: unknown command '%s' (try help)", cmd);
  return ES_EINVAL;
}
