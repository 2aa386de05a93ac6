/* Commands for operating the engine, not for running it:
 *   earshot config check -c FILE [--queries FILE]
 *     validates a config and everything it names (the query file, the
 *     sentiment lexicon files, the HTTP address and token file) without
 *     starting; exits like `query check` (0 valid, 2 not).
 *   earshot health [URL] [--timeout SECONDS]
 *     probes /healthz (or any URL of the engine) over plain HTTP/1.0 with
 *     nothing but a socket: for container health checks in an image
 *     without curl. 0 on a 2xx answer, 1 otherwise (the reason on stderr).
 * Main thread. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli_internal.h"
#include "earshot/triage.h"
#include "earshot/http.h"
#include "earshot/query.h"
#include "earshot/sentiment.h"

static void print_error(void *ctx, const char *msg) {
  const char *cfg = ctx;
  fprintf(stderr, "%s: %s\n", cfg, msg);
}

static int config_check(int argc, char **argv) {
  static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                       {"queries", required_argument, 0, 'q'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *path = NULL, *queries = NULL;
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "c:q:h", opts, NULL)) != -1;) {
    switch (c) {
    case 'c': path = optarg; break;
    case 'q': queries = optarg; break;
    case 'h':
      puts("usage: earshot config check -c FILE [--queries FILE]\n"
           "validates a config and what it names (query file, lexicon files, http.listen, http.token_file)\n"
           "without starting; exit 0 when valid, 2 when not (each problem on stderr)");
      return 0;
    default: return 2;
    }
  }
  if (!path && optind < argc) path = argv[optind++];
  if (!path || optind < argc) {
    fputs("usage: earshot config check -c FILE [--queries FILE]\n", stderr);
    return 2;
  }
  es_config cfg;
  es_config_default(&cfg);
  es_diag d = {{0}};
  int problems = 0;
  if (es_config_load(&cfg, path, &d)) {
    fprintf(stderr, "%s\n", d.msg);
    es_config_free(&cfg);
    return 2;
  }
  if (queries) es_config_set_str(&cfg.queries, queries);
  size_t nq = 0, na = 0;
  if (!cfg.queries) {
    fprintf(stderr, "%s: no query file: set 'queries:' (or pass --queries FILE)\n", path);
    problems++;
  } else {
    int errors = es_queryset_check(cfg.queries, print_error, (void *)path, &nq, &na, &d);
    if (errors < 0) {
      fprintf(stderr, "%s: %s\n", path, d.msg);
      problems++;
    } else {
      problems += errors;
    }
  }
  es_sentiment_opts so;
  es_config_sentiment_opts(&cfg, &so);
  es_lexicon *lex = es_lexicon_create(&so, &d);
  if (!lex) {
    fprintf(stderr, "%s: %s\n", path, d.msg);
    problems++;
  }
  es_lexicon_destroy(lex);
  if (cfg.triage) {
    int err;
    es_triage *t = es_triage_load(cfg.triage, &err, &d);
    if (!t) {
      fprintf(stderr, "%s: %s\n", path, d.msg);
      problems++;
    }
    es_triage_destroy(t);
  } else if (cfg.triage_output || cfg.kafka.triage_topic) {
    fprintf(stderr, "%s: output.triage and kafka.triage_topic need a triage file ('triage:')\n", path);
    problems++;
  }
  if (cfg.http.listen && es_http_check_listen(cfg.http.listen, &d)) {
    fprintf(stderr, "%s: %s\n", path, d.msg);
    problems++;
  }
  char token[512];
  if (es__read_token(&cfg, path, token, sizeof token)) problems++;
  if (cfg.kafka.exactly_once && cfg.kafka.flush_on_shutdown) {
    fprintf(stderr, "%s: kafka.exactly_once cannot be combined with kafka.flush_on_shutdown\n", path);
    problems++;
  }
  if (!problems) {
    printf("%s: valid: %zu queries (%zu distinct terms and phrases) from %s; %s\n", path, nq, na, cfg.queries,
           cfg.kafka.brokers ? "earshot run reads Kafka" : "no kafka.brokers: replay only, or pass --brokers to run");
  } else {
    fprintf(stderr, "%s: %d problem%s\n", path, problems, problems == 1 ? "" : "s");
  }
  es_config_free(&cfg);
  return problems ? 2 : 0;
}

int es__cmd_config(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "check")) return config_check(argc - 1, argv + 1);
  fputs("usage: earshot config check -c FILE [--queries FILE]\n", stderr);
  return 2;
}

/* Milliseconds left before `deadline` (CLOCK_MONOTONIC ms), at least 0. */
static int left_ms(int64_t deadline) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  return deadline > now ? (int)(deadline - now) : 0;
}

static int health_fail(const char *url, const char *why) {
  fprintf(stderr, "earshot health: %s: %s\n", url, why);
  return 1;
}

