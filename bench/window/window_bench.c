/* The window-update stage alone, against its limit, in one run.
 *
 *   window_bench MENTIONS.jsonl QUERIES.yaml [SECONDS]
 *
 * Mentions are decoded, matched, scored and hashed once up front (what the
 * workers hand the aggregator). Then, on the same observations:
 *   earshot  es_windows_observe into windows of 60 s and 1 h (lateness 10 s)
 *            and the close of every window, as the aggregator does them:
 *            counters, sentiment sums, two HyperLogLogs, Space-Saving of
 *            authors, near-duplicate clusters, sample ids, top reach;
 *   bare     a per-query counter for each size incremented for every hit:
 *            the least any windowing can do with the same hits (the limit).
 * Repeated for at least SECONDS (default 3); prints one line of key=value
 * results. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "earshot/hash.h"
#include "earshot/mention.h"
#include "earshot/query.h"
#include "earshot/sentiment.h"
#include "earshot/window.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

typedef struct rec {
  es_window_obs o;
  uint32_t hit_off, nhits;
} rec;

static uint64_t windows_out;
static void sink(void *ctx, const es_window_result *r) {
  (void)ctx;
  windows_out += r->count > 0;
}

static char *dup_n(const char *s, size_t n) {
  char *d = malloc(n + 1);
  memcpy(d, s, n);
  d[n] = 0;
  return d;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fputs("usage: window_bench MENTIONS.jsonl QUERIES.yaml [SECONDS]\n", stderr);
    return 2;
  }
  double budget = argc > 3 ? atof(argv[3]) : 3.0;
  es_diag d = {{0}};
  int err;
  es_queryset *qs = es_queryset_load(argv[2], &err, &d);
  if (!qs) return fprintf(stderr, "%s\n", d.msg), 1;
  size_t nq = es_queryset_count(qs);
  es_match_rt *mrt = es_match_rt_create(qs);
  es_lexicon *lex = es_lexicon_create_default();
  es_sentiment_rt *srt = es_sentiment_rt_create();
  es_decode_opts o;
  es_decode_opts_default(&o);
  es_decoder *dec = es_decoder_create(&o, &d);
  es_fold fold;
  es_fold_init(&fold);
  FILE *f = fopen(argv[1], "r");
  if (!f || !mrt || !lex || !srt || !dec) return fprintf(stderr, "window_bench: setup failed\n"), 1;
  size_t cap = 1 << 20, n = 0, hcap = 1 << 22, nh = 0;
  rec *recs = malloc(cap * sizeof *recs);
  uint32_t *hits = malloc(hcap * sizeof *hits), *qbuf = malloc((nq + 1) * sizeof *qbuf);
  static char line[1 << 16], padded[(1 << 16) + ES_DECODE_PADDING];
  uint64_t text_bytes = 0;
  while (fgets(line, sizeof line, f) && n < cap) {
    size_t len = strlen(line);
    memcpy(padded, line, len);
    es_mention m;
    char detail[160];
    if (es_decoder_decode(dec, padded, len, INT64_MIN, &m, detail) != ES_REASON_NONE) continue;
    size_t fn;
    const char *ft = es_fold_text(&fold, m.text.p, m.text.n, &fn);
    int k = ft ? es_queryset_match(qs, mrt, ft, fn, qbuf) : 0;
    if (k <= 0 || nh + (size_t)k > hcap) continue;
    es_sentiment s;
    es_sentiment_score_lang(lex, m.lang.p, m.lang.n, srt, m.text.p, m.text.n, &s, NULL);
    char terms[ES_MENTION_TERMS * ES_TERM_MAX];
    size_t tn = 0;
    rec *r = &recs[n++];
    memset(r, 0, sizeof *r);
    r->o.ts_ms = m.ts_ms;
    r->o.content_hash = es_content_hash_terms(m.text.p, m.text.n, terms, sizeof terms, &tn, &r->o.simhash);
    r->o.terms = dup_n(terms, tn);
    r->o.terms_len = tn;
    r->o.author = dup_n(m.author.p, m.author.n);
    r->o.author_len = m.author.n;
    r->o.author_hash = m.author.n ? es_hash_bytes(m.author.p, m.author.n) | 1 : 0;
    r->o.id = dup_n(m.id.p, m.id.n);
    r->o.id_len = m.id.n;
    r->o.followers = m.followers;
    r->o.compound = s.compound;
    r->o.label = s.label;
    r->hit_off = (uint32_t)nh;
    r->nhits = (uint32_t)k;
    memcpy(hits + nh, qbuf, (size_t)k * sizeof *qbuf);
    nh += (size_t)k;
    text_bytes += m.text.n;
  }
  fclose(f);
  if (!n) return fprintf(stderr, "window_bench: no matched mentions\n"), 1;
  es_window_opts wo = {.nsizes = 2, .lateness_ms = 10000};
  wo.size_ms[0] = 60000;
  wo.size_ms[1] = 3600000;
  /* earshot: a fresh set of windows per round, every window closed. */
  size_t rounds = 0;
  double t0 = now(), es_s;
  do {
    es_windows *w = es_windows_create(&wo, nq, sink, NULL);
    for (size_t i = 0; i < n; i++) es_windows_observe(w, &recs[i].o, hits + recs[i].hit_off, recs[i].nhits);
    es_windows_flush(w);
    es_windows_destroy(w);
    rounds++;
  } while ((es_s = now() - t0) < budget);
  double es_rate = (double)n * (double)rounds / es_s;
  /* bare: a counter per query and size. */
  uint64_t *cnt = calloc(nq * 2 + 1, sizeof *cnt), sum = 0;
  size_t brounds = 0;
  double bare_s;
  t0 = now();
  do {
    for (size_t i = 0; i < n; i++)
      for (uint32_t k = 0; k < recs[i].nhits; k++) {
        uint32_t q = hits[recs[i].hit_off + k];
        cnt[q * 2]++;
        cnt[q * 2 + 1]++;
      }
    brounds++;
  } while ((bare_s = now() - t0) < budget);
  for (size_t q = 0; q < nq * 2; q++) sum += cnt[q];
  double bare_rate = (double)n * (double)brounds / bare_s;
  printf("mentions=%zu queries=%zu hits_per_mention=%.2f rounds=%zu earshot_per_s=%.0f mb_per_s=%.1f bare_per_s=%.0f "
         "windows_per_round=%llu sink=%llu\n",
         n, nq, (double)nh / (double)n, rounds, es_rate, (double)text_bytes * (double)rounds / es_s / 1e6, bare_rate,
         (unsigned long long)(windows_out / rounds), (unsigned long long)sum);
  return 0;
}
