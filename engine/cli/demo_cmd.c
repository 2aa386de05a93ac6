/* `earshot demo`: the main job with no setup. Starts the embedded broker,
 * creates the topics, produces a generated mention stream with a planted
 * fee-complaint incident (and a few broken records) at an accelerated pace,
 * and runs the engine on it with `earshot run`'s pipeline, printing each
 * 5-minute window period as it closes. Main thread runs the engine; one
 * producer thread feeds the broker. */
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_internal.h"
#include "earshot/broker.h"
#include "earshot/http.h"
#include "earshot/mem.h"
#include "earshot/timeutil.h"
#include "gen.h"

typedef struct feeder {
  const char *bootstraps, *topic;
  bool external; /* --feed: another Kafka's engine consumes; no end of stream to announce */
  es_gen_opts opts;
  double speed; /* event-time seconds per wall-clock second */
  int64_t idle_flush_ms;
} feeder;

static void pace(int64_t wall0, int64_t ev0, int64_t ev, double speed) {
  int64_t due = wall0 + (int64_t)((double)(ev - ev0) / speed);
  int64_t now = es_time_mono_ms();
  if (due > now) {
    struct timespec ts = {.tv_sec = (due - now) / 1000, .tv_nsec = ((due - now) % 1000) * 1000000};
    nanosleep(&ts, NULL);
  }
}

static void *feed(void *arg) {
  feeder *f = arg;
  char err[256];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", f->bootstraps, err, sizeof err);
  rd_kafka_conf_set(conf, "linger.ms", "5", err, sizeof err);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    fprintf(stderr, "earshot demo: cannot create the feeder: %s\n", err);
    es__stop_requested = 1;
    return NULL;
  }
  es_gen *g = es_gen_create(&f->opts);
  es_buf b;
  es_buf_init(&b);
  int64_t ts, ev0 = f->opts.start_ms, wall0 = es_time_mono_ms();
  uint64_t n = 0;
  static const char *const broken[] = {"{\"ts\":\"2026-01-05T01:00:00Z\",\"text\":\"my card fee",
                                       "{\"ts\":\"2026-01-05T01:00:00Z\"}", "not json at all"};
  while (!es__stop_requested && g && es_gen_next(g, &b, &ts) == 0) {
    if (n++ % 256 == 0) pace(wall0, ev0, ts, f->speed);
    if (n % 50000 == 0) { /* a broken record now and then: it goes to earshot.dlq */
      const char *bad = broken[(n / 50000) % 3];
      rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(f->topic), RD_KAFKA_V_VALUE((void *)bad, strlen(bad)),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    }
    for (;;) {
      rd_kafka_resp_err_t e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(f->topic), RD_KAFKA_V_VALUE(b.data, b.len - 1),
                                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
      rd_kafka_poll(rk, 50);
    }
    rd_kafka_poll(rk, 0);
    es_buf_clear(&b);
  }
  rd_kafka_flush(rk, 10000);
  rd_kafka_destroy(rk);
  es_buf_free(&b);
  es_gen_destroy(g);
  if (!es__stop_requested && !f->external) {
    /* The stream is over: give the engine its idle flush, then stop it. */
    int64_t wait = f->idle_flush_ms + 3000;
    struct timespec t = {.tv_sec = wait / 1000, .tv_nsec = (wait % 1000) * 1000000};
    nanosleep(&t, NULL);
    es__stop_requested = 1;
  }
  return NULL;
}

static void on_feed_signal(int sig) { es__stop_requested = sig; }

/* `earshot demo --feed BROKERS [--topic T] [--rate PER_MIN] [--speed X]`:
 * the demo's generated stream alone, produced into another Kafka (compose,
 * a staging cluster) from now on, at event-time speed X (1: real time),
 * with a fee-complaint incident (8x for 15 minutes) ten minutes in and then
 * every six hours, until SIGINT or SIGTERM. */
