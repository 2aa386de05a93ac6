/* `earshot broker`: the embedded Kafka-protocol broker alone. Prints its
 * bootstrap address as the first line of stdout, then one reply line per
 * control command read from stdin (see engine/kafka/broker.c), and serves
 * until SIGINT or SIGTERM. Main thread. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_internal.h"
#include "earshot/broker.h"

static volatile sig_atomic_t stop;
static void on_signal(int sig) { stop = sig; }

static const char *const default_topics[] = {"mentions", "earshot.windows", "earshot.alerts", "earshot.enriched",
                                             "earshot.dlq"};

int es__cmd_broker(int argc, char **argv) {
  static const struct option opts[] = {{"partitions", required_argument, 0, 'p'},
                                       {"topic", required_argument, 0, 't'},
                                       {"brokers", required_argument, 0, 'b'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  int partitions = 4, nbrokers = 1, ntopics = 0;
  char *topics[64];
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "p:t:b:h", opts, NULL)) != -1;) {
    if (c == 'p') partitions = atoi(optarg);
    else if (c == 'b') nbrokers = atoi(optarg);
    else if (c == 't' && ntopics < 64) topics[ntopics++] = optarg;
    else {
      fputs("usage: earshot broker [--partitions N] [--brokers N] [--topic NAME[:PARTITIONS]]...\n"
            "Without --topic it creates mentions, earshot.windows, earshot.alerts, earshot.enriched and earshot.dlq.\n"
            "Control commands on stdin: topic NAME PARTITIONS | down ID | up ID | errors API COUNT [CODE] | rtt ID MS\n",
            c == 'h' ? stdout : stderr);
      return c == 'h' ? 0 : 2;
    }
  }
  if (partitions < 1 || nbrokers < 1 || nbrokers > 16) {
    fputs("earshot broker: --partitions must be >= 1 and --brokers between 1 and 16\n", stderr);
    return 2;
  }
  es_diag d;
  es_broker *b = es_broker_start(nbrokers, &d);
  if (!b) {
    fprintf(stderr, "earshot broker: %s\n", d.msg);
    return 1;
  }
  /* Topics first: the broker would auto-create any topic a client names. */
  int rc = 0;
  if (!ntopics) {
    for (size_t i = 0; i < sizeof default_topics / sizeof *default_topics && !rc; i++)
      rc = es_broker_create_topic(b, default_topics[i], partitions, &d);
  }
  for (int i = 0; i < ntopics && !rc; i++) {
    char name[256];
    snprintf(name, sizeof name, "%s", topics[i]);
    char *colon = strrchr(name, ':');
    int parts = partitions;
    if (colon) {
      *colon = 0;
      parts = atoi(colon + 1);
    }
    rc = parts < 1 ? es_diag_set(&d, ES_EINVAL, "--topic %s: PARTITIONS must be >= 1", topics[i])
                   : es_broker_create_topic(b, name, parts, &d);
  }
  if (rc) {
    fprintf(stderr, "earshot broker: %s\n", d.msg);
    es_broker_stop(b);
    return 2;
  }
  printf("%s\n", es_broker_bootstraps(b));
  fflush(stdout);
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  bool stdin_open = true;
  char line[512];
  size_t len = 0;
  while (!stop) {
    struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
    int pr = poll(&pfd, stdin_open ? 1 : 0, 200);
    if (pr <= 0) continue;
    ssize_t n = read(STDIN_FILENO, line + len, sizeof line - 1 - len);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      stdin_open = false; /* keep serving without control input */
      continue;
    }
    len += (size_t)n;
    char *nl;
    while ((nl = memchr(line, '\n', len))) {
      *nl = 0;
      char reply[512];
      if (nl > line) {
        es_broker_command(b, line, reply, sizeof reply);
        printf("%s\n", reply);
        fflush(stdout);
      }
      size_t used = (size_t)(nl - line) + 1;
      memmove(line, nl + 1, len - used);
      len -= used;
    }
    if (len == sizeof line - 1) len = 0; /* an absurdly long line: drop it */
  }
  es_broker_stop(b);
  return 0;
}