int es__cmd_health(int argc, char **argv) {
  static const struct option opts[] = {{"timeout", required_argument, 0, 't'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  double timeout = 3;
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "t:h", opts, NULL)) != -1;) {
    if (c == 't') {
      char *end;
      timeout = strtod(optarg, &end);
      if (*end || !(timeout > 0 && timeout <= 600)) {
        fprintf(stderr, "earshot health: --timeout must be seconds between 0 and 600, not '%s'\n", optarg);
        return 2;
      }
    } else if (c == 'h') {
      puts("usage: earshot health [URL] [--timeout SECONDS]\n"
           "GET URL (default http://127.0.0.1:8089/healthz): exit 0 on a 2xx answer, 1 otherwise");
      return 0;
    } else {
      return 2;
    }
  }
  const char *url = optind < argc ? argv[optind++] : "http://127.0.0.1:8089/healthz";
  if (optind < argc) {
    fputs("usage: earshot health [URL] [--timeout SECONDS]\n", stderr);
    return 2;
  }
  /* http://HOST[:PORT][/PATH], HOST a name, an IPv4 address or [IPv6]. */
  if (strncmp(url, "http://", 7)) {
    fprintf(stderr, "earshot health: '%s': only http:// URLs\n", url);
    return 2;
  }
  const char *h = url + 7, *path = strchr(h, '/');
  if (!path) path = h + strlen(h);
  char host[256], port[16] = "80";
  size_t hn = (size_t)(path - h);
  const char *colon = NULL;
  if (h[0] == '[') {
    const char *rb = memchr(h, ']', hn);
    if (!rb) return fprintf(stderr, "earshot health: '%s': unclosed [\n", url), 2;
    if (rb + 1 < path && rb[1] == ':') colon = rb + 1;
    if ((size_t)(rb - h - 1) >= sizeof host) return fprintf(stderr, "earshot health: '%s': host too long\n", url), 2;
    snprintf(host, sizeof host, "%.*s", (int)(rb - h - 1), h + 1);
  } else {
    colon = memchr(h, ':', hn);
    size_t n = colon ? (size_t)(colon - h) : hn;
    if (!n || n >= sizeof host) return fprintf(stderr, "earshot health: '%s': no host\n", url), 2;
    snprintf(host, sizeof host, "%.*s", (int)n, h);
  }
  if (colon) {
    size_t pn = (size_t)(path - colon - 1);
    if (!pn || pn >= sizeof port || strspn(colon + 1, "0123456789") < pn)
      return fprintf(stderr, "earshot health: '%s': the port must be a number\n", url), 2;
    snprintf(port, sizeof port, "%.*s", (int)pn, colon + 1);
  }
  if (!*path) path = "/";

  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  int64_t deadline = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + (int64_t)(timeout * 1000);
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
  int ge = getaddrinfo(host, port, &hints, &ai);
  if (ge) return health_fail(url, gai_strerror(ge));
  int fd = -1;
  const char *why = "cannot connect";
  for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) && errno != EINPROGRESS) {
      why = strerror(errno);
      close(fd);
      fd = -1;
      continue;
    }
    struct pollfd pf = {.fd = fd, .events = POLLOUT};
    int err = 0;
    socklen_t el = sizeof err;
    if (poll(&pf, 1, left_ms(deadline)) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) || err) {
      why = err ? strerror(err) : "connection timed out";
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(ai);
  if (fd < 0) return health_fail(url, why);
  char req[1024];
  int rn = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: earshot-health\r\n\r\n", path, host);
  if (rn <= 0 || (size_t)rn >= sizeof req) {
    close(fd);
    return fprintf(stderr, "earshot health: '%s': path too long\n", url), 2;
  }
  for (int off = 0; off < rn;) {
    struct pollfd pf = {.fd = fd, .events = POLLOUT};
    if (poll(&pf, 1, left_ms(deadline)) != 1) {
      close(fd);
      return health_fail(url, "timed out sending the request");
    }
    ssize_t k = send(fd, req + off, (size_t)(rn - off), MSG_NOSIGNAL);
    if (k < 0 && errno != EAGAIN && errno != EINTR) {
      close(fd);
      return health_fail(url, strerror(errno));
    }
    if (k > 0) off += (int)k;
  }
  /* The answer: HTTP/1.0 closes after it; up to 64 KiB is read. */
  static char resp[65536];
  size_t n = 0;
  for (;;) {
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    if (poll(&pf, 1, left_ms(deadline)) != 1) {
      close(fd);
      return health_fail(url, n ? "timed out reading the answer" : "no answer");
    }
    ssize_t k = recv(fd, resp + n, sizeof resp - 1 - n, 0);
    if (k < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (k <= 0) break;
    n += (size_t)k;
    if (n == sizeof resp - 1) break;
  }
  close(fd);
  resp[n] = 0;
  int status = 0;
  if (sscanf(resp, "HTTP/%*d.%*d %d", &status) != 1) return health_fail(url, "not an HTTP answer");
  const char *body = strstr(resp, "\r\n\r\n");
  body = body ? body + 4 : "";
  fputs(body, stdout);
  if (*body && body[strlen(body) - 1] != '\n') putchar('\n');
  if (status < 200 || status > 299) {
    char why2[64];
    snprintf(why2, sizeof why2, "HTTP %d", status);
    return health_fail(url, why2);
  }
  return 0;
}
