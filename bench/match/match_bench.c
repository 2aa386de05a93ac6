/* The match stage alone, against its limit and a naive peer, in one run.
 *
 *   match_bench MENTIONS.jsonl QUERIES.yaml [SECONDS]
 *
 * Texts are decoded and case-folded once up front (the pipeline does the
 * same per mention before matching). Then, on the same folded texts:
 *   earshot  es_queryset_match: Hyperscan scan, word-boundary checks,
 *            phrases, NEAR, field filters, query evaluation;
 *   hs_scan  a raw scan of the same database with a callback that does
 *            nothing (the limit: what Hyperscan alone costs);
 * earshot and hs_scan run in alternating rounds (ES_BENCH_ROUNDS, default
 * 5), each keeping its best round.
 *   pcre2    the naive peer: one PCRE2 regex per query (the alternation of
 *            its terms, phrases and wildcards), run on every text; timed
 *            on a prefix of the texts for at most SECONDS (default 3).
 * Prints one line of key=value results; match_checksum sums (mention,
 * query) pairs, so a change to the matcher can be checked for equal results. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <hs/hs.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "earshot/buf.h"
#include "earshot/mention.h"
#include "earshot/query.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long rss_kb(void) {
  long pages = 0, rss = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f && fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
  if (f) fclose(f);
  return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static int noop(unsigned id, unsigned long long from, unsigned long long to, unsigned fl, void *ctx) { return 0; }

/* Appends a PCRE2-escaped copy of s[0..n). */
static void quote(es_buf *b, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (strchr("\\^$.|?*+()[]{}/", s[i])) es_buf_putc(b, '\\');
    es_buf_putc(b, s[i]);
  }
}