static int feed_only(int argc, char **argv) {
  feeder f = {.topic = "mentions", .speed = 1, .external = true};
  es_gen_opts_default(&f.opts);
  f.opts.count = UINT64_MAX;
  f.opts.rate_per_min = 600;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    char *end = NULL;
    if (!v) goto usage;
    i++;
    if (!strcmp(a, "--feed")) f.bootstraps = v;
    else if (!strcmp(a, "--topic")) f.topic = v;
    else if (!strcmp(a, "--rate") && (f.opts.rate_per_min = strtod(v, &end)) > 0 && !*end) {}
    else if (!strcmp(a, "--speed") && (f.speed = strtod(v, &end)) > 0 && f.speed <= 1000 && !*end) {}
    else goto usage;
  }
  /* From the current minute on: the engine's windows follow wall time. */
  f.opts.start_ms = es_time_wall_ms() / 60000 * 60000;
  for (int k = 0; k < ES_GEN_MAX_INCIDENTS; k++)
    f.opts.incidents[f.opts.n_incidents++] = (es_gen_incident){
        .start_ms = f.opts.start_ms + 600000 + (int64_t)k * 6 * 3600000, .dur_ms = 15 * 60000, .multiplier = 8,
        .topic = ES_GEN_FEES};
  struct sigaction sa = {0};
  sa.sa_handler = on_feed_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  fprintf(stderr, "earshot demo: producing generated mentions to %s topic %s at %g per minute (%gx real time); "
          "a fee incident starts in %g minutes; Ctrl-C stops\n", f.bootstraps, f.topic, f.opts.rate_per_min, f.speed,
          10 / f.speed);
  feed(&f);
  return es__stop_requested == SIGINT || es__stop_requested == SIGTERM ? 0 : 1;
usage:
  fputs("usage: earshot demo --feed HOST:PORT [--topic T] [--rate PER_MIN] [--speed X]\n", stderr);
  return 2;
}

