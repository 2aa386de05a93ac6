/* `earshot replay` (the pipeline over a JSONL file or stdin) and `earshot
 * run` (the service on Kafka topics): one set of flags, which override the
 * config file; each run ends with a summary on stderr. Main thread;
 * SIGINT/SIGTERM stop reading and finish what was read. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>

#include "cli_internal.h"
#include "earshot/config.h"
#include "earshot/http.h"
#include "earshot/kafka.h"
#include "earshot/log.h"
#include "earshot/mem.h"
#include "earshot/pipeline.h"
#include "earshot/timeutil.h"
#include "earshot/triage.h"
#include "earshot/version.h"

volatile int es__stop_requested;
#define stop_requested es__stop_requested

static void on_signal(int sig) { stop_requested = sig; }

static const char *cmd_name = "replay";

static int help(FILE *f) {
  if (!strcmp(cmd_name, "run"))
    fputs("usage: earshot run -c CONFIG | --brokers HOST:PORT [--topic NAME]... [options]\n"
          "      --brokers LIST       Kafka bootstrap servers\n"
          "      --topic NAME         input topic, repeatable (default: mentions)\n"
          "      --group ID           consumer group (default: earshot)\n"
          "      --windows-topic T    (default: earshot.windows)\n"
          "      --alerts-topic T     (default: earshot.alerts)\n"
          "      --enriched-topic T   (default: off)\n"
          "      --dlq-topic T        (default: earshot.dlq)\n"
          "      --triage-topic T     triage records keyed by track (default: off; needs --triage)\n"
          "      --output FILE|-      also write window records here\n"
          "      --exactly-once       suppress windows and alerts already on the output topics\n"
          "                           (one engine process per group; see the README)\n"
          "  and the replay options below except --input\n",
          f);
  fputs("usage: earshot replay [options]\n"
        "  -c, --config FILE        YAML config (flags override it)\n"
        "      --queries FILE       YAML query file\n"
        "      --input FILE|-       mentions, one JSON object per line (default: stdin)\n"
        "      --output FILE|-      window records, JSON lines (default: stdout)\n"
        "      --enriched-output F  matched mentions with query ids and sentiment\n"
        "      --alerts-output F    alert events (opened, updated, resolved): their window records\n"
        "      --dlq-output FILE    dead letters (default: earshot.dlq.jsonl, created when needed)\n"
        "      --triage FILE        triage file: situations and routes of matched mentions (README, Triage)\n"
        "      --triage-output F    triage records: each matched mention with its situations and route\n"
        "      --window 60s[,1h]    window size(s) (default 60s)\n"
        "      --lateness 10s       allowed lateness (default 10s)\n"
        "      --idle-flush 30s     close windows after this much wall-clock idle time (0 = never)\n"
        "      --early-updates 1s   also write open windows that changed, this often (default 0 = never)\n"
        "      --workers N          worker threads (default 1)\n"
        "      --format json|pretty window output format (default json)\n"
        "      --no-progress        no progress bar on the terminal\n"
        "      --no-reload          do not reload the query file on change or SIGHUP\n"
        "      --layers LIST        sentiment lexicon layers, e.g. vader,emoji (default: all built in)\n"
        "      --http HOST:PORT     serve health, metrics, the API and the dashboard here (run and demo:\n"
        "                           " ES_HTTP_DEFAULT_LISTEN " by default; replay: only when asked; off: never)\n"
        "      --http-token-file F  every endpoint but /healthz and /readyz needs this bearer token\n"
        "      --log-format FMT     logfmt (default) or json (one object per line)\n",
        f);
  return f == stderr ? 2 : 0;
}

static int fail_usage(const char *msg, const char *arg) {
  fprintf(stderr, "earshot %s: %s%s%s\n", cmd_name, msg, arg ? ": " : "", arg ? arg : "");
  return 2;
}

int es__cmd_replay(int argc, char **argv) { return es__run_pipeline(argc, argv, false, NULL, NULL); }
int es__cmd_run(int argc, char **argv) { return es__run_pipeline(argc, argv, true, NULL, NULL); }

/* The bearer token: http.token, or the first line of http.token_file. */
int es__read_token(const es_config *cfg, const char *who, char *out, size_t n) {
  out[0] = 0;
  if (cfg->http.token) {
    snprintf(out, n, "%s", cfg->http.token);
    return 0;
  }
  if (!cfg->http.token_file) return 0;
  FILE *f = fopen(cfg->http.token_file, "r");
  if (!f || !fgets(out, (int)n, f)) {
    fprintf(stderr, "%s: cannot read http.token_file '%s'\n", who, cfg->http.token_file);
    if (f) fclose(f);
    return -1;
  }
  fclose(f);
  out[strcspn(out, "\r\n")] = 0;
  if (!out[0]) {
    fprintf(stderr, "%s: http.token_file '%s' is empty\n", who, cfg->http.token_file);
    return -1;
  }
  return 0;
}

