/* The sentiment scorer alone, single thread: mentions/s and MB/s on a text
 * file (one mention text per line), and the bytes jemalloc allocated on the
 * scoring thread during the timed loop (0 = no allocation per mention).
 *
 *   sentiment_bench TEXTS [LAYERS] [MIN_SECONDS]
 *
 * LAYERS as in `earshot score --layers` ("all" = every built-in layer).
 * Prints key=value pairs for bench/run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "earshot/mem.h"
#include "earshot/sentiment.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs("usage: sentiment_bench TEXTS [LAYERS] [MIN_SECONDS]\n", stderr);
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) {
    perror(argv[1]);
    return 1;
  }
  size_t cap = 1024, n = 0, bytes = 0;
  char **lines = malloc(cap * sizeof *lines);
  size_t *lens = malloc(cap * sizeof *lens);
  char *line = NULL;
  size_t lcap = 0;
  ssize_t len;
  while ((len = getline(&line, &lcap, f)) >= 0) {
    if (len > 0 && line[len - 1] == '\n') len--;
    if (n == cap) {
      cap *= 2;
      lines = realloc(lines, cap * sizeof *lines);
      lens = realloc(lens, cap * sizeof *lens);
    }
    lines[n] = malloc((size_t)len + 1);
    memcpy(lines[n], line, (size_t)len);
    lens[n++] = (size_t)len;
    bytes += (size_t)len;
  }
  free(line);
  fclose(f);
  es_sentiment_opts o = {0};
  char layers[256] = "";
  if (argc > 2 && strcmp(argv[2], "all")) {
    snprintf(layers, sizeof layers, "%s", argv[2]);
    for (char *p = strtok(layers, ","); p && o.nlayers < ES_SENTIMENT_MAX_LAYERS; p = strtok(NULL, ","))
      o.layers[o.nlayers++] = p;
  }
  double min_s = argc > 3 ? atof(argv[3]) : 1.0;
  es_diag d = {{0}};
  es_lexicon *lex = es_lexicon_create(&o, &d);
  es_sentiment_rt *rt = es_sentiment_rt_create();
  if (!lex || !rt || n == 0) {
    fprintf(stderr, "sentiment_bench: %s\n", n == 0 ? "no texts" : d.msg);
    return 1;
  }
  es_sentiment s;
  double sink = 0;
  for (size_t i = 0; i < n; i++) { /* warm-up: caches, page faults */
    es_sentiment_score(lex, rt, lines[i], lens[i], &s, NULL);
    sink += s.compound;
  }
  uint64_t a0 = es_mem_thread_allocated();
  size_t rounds = 0;
  double t0 = now(), t, best = 0;
  do {
    double r0 = now();
    for (size_t i = 0; i < n; i++) {
      es_sentiment_score(lex, rt, lines[i], lens[i], &s, NULL);
      sink += s.compound;
    }
    double r = now() - r0;
    if (r > 0 && (double)n / r > best) best = (double)n / r;
    rounds++;
  } while ((t = now() - t0) < min_s);
  uint64_t a1 = es_mem_thread_allocated();
  double scored = (double)n * (double)rounds;
  printf("texts=%zu rounds=%zu seconds=%.3f earshot_per_s=%.0f earshot_best_round_per_s=%.0f mb_per_s=%.1f alloc_bytes=%llu "
         "alloc_per_mention=%.3f sink=%.3f allocator=\"%s\"\n",
         n, rounds, t, scored / t, best, (double)bytes * (double)rounds / 1e6 / t, (unsigned long long)(a1 - a0),
         (double)(a1 - a0) / scored, sink, es_mem_allocator());
  for (size_t i = 0; i < n; i++) free(lines[i]);
  free(lines);
  free(lens);
  es_sentiment_rt_destroy(rt);
  es_lexicon_destroy(lex);
  return 0;
}
