/* earshot: the command-line entry point. Dispatches to the subcommands in
 * this folder; see `earshot help`. Main thread. */
#include <stdio.h>
#include <string.h>

#include <hs/hs.h>

#include "cli_internal.h"
#include "earshot/version.h"
#include "earshot/mem.h"

static int usage(FILE *f) {
  fputs("earshot - streaming listening engine\n"
        "\n"
        "usage:\n"
        "  earshot replay [-c CONFIG] [--queries FILE] [--input FILE|-] [--output FILE|-] [options]\n"
        "                 run the pipeline over a JSONL file of mentions (see `earshot replay --help`)\n"
        "  earshot run -c CONFIG | --brokers HOST:PORT [--topic T]... [options]\n"
        "                 the service: consume mentions from Kafka, publish windows, alerts, dead letters\n"
        "  earshot demo                         embedded broker + generated stream with an incident + engine\n"
        "  earshot broker [--partitions N] [--topic NAME:PARTITIONS]...\n"
        "                 the embedded Kafka-protocol broker alone; prints its address first\n"
        "  earshot score [--lang L] [--layers LIST] 'TEXT'  sentiment of a text with the per-word breakdown\n"
        "  earshot detect [-p KEY=VALUE]... [FILE|-]\n"
        "                 the detector over a volume series (CSV or window records): a backtest\n"
        "  earshot query check FILE             validate a query file\n"
        "  earshot query explain 'QUERY' 'TEXT' show how a query parses and whether it matches\n"
        "  earshot route explain --triage F 'TEXT' situations and route of a mention (triage)\n"
        "  earshot config check -c FILE         validate a config and the files it names, without starting\n"
        "  earshot health [URL]                 probe /healthz (default http://127.0.0.1:8089/healthz): exit 0 if 2xx\n"
        "  earshot version                      versions of earshot and its libraries\n",
        f);
  return f == stderr ? 2 : 0;
}

int es__cmd_version(void) {
  printf("earshot " ES_VERSION "\nhyperscan %s\nallocator %s\n", hs_version(), es_mem_allocator());
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) return usage(stderr);
  const char *cmd = argv[1];
  if (!strcmp(cmd, "replay")) return es__cmd_replay(argc - 1, argv + 1);
  if (!strcmp(cmd, "run")) return es__cmd_run(argc - 1, argv + 1);
  if (!strcmp(cmd, "broker")) return es__cmd_broker(argc - 1, argv + 1);
  if (!strcmp(cmd, "demo")) return es__cmd_demo(argc - 1, argv + 1);
  if (!strcmp(cmd, "score")) return es__cmd_score(argc - 1, argv + 1);
  if (!strcmp(cmd, "detect")) return es__cmd_detect(argc - 1, argv + 1);
  if (!strcmp(cmd, "query")) return es__cmd_query(argc - 1, argv + 1);
  if (!strcmp(cmd, "route")) return es__cmd_route(argc - 1, argv + 1);
  if (!strcmp(cmd, "config")) return es__cmd_config(argc - 1, argv + 1);
  if (!strcmp(cmd, "health")) return es__cmd_health(argc - 1, argv + 1);
  if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) return es__cmd_version();
  if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) return usage(stdout);
  fprintf(stderr, "earshot: unknown command '%s'\n\n", cmd);
  return usage(stderr);
}