es_http *es__http_start(const es_config *cfg, bool by_default, bool *failed) {
  *failed = false;
  const char *listen = cfg->http.listen ? cfg->http.listen : by_default ? ES_HTTP_DEFAULT_LISTEN : NULL;
  if (!listen || !strcmp(listen, "off")) return NULL;
  char token[512], who[32];
  snprintf(who, sizeof who, "earshot %s", cmd_name);
  if (es__read_token(cfg, who, token, sizeof token)) {
    *failed = true;
    return NULL;
  }
  es_buf cj;
  es_buf_init(&cj);
  es_config_json(cfg, &cj);
  es_buf_putc(&cj, 0); /* a C string from here */
  es_diag d = {{0}};
  es_http_opts o = {.listen = listen, .token = token[0] ? token : NULL, .max_connections = cfg->http.max_connections,
                    .head_timeout_ms = cfg->http.head_timeout_ms,
                    .history = cfg->http.history, .version = ES_VERSION, .config_json = cj.data};
  es_http *h = es_http_start(&o, &d);
  es_buf_free(&cj);
  if (!h && cfg->http.listen) {
    fprintf(stderr, "earshot %s: %s\n", cmd_name, d.msg);
    *failed = true;
  } else if (!h) {
    es_log_warn("the HTTP endpoint is off: its default address is not free (set http.listen)", "error=\"%s\"", d.msg);
  } else {
    es_log_info("serving HTTP", "url=%s auth=%s", es_http_url(h), token[0] ? "bearer" : "none");
  }
  return h;
}