/* The alternation of a query's atoms, as a hand-written listener would. */
static void naive_regex(const es_queryset *qs, const es_qnode *nd, es_buf *b) {
  if (nd->kind == ES_Q_NOT) return;
  if (nd->kind != ES_Q_ATOM) {
    for (uint32_t i = 0; i < nd->nkids; i++) naive_regex(qs, nd->kids[i], b);
    return;
  }
  const es_atom *a = es_queryset_atom(qs, nd->atom);
  if (a->kind == ES_ATOM_FIELD || a->kind == ES_ATOM_REGEX) return;
  if (b->len) es_buf_putc(b, '|');
  es_buf_puts(b, "\\b");
  for (size_t i = 0; i < a->len; i++) {
    if (a->text[i] == ' ') es_buf_puts(b, "\\W+");
    else if (a->text[i] == '?') es_buf_puts(b, "\\w");
    else quote(b, a->text + i, 1);
  }
  es_buf_puts(b, a->kind == ES_ATOM_PREFIX ? "\\w*" : "\\b");
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fputs("usage: match_bench MENTIONS.jsonl QUERIES.yaml [SECONDS]\n", stderr);
    return 2;
  }
  double budget = argc > 3 ? atof(argv[3]) : 3.0;
  /* Texts, decoded and folded once. */
  FILE *f = fopen(argv[1], "r");
  if (!f) return perror(argv[1]), 1;
  es_decode_opts o;
  es_decode_opts_default(&o);
  es_diag d = {{0}};
  es_decoder *dec = es_decoder_create(&o, &d);
  es_fold fold;
  es_fold_init(&fold);
  es_buf texts;
  es_buf_init(&texts);
  size_t cap = 1 << 20, nt = 0;
  size_t *off = malloc(cap * sizeof *off), *len = malloc(cap * sizeof *len);
  char line[1 << 16];
  static char padded[(1 << 16) + ES_DECODE_PADDING];
  size_t raw_bytes = 0;
  while (fgets(line, sizeof line, f) && nt < cap) {
    size_t n = strlen(line);
    memcpy(padded, line, n);
    es_mention m;
    char detail[160];
    if (es_decoder_decode(dec, padded, n, INT64_MIN, &m, detail) != ES_REASON_NONE) continue;
    size_t fn;
    const char *ft = es_fold_text(&fold, m.text.p, m.text.n, &fn);
    if (!ft) continue;
    off[nt] = texts.len;
    len[nt++] = fn;
    es_buf_put(&texts, ft, fn);
    raw_bytes += fn;
  }
  fclose(f);
  /* Queries: compile time, database size, memory. */
  long rss0 = rss_kb();
  double t0 = now();
  int err;
  es_queryset *qs = es_queryset_load(argv[2], &err, &d);
  double compile_s = now() - t0;
  if (!qs) return fprintf(stderr, "%s\n", d.msg), 1;
  long rss1 = rss_kb();
  es_match_rt *rt = es_match_rt_create(qs);
  uint32_t *out = malloc((es_queryset_count(qs) + 1) * sizeof *out);
  /* earshot and the raw scan, in alternating rounds: this VM's speed moves
   * by 20 % within seconds, so each side keeps its best round of
   * ES_BENCH_ROUNDS (default 5) and both saw the same moments. */
  const hs_database_t *db = es_queryset_hs_database(qs);
  hs_scratch_t *scratch = NULL;
  if (db) hs_alloc_scratch(db, &scratch);
  int rounds = getenv("ES_BENCH_ROUNDS") ? atoi(getenv("ES_BENCH_ROUNDS")) : 5;
  if (rounds < 1) rounds = 1;
  uint64_t matches = 0, checksum = 0;
  double es_s = 1e30, hs_s = 1e30;
  for (int r = 0; r < rounds; r++) {
    matches = checksum = 0;
    t0 = now();
    for (size_t i = 0; i < nt; i++) {
      int k = es_queryset_match(qs, rt, texts.data + off[i], len[i], out);
      matches += k > 0 ? (uint64_t)k : 0;
      for (int j = 0; j < k; j++) checksum += (i * 0x9e3779b97f4a7c15ULL) ^ (out[j] * 0xc2b2ae3d27d4eb4fULL);
    }
    double s = now() - t0;
    if (s < es_s) es_s = s;
    t0 = now();
    for (size_t i = 0; db && i < nt; i++) hs_scan(db, texts.data + off[i], (unsigned)len[i], 0, scratch, noop, NULL);
    s = now() - t0;
    if (s < hs_s) hs_s = s;
  }
  /* naive peer: one PCRE2 regex per query, on a prefix of the texts */
  size_t nq = es_queryset_count(qs);
  pcre2_code **re = calloc(nq, sizeof *re);
  t0 = now();
  for (size_t q = 0; q < nq; q++) {
    es_buf b;
    es_buf_init(&b);
    naive_regex(qs, es_queryset_get(qs, q)->root, &b);
    int ec;
    PCRE2_SIZE eo;
    if (b.len) re[q] = pcre2_compile((PCRE2_SPTR)b.data, b.len, PCRE2_UTF | PCRE2_CASELESS, &ec, &eo, NULL);
    es_buf_free(&b);
  }
  double pcre_compile_s = now() - t0;
  pcre2_match_data *md = pcre2_match_data_create(16, NULL);
  size_t done = 0;
  t0 = now();
  double pc_s = 0;
  for (; done < nt && (pc_s = now() - t0) < budget; done++)
    for (size_t q = 0; q < nq; q++)
      if (re[q]) pcre2_match(re[q], (PCRE2_SPTR)(texts.data + off[done]), len[done], 0, 0, md, NULL);
  pc_s = now() - t0;
  double es_rate = (double)nt / es_s, hs_rate = (double)nt / hs_s, pc_rate = (double)done / pc_s;
  printf("queries=%zu atoms=%zu mentions=%zu mb=%.1f compile_s=%.3f db_kb=%zu rss_kb=%ld "
         "earshot_per_s=%.0f earshot_mb_s=%.1f hs_scan_per_s=%.0f pcre2_per_s=%.1f pcre2_compile_s=%.2f "
         "ratio_to_hs_scan=%.2f speedup_over_pcre2=%.0f matches_per_mention=%.2f match_checksum=%016llx\n",
         nq, es_queryset_atom_count(qs), nt, (double)raw_bytes / 1e6, compile_s, es_queryset_db_bytes(qs) / 1024,
         rss1 - rss0, es_rate, (double)raw_bytes / 1e6 / es_s, hs_rate, pc_rate, pcre_compile_s, es_rate / hs_rate,
         es_rate / pc_rate, (double)matches / (double)nt, (unsigned long long)checksum);
  for (size_t q = 0; q < nq; q++) pcre2_code_free(re[q]);
  free(re);
  pcre2_match_data_free(md);
  if (scratch) hs_free_scratch(scratch);
  free(out);
  es_match_rt_destroy(rt);
  es_queryset_destroy(qs);
  es_decoder_destroy(dec);
  es_fold_free(&fold);
  es_buf_free(&texts);
  free(off);
  free(len);
  return 0;
}