int es__cmd_demo(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--feed")) return feed_only(argc, argv);
  es_diag d;
  es_broker *br = es_broker_start(1, &d);
  if (!br) {
    fprintf(stderr, "earshot demo: %s\n", d.msg);
    return 1;
  }
  const struct {
    const char *name;
    int parts;
  } topics[] = {{"mentions", 4}, {"earshot.windows", 4}, {"earshot.alerts", 1}, {"earshot.enriched", 4},
                {"earshot.dlq", 1},    {"earshot.triage", 4}};
  for (size_t i = 0; i < sizeof topics / sizeof *topics; i++)
    if (es_broker_create_topic(br, topics[i].name, topics[i].parts, &d)) {
      fprintf(stderr, "earshot demo: %s\n", d.msg);
      es_broker_stop(br);
      return 1;
    }
  const char *boot = es_broker_bootstraps(br);
  char dir[] = "/tmp/earshot-demo-XXXXXX", qpath[64], tpath[64];
  if (!mkdtemp(dir)) {
    perror("earshot demo: mkdtemp");
    es_broker_stop(br);
    return 1;
  }
  snprintf(qpath, sizeof qpath, "%s/queries.yaml", dir);
  FILE *qf = fopen(qpath, "w");
  if (!qf) {
    perror("earshot demo: queries");
    es_broker_stop(br);
    return 1;
  }
  es_gen_write_queries(1, 6, qf);
  fclose(qf);
  /* The demo's triage (README, Triage): care answers complaints, the
   * communications team takes every fee mention while the fees alert is
   * open, spam is not answered. */
  snprintf(tpath, sizeof tpath, "%s/triage.yaml", dir);
  FILE *tf = fopen(tpath, "w");
  bool written = tf && fputs("tracks:\n  care: {sla: 1h}\n  comms: {sla: 30m}\n  social: {sla: 24h}\n"
                   "crisis:\n  - query: fees\n    when: {not_situation: spam}\n    track: comms\n    priority: 1\n"
                   "    sla: 15m\n"
                   "routes:\n  - name: threats\n    when: {situation: policy_breach}\n    track: comms\n    priority: 1\n"
                   "  - name: spam\n    when: {situation: spam}\n    ignore: spam is not answered\n"
                   "  - name: complaints\n    when: {situation: [complaint, urgent, churn_risk]}\n    track: care\n"
                   "    priority: 2\n"
                   "  - name: questions\n    when: {situation: [question, purchase_intent]}\n    track: care\n"
                   "    priority: 4\n    sla: 4h\n"
                   "  - name: praise\n    when: {situation: praise}\n    track: social\n    priority: 5\n"
                   "  - name: the_rest\n    ignore: nothing to answer\n",
                   tf) >= 0;
  if (tf && fclose(tf)) written = false;
  if (!written) {
    perror("earshot demo: triage");
    es_broker_stop(br);
    return 1;
  }

  feeder f = {.bootstraps = boot, .topic = "mentions", .speed = 300, .idle_flush_ms = 2000};
  es_gen_opts_default(&f.opts);
  f.opts.count = 240000;
  f.opts.rate_per_min = 1000;
  f.opts.seed = 7;
  f.opts.n_incidents = 1;
  f.opts.incidents[0] = (es_gen_incident){.start_ms = f.opts.start_ms + 2 * 3600000, .dur_ms = 15 * 60000,
                                          .multiplier = 8, .topic = ES_GEN_FEES};

  es_config cfg;
  es_config_default(&cfg);
  es_config_set_str(&cfg.queries, qpath);
  es_config_set_str(&cfg.kafka.brokers, boot);
  es_config_set_str(&cfg.kafka.group, "earshot-demo");
  es_config_set_str(&cfg.output, "-");
  cfg.pretty = true;
  cfg.progress = false;
  cfg.workers = 2;
  cfg.windows.size_ms[0] = 300000;
  cfg.windows.idle_flush_ms = f.idle_flush_ms;
  cfg.kafka.flush_on_shutdown = true;
  es_config_set_str(&cfg.kafka.enriched_topic, "earshot.enriched");
  es_config_set_str(&cfg.triage, tpath);
  es_config_set_str(&cfg.kafka.triage_topic, "earshot.triage");
  cfg.kafka.props[0][0] = es_strdup("fetch.wait.max.ms"); /* the embedded broker holds empty fetches this long */
  cfg.kafka.props[0][1] = es_strdup("10");
  cfg.kafka.props[1][0] = es_strdup("session.timeout.ms");
  cfg.kafka.props[1][1] = es_strdup("6000");
  cfg.kafka.nprops = 2;

  /* The dashboard first: its address is the first thing printed. A
   * default port that is taken leaves the demo without it (a warning). */
  bool http_failed;
  es_http *http = es__http_start(&cfg, true, &http_failed);
  if (http) printf("earshot demo: dashboard at %s\n", es_http_url(http));
  printf("earshot demo: embedded Kafka-protocol broker at %s\n"
         "  topics: mentions (input), earshot.windows, earshot.alerts, earshot.enriched, earshot.dlq, earshot.triage\n"
         "  (triage: complaints to care, every fee mention to comms while the fees alert is open, spam ignored)\n"
         "  watch them from another terminal, e.g.: kcat -b %s -t earshot.alerts -C -f '%%k %%s\\n'\n"
         "  feeding 240,000 generated mentions (4 hours of event time at 300x speed, about 50 s); a fee-complaint\n"
         "  incident starts two hours in. Windows of 5 minutes print as they close; Ctrl-C stops.\n\n",
         boot, boot);
  fflush(stdout);
  pthread_t th;
  if (pthread_create(&th, NULL, feed, &f)) {
    fprintf(stderr, "earshot demo: cannot start the feeder\n");
    es_config_free(&cfg);
    es_broker_stop(br);
    return 1;
  }
  int rc = es__run_pipeline(argc, argv, true, &cfg, http); /* takes cfg over */
  es_http_stop(http);
  es__stop_requested = 1;
  pthread_join(th, NULL);
  es_broker_stop(br);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd)) {}
  return rc;
}