int es__run_pipeline(int argc, char **argv, bool kafka, const es_config *preset, es_http *http) {
  enum { O_QUERIES = 256, O_INPUT, O_OUTPUT, O_ENRICHED, O_DLQ, O_WINDOW, O_LATENESS, O_IDLE, O_WORKERS, O_FORMAT,
         O_NOPROGRESS, O_BROKERS, O_TOPIC, O_GROUP, O_WTOPIC, O_ATOPIC, O_ETOPIC, O_DTOPIC, O_EXACTLY, O_NORELOAD, O_LAYERS, O_ALERTS, O_EARLY, O_HTTP, O_HTTP_TOKEN_FILE, O_LOG_FORMAT, O_TRIAGE, O_TRIAGE_OUT, O_TTOPIC };
  static const struct option opts[] = {
    {"config", required_argument, 0, 'c'},         {"queries", required_argument, 0, O_QUERIES},
    {"input", required_argument, 0, O_INPUT},       {"output", required_argument, 0, O_OUTPUT},
    {"enriched-output", required_argument, 0, O_ENRICHED}, {"dlq-output", required_argument, 0, O_DLQ},
    {"window", required_argument, 0, O_WINDOW},     {"lateness", required_argument, 0, O_LATENESS},
    {"idle-flush", required_argument, 0, O_IDLE},   {"workers", required_argument, 0, O_WORKERS},
    {"format", required_argument, 0, O_FORMAT},     {"no-progress", no_argument, 0, O_NOPROGRESS},
    {"brokers", required_argument, 0, O_BROKERS},   {"topic", required_argument, 0, O_TOPIC},
    {"group", required_argument, 0, O_GROUP},       {"windows-topic", required_argument, 0, O_WTOPIC},
    {"alerts-topic", required_argument, 0, O_ATOPIC}, {"enriched-topic", required_argument, 0, O_ETOPIC},
    {"dlq-topic", required_argument, 0, O_DTOPIC},  {"exactly-once", no_argument, 0, O_EXACTLY},
    {"no-reload", no_argument, 0, O_NORELOAD},     {"layers", required_argument, 0, O_LAYERS},
    {"alerts-output", required_argument, 0, O_ALERTS}, {"early-updates", required_argument, 0, O_EARLY},
    {"http", required_argument, 0, O_HTTP},         {"http-token-file", required_argument, 0, O_HTTP_TOKEN_FILE},
    {"log-format", required_argument, 0, O_LOG_FORMAT}, {"triage", required_argument, 0, O_TRIAGE},
    {"triage-output", required_argument, 0, O_TRIAGE_OUT}, {"triage-topic", required_argument, 0, O_TTOPIC},
    {"help", no_argument, 0, 'h'},                  {0, 0, 0, 0}};
  cmd_name = kafka ? "run" : "replay";
  es_config cfg;
  if (preset) cfg = *preset; /* the demo's settings; owned from here */
  else es_config_default(&cfg);
  es_diag d = {{0}};
  int rc = 2;
  const char *config_path = NULL;
  /* First pass: the config file, so flags can override it. */
  optind = 1;
  opterr = 0;
  for (int c; (c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1;)
    if (c == 'c') config_path = optarg;
  if (config_path && es_config_load(&cfg, config_path, &d)) {
    fprintf(stderr, "earshot %s: %s\n", cmd_name, d.msg);
    goto out;
  }
  optind = 1;
  opterr = 1;
  for (int c; (c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1;) {
    int64_t ms;
    switch (c) {
    case 'c': break;
    case 'h': rc = help(stdout); goto out;
    case O_QUERIES: es_config_set_str(&cfg.queries, optarg); break;
    case O_INPUT: es_config_set_str(&cfg.input, optarg); break;
    case O_OUTPUT: es_config_set_str(&cfg.output, optarg); break;
    case O_ENRICHED: es_config_set_str(&cfg.enriched_output, optarg); break;
    case O_ALERTS: es_config_set_str(&cfg.alerts_output, optarg); break;
    case O_DLQ: es_config_set_str(&cfg.dlq_output, optarg); break;
    case O_TRIAGE: es_config_set_str(&cfg.triage, optarg); break;
    case O_TRIAGE_OUT: es_config_set_str(&cfg.triage_output, optarg); break;
    case O_TTOPIC: es_config_set_str(&cfg.kafka.triage_topic, optarg); break;
    case O_WINDOW:
      if (es_config_set_windows(&cfg, optarg, &d)) {
        rc = fail_usage(d.msg, NULL);
        goto out;
      }
      break;
    case O_LATENESS:
    case O_IDLE:
      if (es_duration_parse(optarg, &ms)) {
        rc = fail_usage(c == O_LATENESS ? "--lateness needs a duration such as 10s" : "--idle-flush needs a duration such as 30s", optarg);
        goto out;
      }
      if (c == O_LATENESS) cfg.windows.lateness_ms = ms;
      else cfg.windows.idle_flush_ms = ms;
      break;
    case O_EARLY:
      if (es_duration_parse(optarg, &ms) || (ms && ms < ES_EARLY_MIN_MS)) {
        rc = fail_usage("--early-updates needs 0 (off) or a duration of at least 10ms such as 1s", optarg);
        goto out;
      }
      cfg.windows.early_ms = ms;
      break;
    case O_WORKERS: {
      char *end;
      long n = strtol(optarg, &end, 10);
      if (*end || n < 1 || n > ES_MAX_WORKERS) {
        rc = fail_usage("--workers must be between 1 and 64", optarg);
        goto out;
      }
      cfg.workers = (int)n;
      break;
    }
    case O_FORMAT:
      if (strcmp(optarg, "json") && strcmp(optarg, "pretty")) {
        rc = fail_usage("--format must be json or pretty", optarg);
        goto out;
      }
      cfg.pretty = !strcmp(optarg, "pretty");
      break;
    case O_NOPROGRESS: cfg.progress = false; break;
    case O_BROKERS: es_config_set_str(&cfg.kafka.brokers, optarg); break;
    case O_TOPIC:
      if (es_config_add_topic(&cfg, optarg, &d)) {
        rc = fail_usage(d.msg, NULL);
        goto out;
      }
      break;
    case O_GROUP: es_config_set_str(&cfg.kafka.group, optarg); break;
    case O_WTOPIC: es_config_set_str(&cfg.kafka.windows_topic, optarg); break;
    case O_ATOPIC: es_config_set_str(&cfg.kafka.alerts_topic, optarg); break;
    case O_ETOPIC: es_config_set_str(&cfg.kafka.enriched_topic, optarg); break;
    case O_DTOPIC: es_config_set_str(&cfg.kafka.dlq_topic, optarg); break;
    case O_EXACTLY: cfg.kafka.exactly_once = true; break;
    case O_NORELOAD: cfg.reload = false; break;
    case O_HTTP: es_config_set_str(&cfg.http.listen, optarg); break;
    case O_HTTP_TOKEN_FILE: es_config_set_str(&cfg.http.token_file, optarg); break;
    case O_LOG_FORMAT:
      if (strcmp(optarg, "json") && strcmp(optarg, "logfmt")) {
        rc = fail_usage("--log-format must be logfmt or json", optarg);
        goto out;
      }
      cfg.log_json = !strcmp(optarg, "json");
      break;
    case O_LAYERS:
      if (es_config_set_layers(&cfg, optarg, &d)) {
        rc = fail_usage(d.msg, NULL);
        goto out;
      }
      break;
    default: rc = help(stderr); goto out;
    }
  }
  es_log_set_json(cfg.log_json);
  if (optind < argc) {
    rc = fail_usage("unexpected argument", argv[optind]);
    goto out;
  }
  if (!cfg.queries) {
    rc = fail_usage("no query file: pass --queries FILE or set 'queries:' in the config", NULL);
    goto out;
  }
  if (kafka) {
    if (!cfg.kafka.brokers) {
      rc = fail_usage("no Kafka brokers: pass --brokers HOST:PORT or set kafka.brokers in the config", NULL);
      goto out;
    }
    if (!cfg.kafka.ntopics) es_config_add_topic(&cfg, "mentions", &d);
    if (!cfg.kafka.windows_topic) es_config_set_str(&cfg.kafka.windows_topic, "earshot.windows");
    if (!cfg.kafka.alerts_topic) es_config_set_str(&cfg.kafka.alerts_topic, "earshot.alerts");
    if (!cfg.kafka.dlq_topic) es_config_set_str(&cfg.kafka.dlq_topic, "earshot.dlq");
    if (cfg.kafka.exactly_once && cfg.kafka.flush_on_shutdown) {
      rc = fail_usage("kafka.exactly_once cannot be combined with kafka.flush_on_shutdown: a window flushed at "
                      "shutdown is partial, and after a restart it would suppress its complete version", NULL);
      goto out;
    }
  } else if (cfg.kafka.brokers) {
    /* replay reads files even when the config also describes Kafka */
    es_free(cfg.kafka.brokers);
    cfg.kafka.brokers = NULL;
  }
  if ((cfg.triage_output || cfg.kafka.triage_topic) && !cfg.triage) {
    rc = fail_usage("triage records need a triage file: pass --triage FILE or set 'triage:' in the config", NULL);
    goto out;
  }
  int err;
  es_triage *triage = NULL;
  if (cfg.triage && !(triage = es_triage_load(cfg.triage, &err, &d))) {
    fprintf(stderr, "earshot %s: %s\n", cmd_name, d.msg);
    goto out;
  }
  es_query_opts qo = {.accent_insensitive = cfg.accent_insensitive};
  es_queryset *qs = es_queryset_load_opts(cfg.queries, &qo, &err, &d);
  if (!qs) {
    fprintf(stderr, "earshot %s: %s\n", cmd_name, d.msg);
    es_triage_destroy(triage);
    goto out;
  }
  es_sentiment_opts so;
  es_config_sentiment_opts(&cfg, &so);
  es_lexicon *lex = es_lexicon_create(&so, &d);
  if (!lex) {
    fprintf(stderr, "earshot %s: %s\n", cmd_name, d.msg);
    es_queryset_destroy(qs);
    es_triage_destroy(triage);
    rc = 2;
    goto out;
  }
  char lexdesc[512];
  es_lexicon_describe(lex, lexdesc, sizeof lexdesc);
  es_log_info("starting", "version=" ES_VERSION " allocator=\"%s\" hyperscan=\"%s\" queries=%zu atoms=%zu workers=%d sentiment=\"%s\"",
              es_mem_allocator(), hs_version(), es_queryset_count(qs), es_queryset_atom_count(qs), cfg.workers,
              lexdesc);
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGHUP, SIG_IGN); /* until the reload thread handles it: never terminate on it */
  if (kafka) es_log_info("consuming", "brokers=%s topic=%s group=%s windows_topic=%s", cfg.kafka.brokers,
                         cfg.kafka.topics[0], cfg.kafka.group ? cfg.kafka.group : "earshot", cfg.kafka.windows_topic);
  bool own_http = !http, http_failed = false;
  if (!http) http = es__http_start(&cfg, kafka, &http_failed);
  if (http_failed) {
    es_lexicon_destroy(lex);
    es_queryset_destroy(qs);
    es_triage_destroy(triage);
    rc = 2;
    goto out;
  }
  es_pipeline_stats st;
  es_run_io io = {.triage = triage};
  es_sink *live = http ? es_http_sink(http) : NULL;
  if (live) {
    io.sinks = &live;
    io.nsinks = 1;
  }
  int prc = 0;
  if (kafka && !(io.input = es_kafka_input_create(&cfg, &d))) prc = ES_ECONFIG;
  if (!prc) prc = es_pipeline_run(&cfg, qs, lex, &io, &stop_requested, &st, &d);
  else memset(&st, 0, sizeof st);
  es_input_destroy(io.input);
  if (own_http) es_http_stop(http);
  uint64_t dead = 0;
  char reasons[512] = "";
  for (int r = 1; r < ES_REASON_COUNT; r++) {
    if (!st.reasons[r]) continue;
    dead += st.reasons[r];
    size_t l = strlen(reasons);
    snprintf(reasons + l, sizeof reasons - l, " %s=%llu", es_reason_name(r), (unsigned long long)st.reasons[r]);
  }
  if (st.early_updates) { /* only when asked for: the line stays as it was otherwise */
    size_t l = strlen(reasons);
    snprintf(reasons + l, sizeof reasons - l, " early_updates=%llu", (unsigned long long)st.early_updates);
  }
  double rate = st.seconds > 0 ? (double)st.lines / st.seconds : 0;
  /* Every class, then the alerts opened and resolved. */
  char classes[512] = "";
  for (int k = 0; k < ES_CLASS_COUNT; k++) {
    size_t l = strlen(classes);
    snprintf(classes + l, sizeof classes - l, " %s=%llu", es_class_name(k), (unsigned long long)st.classes[k]);
  }
  es_log_info("finished", "lines=%llu accepted=%llu matched=%llu windows=%llu%s thresholds=%llu alerts_opened=%llu "
              "alerts_resolved=%llu dead_letters=%llu%s seconds=%.3f mentions_per_s=%.0f mb_per_s=%.1f%s",
              (unsigned long long)st.lines, (unsigned long long)st.accepted, (unsigned long long)st.matched,
              (unsigned long long)st.windows, classes, (unsigned long long)st.thresholds,
              (unsigned long long)st.alerts_opened, (unsigned long long)st.alerts_resolved,
              (unsigned long long)dead, reasons, st.seconds, rate, st.seconds > 0 ? (double)st.bytes / 1e6 / st.seconds : 0,
              stop_requested ? " stopped=signal" : "");
  if (dead && !kafka) es_log_info("dead letters written", "path=%s", cfg.dlq_output ? cfg.dlq_output : "earshot.dlq.jsonl");
  if (prc) es_log_error("pipeline failed", "error=\"%s\"", d.msg);
  if (triage)
    es_log_info("triage", "routed=%llu ignored=%llu unrouted=%llu crisis=%llu off_hours=%llu overflowed=%llu "
                "responses=%llu responses_unknown=%llu late=%llu unanswered=%llu sla_events=%llu untracked=%llu",
                (unsigned long long)st.triage.routed, (unsigned long long)st.triage.ignored,
                (unsigned long long)st.triage.unrouted, (unsigned long long)st.triage.crisis,
                (unsigned long long)st.triage.off_hours, (unsigned long long)st.triage.overflowed,
                (unsigned long long)st.triage.responses, (unsigned long long)st.triage.responses_unknown,
                (unsigned long long)st.triage_late, (unsigned long long)st.triage_unanswered,
                (unsigned long long)st.sla_events, (unsigned long long)st.triage.untracked);
  rc = prc ? 1 : 0;
  es_lexicon_destroy(lex);
  es_queryset_destroy(qs);
  es_triage_destroy(triage);
out:
  es_config_free(&cfg);
  return rc;
}
