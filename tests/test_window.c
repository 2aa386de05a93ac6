/* Windows with injected event and wall-clock time: assignment, watermark,
 * lateness, idle flush, several sizes, empty windows, authors. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/hash.h"
#include "earshot/sentiment.h"
#include "earshot/window.h"

#define MAXR 256
typedef struct sink {
  es_window_result r[MAXR];
  int n;
} sink;

static void collect(void *ctx, const es_window_result *r) {
  sink *s = ctx;
  cr_assert_lt(s->n, MAXR);
  s->r[s->n++] = *r;
}

static es_window_opts opts(int64_t size, int64_t lateness) {
  es_window_opts o = {.nsizes = 1, .lateness_ms = lateness, .idle_flush_ms = 0};
  o.size_ms[0] = size;
  return o;
}

static unsigned add(es_windows *w, int64_t ts, const char *author, int label, uint32_t q) {
  es_window_obs o = {.ts_ms = ts, .author = author, .author_len = strlen(author), .followers = 10,
                     .compound = label == ES_LABEL_NEGATIVE ? -0.5 : 0.5, .label = label};
  o.author_hash = es_hash_bytes(author, strlen(author)) | 1;
  return es_windows_observe(w, &o, &q, 1);
}

Test(window, tumbling_and_watermark) {
  sink s = {.n = 0};
  es_window_opts o = opts(60000, 10000);
  es_windows *w = es_windows_create(&o, 2, collect, &s);
  add(w, 1000, "a", ES_LABEL_POSITIVE, 0);
  add(w, 59999, "b", ES_LABEL_NEGATIVE, 0);
  add(w, 60000, "a", ES_LABEL_POSITIVE, 1);
  cr_expect_eq(s.n, 0, "nothing closes before watermark passes 60s");
  add(w, 69999, "c", ES_LABEL_POSITIVE, 1);
  cr_expect_eq(s.n, 0, "watermark 59.999s: still open");
  add(w, 70000, "c", ES_LABEL_POSITIVE, 1);
  cr_assert_eq(s.n, 1, "watermark 60s closes [0,60s)");
  cr_expect_eq(s.r[0].query, 0);
  cr_expect_eq(s.r[0].start_ms, 0);
  cr_expect_eq(s.r[0].end_ms, 60000);
  cr_expect_eq(s.r[0].count, 2);
  cr_expect_eq(s.r[0].positive, 1);
  cr_expect_eq(s.r[0].negative, 1);
  cr_expect_eq(s.r[0].unique_authors, 2);
  cr_expect_eq(s.r[0].reach, 20);
  cr_expect_float_eq(s.r[0].sentiment_mean, 0.0, 1e-9);
  es_windows_flush(w);
  cr_assert_eq(s.n, 2);
  cr_expect_eq(s.r[1].query, 1);
  cr_expect_eq(s.r[1].count, 3);
  cr_expect_eq(s.r[1].unique_authors, 2);
  es_windows_destroy(w);
}

Test(window, late_mentions_are_reported_not_counted) {
  sink s = {.n = 0};
  es_window_opts o = opts(60000, 5000);
  es_windows *w = es_windows_create(&o, 1, collect, &s);
  cr_expect_eq(add(w, 10000, "a", ES_LABEL_NEUTRAL, 0), 0);
  cr_expect_eq(add(w, 66000, "a", ES_LABEL_NEUTRAL, 0), 0);
  cr_assert_eq(s.n, 1);
  cr_expect_eq(add(w, 59000, "late", ES_LABEL_NEUTRAL, 0), 1u, "window [0,60s) closed: late");
  cr_expect_eq(add(w, 61000, "ok", ES_LABEL_NEUTRAL, 0), 0, "within lateness of an open window");
  es_windows_flush(w);
  cr_assert_eq(s.n, 2);
  cr_expect_eq(s.r[0].count, 1, "the late mention did not change the closed window");
  cr_expect_eq(s.r[1].count, 2);
  es_windows_destroy(w);
}

Test(window, out_of_order_within_lateness_is_counted) {
  sink s = {.n = 0};
  es_window_opts o = opts(60000, 30000);
  es_windows *w = es_windows_create(&o, 1, collect, &s);
  add(w, 70000, "a", ES_LABEL_NEUTRAL, 0);
  cr_expect_eq(add(w, 50000, "b", ES_LABEL_NEUTRAL, 0), 0);
  es_windows_flush(w);
  cr_assert_eq(s.n, 2);
  cr_expect_eq(s.r[0].start_ms, 0);
  cr_expect_eq(s.r[0].count, 1);
  es_windows_destroy(w);
}

Test(window, a_quiet_query_closes_when_others_move_time) {
  sink s = {.n = 0};
  es_window_opts o = opts(60000, 0);
  es_windows *w = es_windows_create(&o, 2, collect, &s);
  add(w, 1000, "a", ES_LABEL_NEUTRAL, 0);
  add(w, 120000, "b", ES_LABEL_NEUTRAL, 1);
  cr_assert_eq(s.n, 1);
  cr_expect_eq(s.r[0].query, 0);
  es_windows_destroy(w);
}

Test(window, idle_flush_uses_the_injected_wall_clock) {
  sink s = {.n = 0};
  es_window_opts o = opts(60000, 10000);
  o.idle_flush_ms = 30000;
  es_windows *w = es_windows_create(&o, 1, collect, &s);
  es_windows_touch(w, 1000000);
  add(w, 50000, "a", ES_LABEL_NEUTRAL, 0);
  add(w, 70000, "a", ES_LABEL_NEUTRAL, 0);
  cr_expect_eq(s.n, 1, "70 s - 10 s lateness closed [0, 60 s)");
  es_windows_idle(w, 1000000 + 29999);
  cr_expect_eq(s.n, 1, "not idle long enough");
  es_windows_idle(w, 1000000 + 30000);
  cr_expect_eq(s.n, 2, "30 s of quiet closes every open window");
  cr_expect_eq(es_windows_watermark(w), 120000);
  cr_expect_eq(add(w, 110000, "b", ES_LABEL_NEUTRAL, 0), 1u, "its window was closed by the idle flush");
  cr_expect_eq(add(w, 125000, "c", ES_LABEL_NEUTRAL, 0), 0, "a later window opens normally");
  es_windows_destroy(w);
}

Test(window, several_sizes_close_in_end_time_order) {
  sink s = {.n = 0};
  es_window_opts o = {.nsizes = 2, .lateness_ms = 0};
  o.size_ms[0] = 60000;
  o.size_ms[1] = 180000;
  es_windows *w = es_windows_create(&o, 1, collect, &s);
  for (int64_t t = 0; t < 360000; t += 30000) add(w, t, "a", ES_LABEL_NEUTRAL, 0);
  es_windows_flush(w);
  cr_assert_eq(s.n, 8, "6 one-minute and 2 three-minute windows");
  for (int i = 1; i < s.n; i++)
    cr_expect(s.r[i - 1].end_ms < s.r[i].end_ms ||
                  (s.r[i - 1].end_ms == s.r[i].end_ms && s.r[i - 1].size_idx < s.r[i].size_idx),
              "order at %d", i);
  cr_expect_eq(s.r[3].size_ms, 180000);
  cr_expect_eq(s.r[3].count, 6);
  es_windows_destroy(w);
}

Test(window, empty_windows_on_request) {
  sink s = {.n = 0};
  es_window_opts o = opts(60000, 0);
  o.emit_empty = true;
  es_windows *w = es_windows_create(&o, 3, collect, &s);
  add(w, 1000, "a", ES_LABEL_NEUTRAL, 1);
  es_windows_flush(w);
  cr_assert_eq(s.n, 3);
  cr_expect_eq(s.r[0].count, 0);
  cr_expect_eq(s.r[1].count, 1);
  cr_expect_eq(s.r[2].count, 0);
  es_windows_destroy(w);
}

Test(window, top_authors_and_unique_authors) {
  sink s = {.n = 0};
  es_window_opts o = opts(60000, 0);
  es_windows *w = es_windows_create(&o, 1, collect, &s);
  /* 3,320 mentions: authors above 3320/32 = 104 are guaranteed a counter. */
  for (int i = 0; i < 200; i++) add(w, 1000, "loud", ES_LABEL_NEGATIVE, 0);
  for (int i = 0; i < 120; i++) add(w, 1000, "second", ES_LABEL_NEGATIVE, 0);
  char name[32];
  for (int i = 0; i < 3000; i++) {
    snprintf(name, sizeof name, "user%d", i);
    add(w, 2000, name, ES_LABEL_NEUTRAL, 0);
  }
  es_windows_flush(w);
  cr_assert_eq(s.n, 1);
  cr_expect_str_eq(s.r[0].top[0].name, "loud");
  cr_expect_eq(s.r[0].top[0].count, 200, "counts are exact lower bounds");
  cr_expect_str_eq(s.r[0].top[1].name, "second");
  cr_expect_leq(s.r[0].top[1].count, 120);
  cr_expect_leq(s.r[0].top[2].count, 1, "singletons never look heavier than they are");
  double u = (double)s.r[0].unique_authors;
  cr_expect(u > 3002 * 0.95 && u < 3002 * 1.05, "unique authors %f, truth 3002", u);
  es_windows_destroy(w);
}

Test(hll, exact_when_small_and_close_when_large) {
  es_hll h;
  es_hll_init(&h);
  for (uint64_t i = 0; i < 20; i++) es_hll_add(&h, es_hash_bytes(&i, sizeof i));
  for (uint64_t i = 0; i < 20; i++) es_hll_add(&h, es_hash_bytes(&i, sizeof i));
  cr_expect_eq(es_hll_count(&h), 20);
  for (uint64_t i = 20; i < 100000; i++) es_hll_add(&h, es_hash_bytes(&i, sizeof i));
  double c = (double)es_hll_count(&h);
  cr_expect(c > 95000 && c < 105000, "estimate %f for 100000", c);
  es_hll_reset(&h);
  cr_expect_eq(es_hll_count(&h), 0);
  es_hll_free(&h);
}

/* Hot reload: open windows follow their query to its new index; a removed
 * query's open windows go; a new query starts empty. */
Test(window, remap_follows_queries_by_index) {
  sink s = {.n = 0};
  es_window_opts o = opts(60000, 0);
  es_windows *w = es_windows_create(&o, 3, collect, &s);
  add(w, 1000, "a", ES_LABEL_POSITIVE, 0);
  add(w, 2000, "b", ES_LABEL_NEGATIVE, 0);
  add(w, 3000, "c", ES_LABEL_POSITIVE, 1);
  add(w, 4000, "d", ES_LABEL_POSITIVE, 2);
  /* new set: [old 2, new, old 0]; old 1 removed */
  int64_t old_of_new[3] = {2, -1, 0};
  cr_assert_eq(es_windows_remap(w, 3, old_of_new), 0);
  add(w, 5000, "e", ES_LABEL_POSITIVE, 1); /* the new query */
  add(w, 6000, "f", ES_LABEL_POSITIVE, 2); /* old 0 again */
  es_windows_flush(w);
  cr_assert_eq(s.n, 3);
  cr_expect_eq(s.r[0].query, 0);
  cr_expect_eq(s.r[0].count, 1, "old query 2 kept its mention");
  cr_expect_eq(s.r[1].query, 1);
  cr_expect_eq(s.r[1].count, 1, "the new query starts empty");
  cr_expect_eq(s.r[2].query, 2);
  cr_expect_eq(s.r[2].count, 3, "old query 0 kept its two mentions and got one more");
  cr_expect_eq(s.r[2].negative, 1);
  es_windows_destroy(w);
}

/* A reloaded triage file renumbers situations and tracks: open windows'
 * counts follow them by the new index; one no longer defined is dropped.
 * Tracks are counted into the windows still open of a mention's time. */
Test(window, triage_counts_follow_a_renumbering) {
  sink s = {.n = 0};
  es_window_opts o = opts(60000, 0);
  es_windows *w = es_windows_create(&o, 1, collect, &s);
  uint32_t q = 0;
  es_window_obs a = {.ts_ms = 1000, .situations = 1u << 0 | 1u << 2}, b = {.ts_ms = 2000, .situations = 1u << 1 | 1u << 2};
  es_windows_observe(w, &a, &q, 1);
  es_windows_observe(w, &b, &q, 1);
  es_windows_count_track(w, q, 1000, 4);
  es_windows_count_track(w, q, 2000, 4);
  es_windows_count_track(w, q, 2000, 0);
  es_windows_count_track(w, q, 120000, 0); /* no window of its time: nothing */
  int8_t new_of_old[32], trk[32];
  memset(new_of_old, -1, sizeof new_of_old);
  memset(trk, -1, sizeof trk);
  new_of_old[0] = 1; /* situation 1 (old 1) is gone, old 2 becomes 0 */
  new_of_old[2] = 0;
  trk[4] = 2; /* track 0 is gone, 4 becomes 2 */
  es_windows_remap_triage(w, new_of_old, trk);
  es_window_obs c = {.ts_ms = 3000, .situations = 1u << 0};
  es_windows_observe(w, &c, &q, 1);
  es_windows_flush(w);
  cr_assert_eq(s.n, 1);
  cr_expect_eq(s.r[0].situation_mask, 3u, "mask %x", s.r[0].situation_mask);
  cr_expect_eq(s.r[0].situations[0], 3, "old 2's two mentions and the new one");
  cr_expect_eq(s.r[0].situations[1], 1, "old 0's mention");
  cr_expect_eq(s.r[0].track_mask, 1u << 2, "tracks %x", s.r[0].track_mask);
  cr_expect_eq(s.r[0].tracks[2], 2);
  es_windows_destroy(w);
}

Test(window, copies_of_a_text_hash_alike) {
  const char *same[] = {"Great deal on the new card https://x.example/1", "RT @bank: great deal on the new card!!",
                        "GREAT DEAL ON THE NEW CARD www.example.org/a?b=2", "great   deal on the new card 2024 @you"};
  uint64_t h = es_content_hash(same[0], strlen(same[0]));
  for (size_t i = 1; i < sizeof same / sizeof *same; i++)
    cr_expect_eq(es_content_hash(same[i], strlen(same[i])), h, "'%s'", same[i]);
  const char *other = "great deal on the old card";
  cr_expect_neq(es_content_hash(other, strlen(other)), h);
  cr_expect_neq(es_content_hash("", 0), 0);
  cr_expect_neq(es_content_hash("greatdeal", 9), es_content_hash("great deal", 10), "word boundaries count");
}

Test(window, effective_volume_collapses_copies) {
  es_window_opts o = opts(60000, 0);
  static sink sk;
  sk.n = 0;
  es_windows *w = es_windows_create(&o, 1, collect, &sk);
  cr_assert(w);
  uint32_t q = 0;
  char author[32];
  for (int i = 0; i < 30; i++) { /* one text from 30 accounts */
    snprintf(author, sizeof author, "bot%d", i);
    es_window_obs m = {.ts_ms = 1000 + i, .author = author, .author_len = strlen(author),
                       .author_hash = es_hash_bytes(author, strlen(author)) | 1,
                       .content_hash = es_content_hash("win a free card now", 19)};
    es_windows_observe(w, &m, &q, 1);
  }
  for (int i = 0; i < 5; i++) { /* five different texts */
    char text[32];
    snprintf(text, sizeof text, "message %c", 'a' + i);
    es_window_obs m = {.ts_ms = 2000 + i, .content_hash = es_content_hash(text, strlen(text))};
    es_windows_observe(w, &m, &q, 1);
  }
  es_windows_flush(w);
  cr_assert_eq(sk.n, 1);
  cr_expect_eq(sk.r[0].count, 35);
  cr_expect_eq(sk.r[0].effective, 6, "30 copies count once");
  cr_expect_eq(sk.r[0].unique_authors, 30);
  es_windows_destroy(w);
}

/* Sample mention ids: the same few whatever the arrival order. */
Test(window, sample_ids_do_not_depend_on_order) {
  es_window_opts o = opts(60000, 0);
  static sink a, b;
  a.n = b.n = 0;
  es_windows *wa = es_windows_create(&o, 1, collect, &a), *wb = es_windows_create(&o, 1, collect, &b);
  cr_assert(wa && wb);
  uint32_t q = 0;
  char id[32];
  for (int i = 0; i < 50; i++) {
    snprintf(id, sizeof id, "m%d", i);
    es_window_obs m = {.ts_ms = 1000 + i, .id = id, .id_len = strlen(id)};
    es_windows_observe(wa, &m, &q, 1);
    snprintf(id, sizeof id, "m%d", 49 - i);
    es_window_obs n = {.ts_ms = 1000 + i, .id = id, .id_len = strlen(id)};
    es_windows_observe(wb, &n, &q, 1);
  }
  es_windows_flush(wa);
  es_windows_flush(wb);
  cr_assert_eq(a.n, 1);
  cr_assert_eq(b.n, 1);
  cr_expect_eq(a.r[0].nsamples, ES_SAMPLE_IDS);
  for (int i = 0; i < ES_SAMPLE_IDS; i++) cr_expect_str_eq(a.r[0].samples[i], b.r[0].samples[i]);
  es_windows_destroy(wa);
  es_windows_destroy(wb);
}

/* A watched query's windows close even when it has no mention: the quiet
 * windows an open alert needs to resolve. */
Test(window, watched_query_emits_empty_windows) {
  es_window_opts o = opts(60000, 0);
  static sink sk;
  sk.n = 0;
  es_windows *w = es_windows_create(&o, 3, collect, &sk);
  cr_assert(w);
  uint32_t q0 = 0, q2 = 2;
  es_window_obs m = {.ts_ms = 1000};
  es_windows_observe(w, &m, &q0, 1); /* query 0 in window 0 */
  es_windows_watch(w, 2, 0, true);
  for (int k = 1; k <= 3; k++) {
    es_window_obs n = {.ts_ms = k * 60000 + 1000};
    es_windows_observe(w, &n, &q0, 1); /* only query 0 has mentions */
  }
  /* Windows 0, 1, 2 closed: query 0 each time, query 2 empty each time, in query order. */
  cr_assert_eq(sk.n, 6, "%d records", sk.n);
  for (int k = 0; k < 3; k++) {
    cr_expect_eq(sk.r[2 * k].query, 0);
    cr_expect_eq(sk.r[2 * k + 1].query, 2);
    cr_expect_eq(sk.r[2 * k + 1].count, 0);
  }
  es_windows_watch(w, 2, 0, false);
  es_window_obs last = {.ts_ms = 5 * 60000};
  es_windows_observe(w, &last, &q0, 1);
  cr_expect_eq(sk.n, 7, "unwatched: no empty window for query 2");
  (void)q2;
  es_windows_destroy(w);
}

/* The authors with the largest reach: exact, each author's largest, ties
 * by author hash, whatever the order of the mentions. */
Test(window, top_reach_does_not_depend_on_order) {
  static const struct {
    const char *a;
    uint64_t f;
  } ms[] = {{"small", 5}, {"big", 90000}, {"mid", 700}, {"small", 8}, {"grows", 10}, {"grows", 500000}, {"mid", 650},
            {"tiny", 1}, {"big", 100}};
  size_t n = sizeof ms / sizeof *ms;
  es_window_result got[2];
  for (int pass = 0; pass < 2; pass++) {
    sink s = {.n = 0};
    es_window_opts o = opts(60000, 0);
    es_windows *w = es_windows_create(&o, 1, collect, &s);
    for (size_t k = 0; k < n; k++) {
      size_t i = pass ? n - 1 - k : k; /* forwards, then backwards */
      es_window_obs m = {.ts_ms = 1000, .author = ms[i].a, .author_len = strlen(ms[i].a), .followers = ms[i].f};
      m.author_hash = es_hash_bytes(ms[i].a, strlen(ms[i].a)) | 1;
      uint32_t q = 0;
      es_windows_observe(w, &m, &q, 1);
    }
    es_windows_flush(w);
    cr_assert_eq(s.n, 1);
    got[pass] = s.r[0];
    es_windows_destroy(w);
  }
  cr_assert_eq(got[0].ntop_reach, 3);
  cr_expect_str_eq(got[0].top_reach[0].name, "grows");
  cr_expect_eq(got[0].top_reach[0].reach, 500000);
  cr_expect_str_eq(got[0].top_reach[1].name, "big");
  cr_expect_eq(got[0].top_reach[1].reach, 90000, "an author's largest reach");
  cr_expect_str_eq(got[0].top_reach[2].name, "mid");
  for (int i = 0; i < 3; i++) {
    cr_expect_str_eq(got[1].top_reach[i].name, got[0].top_reach[i].name);
    cr_expect_eq(got[1].top_reach[i].reach, got[0].top_reach[i].reach);
  }
}

/* A mention's terms: its words as the content hash sees them (lower-cased,
 * no URL, handle, leading RT, digits or punctuation), four bytes or more,
 * each once, the first ten. */
Test(window, terms_of_a_text) {
  char out[ES_MENTION_TERMS * ES_TERM_MAX];
  const char *t = "RT @bob: Charged TWICE for the fee!! https://x.co/a charged again in 2024, seriously";
  size_t n = es_content_terms(t, strlen(t), out, sizeof out);
  cr_expect_eq(n, strlen("charged twice again seriously"));
  cr_expect(!memcmp(out, "charged twice again seriously", n), "%.*s", (int)n, out);
  const char *many = "alpha bravo charlie delta echoes foxtrot golfs hotel india juliet kilos limas";
  n = es_content_terms(many, strlen(many), out, sizeof out);
  cr_expect_eq(n, strlen("alpha bravo charlie delta echoes foxtrot golfs hotel india juliet"), "the first ten");
  cr_expect_eq(es_content_terms("a an the 42 !!", 14, out, sizeof out), 0);
}

/* Feeds one window of query 0 (start t0): `n` mentions, `with` of which
 * carry `extra` besides the usual words; `sampled` ones feed the query's
 * term baseline (the sample is chosen by content hash). */
static void term_window(es_windows *w, int64_t t0, int n, int with, const char *extra, bool sampled) {
  for (int i = 0; i < n; i++) {
    char text[160], terms[ES_MENTION_TERMS * ES_TERM_MAX];
    snprintf(text, sizeof text, "my card works %s person%c", i < with ? extra : "", 'a' + i % 26);
    es_window_obs m = {.ts_ms = t0 + i, .terms = terms,
                       .content_hash = sampled ? (uint64_t)(i + 1) << 15 : ((uint64_t)(i + 1) << 15) | (1u << 11)};
    m.terms_len = es_content_terms(text, strlen(text), terms, sizeof terms);
    uint32_t q = 0;
    es_windows_observe(w, &m, &q, 1);
  }
}

/* Terms over-represented against the query's baseline: none where the
 * window does not count terms, none on an ordinary window, the incident's
 * words on an incident's. */
Test(window, over_represented_terms) {
  sink *s = calloc(1, sizeof *s);
  es_window_opts o = opts(60000, 0);
  es_windows *w = es_windows_create(&o, 1, collect, s);
  for (int k = 0; k < 5; k++) term_window(w, k * 60000, 40, 0, "", true); /* the baseline: 200 mentions */
  term_window(w, 5 * 60000, 40, 25, "declined twice", false);
  es_windows_flush(w);
  cr_assert_eq(s->n, 6);
  cr_expect_eq(s->r[5].nhot, 0, "windows count no terms until told to");
  es_windows_terms_after(w, 0, 0, 0);
  term_window(w, 6 * 60000, 40, 2, "declined", false);
  term_window(w, 7 * 60000, 40, 25, "declined twice", false);
  es_windows_flush(w);
  cr_assert_eq(s->n, 8);
  cr_expect_eq(s->r[6].nhot, 0, "two mentions are not a pattern");
  const es_window_result *r = &s->r[7];
  cr_assert_eq(r->nhot, 2, "declined and twice (%d)", r->nhot);
  cr_expect(!strcmp(r->hot[0].text, "declined") || !strcmp(r->hot[0].text, "twice"), "%s", r->hot[0].text);
  cr_expect_eq(r->hot[0].count, 25);
  cr_expect_gt(r->hot[0].lift, 10);
  es_windows_destroy(w);
  free(s);
}

/* A bot swarm: one long text with a word that varies from copy to copy
 * (so no two are exact copies) from many accounts. Their SimHashes are
 * mostly within ES_NEAR_BITS of one another: the effective volume
 * collapses. The same number of unrelated texts keeps its volume. */
Test(window, near_duplicates_collapse) {
  static const char *base =
    "urgent giveaway alert acmebank customers claim your exclusive reward voucher today only visit the official "
    "promotion page before midnight because stocks are limited and every verified account holder qualifies "
    "instantly share with friends family colleagues neighbours everyone deserves this amazing opportunity";
  static const char *vary[] = {"apple",  "banana", "cherry", "dragon", "eagle",  "falcon",  "garden", "harbor",
                               "island", "jungle", "kettle", "lantern", "meadow", "nectar", "orchard", "parrot",
                               "quartz", "river",  "sunset", "tiger",  "umbrella", "valley", "walnut", "yellow"};
  for (int swarm = 1; swarm >= 0; swarm--) {
    sink *s = calloc(1, sizeof *s);
    es_window_opts o = opts(60000, 0);
    es_windows *w = es_windows_create(&o, 1, collect, s);
    for (int i = 0; i < 96; i++) {
      char text[600], terms[ES_MENTION_TERMS * ES_TERM_MAX], author[16];
      if (swarm) snprintf(text, sizeof text, "%s %s%s", base, vary[i % 24], i < 24 ? "" : i < 48 ? " now" : " please");
      else { /* eight made-up five-letter words each */
        size_t o = 0;
        for (int k = 0; k < 8; k++) {
          uint64_t h = es_hash_bytes((const char[]){(char)i, (char)k}, 2);
          for (int c = 0; c < 5; c++, h /= 26) text[o++] = (char)('a' + h % 26);
          text[o++] = ' ';
        }
        text[o - 1] = 0;
      }
      snprintf(author, sizeof author, "bot%d", i);
      size_t tn;
      es_window_obs m = {.ts_ms = 1000 + i, .author = author, .author_len = strlen(author)};
      m.author_hash = es_hash_bytes(author, strlen(author)) | 1;
      m.content_hash = es_content_hash_terms(text, strlen(text), terms, sizeof terms, &tn, &m.simhash);
      uint32_t q = 0;
      es_windows_observe(w, &m, &q, 1);
    }
    es_windows_flush(w);
    cr_assert_eq(s->n, 1);
    if (swarm) cr_expect_lt(s->r[0].effective, 40, "the swarm collapses: %llu", (unsigned long long)s->r[0].effective);
    else cr_expect_geq(s->r[0].effective, 94, "unrelated texts stay: %llu", (unsigned long long)s->r[0].effective);
    cr_expect_eq(s->r[0].count, 96);
    es_windows_destroy(w);
    free(s);
  }
}

/* Early updates: every open window whose count changed since the last
 * early update, marked early and not final; the windows stay as they were,
 * so the final records equal those of a run without early updates. */
Test(window, early_updates_report_changed_open_windows_only) {
  static sink early, fin, plain;
  early.n = fin.n = plain.n = 0;
  es_window_opts o = opts(60000, 0);
  es_windows *w = es_windows_create(&o, 3, collect, &fin);
  es_windows *ref = es_windows_create(&o, 3, collect, &plain);
  static const char *const authors[] = {"a", "b", "c", "a", "d", "a", "b", "e", "f", "a"};
  for (int i = 0; i < 10; i++) {
    add(w, 1000 + i, authors[i], i % 3 ? ES_LABEL_POSITIVE : ES_LABEL_NEGATIVE, (uint32_t)(i % 2));
    add(ref, 1000 + i, authors[i], i % 3 ? ES_LABEL_POSITIVE : ES_LABEL_NEGATIVE, (uint32_t)(i % 2));
    if (i == 4) {
      cr_assert_eq(es_windows_early(w, collect, &early), 2, "queries 0 and 1 changed, 2 has no window");
      cr_expect_eq(early.r[0].query, 0);
      cr_expect_eq(early.r[0].count, 3);
      cr_expect_eq(early.r[1].query, 1);
      cr_expect_eq(early.r[1].count, 2);
      cr_expect(early.r[0].early && !early.r[0].final);
      cr_expect_eq(es_windows_early(w, collect, &early), 0, "nothing changed since");
    }
  }
  add(w, 2000, "g", ES_LABEL_POSITIVE, 1);
  add(ref, 2000, "g", ES_LABEL_POSITIVE, 1);
  cr_assert_eq(es_windows_early(w, collect, &early), 2);
  cr_expect_eq(early.r[2].count, 5, "query 0: five mentions so far");
  cr_expect_eq(early.r[3].count, 6);
  cr_expect_eq(early.r[3].ntop, 4, "b, a, e, g");
  cr_expect_str_eq(early.r[3].top[0].name, "a");
  cr_expect_eq(fin.n, 0, "early updates close nothing");
  es_windows_flush(w);
  es_windows_flush(ref);
  cr_assert_eq(fin.n, plain.n);
  for (int i = 0; i < fin.n; i++) {
    cr_expect(fin.r[i].final && !fin.r[i].early);
    cr_expect_eq(fin.r[i].count, plain.r[i].count);
    cr_expect_eq(fin.r[i].unique_authors, plain.r[i].unique_authors);
    cr_expect_eq(fin.r[i].ntop, plain.r[i].ntop);
    for (int k = 0; k < fin.r[i].ntop; k++) {
      cr_expect_str_eq(fin.r[i].top[k].name, plain.r[i].top[k].name);
      cr_expect_eq(fin.r[i].top[k].count, plain.r[i].top[k].count);
    }
  }
  cr_expect_eq(es_windows_early(w, collect, &early), 0, "no open window left");
  es_windows_destroy(w);
  es_windows_destroy(ref);
}

/* The text pass classifies 16 bytes at a time; on every text it must give
 * what the byte-at-a-time pass gives: hash, terms and SimHash. Random texts
 * from awkward pieces: URLs (also glued to words), handles, RT, capitals,
 * UTF-8, words past 32 bytes, tabs and newlines, lengths past the fast
 * path's 4 KiB. */
Test(window, text_pass_fast_path_equals_the_byte_loop) {
  static const char *const pieces[] = {"the", "Fee", "FEES", "charged", "twice", "http://x.co/a", "https://t.co/Zz",
                                       "www.acme.com", "wwwx", "hhttp://a.b", "xhttp://y", "@acme", "@", "RT ", "rt",
                                       "café", "ÉTÉ", "東京", "😡", "don't", "a-b", "#fail", "123", "x",
                                       "supercalifragilisticexpialidocious-and-more", "abcdefghijklmnopqrstuvwxyzabcdefgh",
                                       "wh", "ht", "htt", "http", "WWW.", "\t", "\n", "  ", ",", ".", "!", "\xff", "\xc3"};
  enum { NP = sizeof pieces / sizeof *pieces };
  uint64_t rng = 0x9e3779b97f4a7c15ULL;
  static char text[9000];
  for (int t = 0; t < 20000; t++) {
    size_t n = 0;
    int words = t % 500 == 0 ? 1500 : 1 + (int)(rng % 40); /* a few texts past 4 KiB */
    for (int k = 0; k < words && n < sizeof text - 64; k++) {
      rng ^= rng << 13;
      rng ^= rng >> 7;
      rng ^= rng << 17;
      const char *p = pieces[rng % NP];
      size_t l = strlen(p);
      memcpy(text + n, p, l);
      n += l;
      if (rng >> 60 < 12) text[n++] = ' ';
    }
    char o1[ES_MENTION_TERMS * ES_TERM_MAX], o2[ES_MENTION_TERMS * ES_TERM_MAX];
    size_t l1, l2;
    uint64_t s1, s2;
    uint64_t h1 = es_content_hash_terms(text, n, o1, sizeof o1, &l1, &s1);
    uint64_t h2 = es__content_hash_terms_bytes(text, n, o2, sizeof o2, &l2, &s2);
    cr_assert_eq(h1, h2, "hash of '%.*s'", (int)(n < 300 ? n : 300), text);
    cr_assert_eq(s1, s2, "SimHash of '%.*s'", (int)(n < 300 ? n : 300), text);
    cr_assert(l1 == l2 && !memcmp(o1, o2, l1), "terms of '%.*s': '%.*s' vs '%.*s'", (int)(n < 300 ? n : 300), text,
              (int)l1, o1, (int)l2, o2);
  }
}

/* Windows computed in two parts (even and odd mentions) and merged equal
 * the windows of one pass: every exact field, unique authors and effective
 * volume included (the same HyperLogLog registers, past the exact 32 too);
 * top authors while they fit the counters; with more authors than
 * counters, each reported count is still a lower bound of the true one. */
static void split_obs(int i, int nauthors, es_window_obs *o, char *author, char *id, uint32_t *q) {
  unsigned x = (unsigned)i * 2654435761u;
  snprintf(author, 16, "u%u", (x >> 7) % (unsigned)nauthors);
  snprintf(id, 16, "m%d", i);
  static const double comp[] = {-0.7, -0.2, 0.0, 0.3, 0.8};
  int k = (int)((x >> 11) % 5);
  *o = (es_window_obs){.ts_ms = (int64_t)((x >> 3) % 180000), .author = author, .author_len = strlen(author),
                       .followers = (x >> 13) % 5000, .compound = comp[k],
                       .label = k < 2 ? ES_LABEL_NEGATIVE : k == 2 ? (i % 7 ? ES_LABEL_NEUTRAL : ES_LABEL_UNSCORED)
                                                                   : ES_LABEL_POSITIVE,
                       .content_hash = es_hash_bytes(&k, sizeof k) + (x >> 20) % 40, .simhash = 0, .id = id,
                       .id_len = strlen(id), .situations = (x >> 9) & 5};
  o->author_hash = i % 11 ? es_hash_bytes(author, strlen(author)) | 1 : 0; /* some anonymous */
  *q = (x >> 17) % 3;
}

/* Moves every open window of `from` into `into` as bytes (es_windows_part,
 * es_windows_add_part): what crosses processes. */
typedef struct parts_ctx {
  es_windows *from, *into;
  es_buf b;
  int moved;
} parts_ctx;

static void move_part(void *ctx, uint32_t q, int size_idx, int64_t index) {
  parts_ctx *c = ctx;
  es_buf_clear(&c->b);
  cr_assert_eq(es_windows_part(c->from, q, size_idx, index, &c->b), 0);
  cr_assert_eq(es_windows_add_part(c->into, q, size_idx, index, c->b.data, c->b.len), 0);
  c->moved++;
}

static void merge_case(int nauthors, bool as_bytes) {
  static sink one, two;
  one.n = two.n = 0;
  es_window_opts o = opts(60000, 0);
  o.manual_advance = true;
  es_windows *a = es_windows_create(&o, 3, collect, &one), *b1 = es_windows_create(&o, 3, collect, &two),
             *b2 = es_windows_create(&o, 3, collect, &two);
  cr_assert(a && b1 && b2);
  uint64_t truth[3][3][64] = {{{0}}}; /* query, window, author -> mentions */
  for (int i = 0; i < 3000; i++) {
    es_window_obs ob;
    char author[16], id[16];
    uint32_t q;
    split_obs(i, nauthors, &ob, author, id, &q);
    es_windows_observe(a, &ob, &q, 1);
    es_windows_observe(i % 2 ? b2 : b1, &ob, &q, 1);
    if (ob.author_hash) truth[q][ob.ts_ms / 60000][atoi(author + 1)]++;
  }
  if (as_bytes) {
    parts_ctx c = {.from = b2, .into = b1};
    es_buf_init(&c.b);
    es_windows_each_open(b2, move_part, &c);
    cr_expect_gt(c.moved, 0);
    es_buf_free(&c.b);
  } else {
    uint64_t dropped = 0;
    cr_assert_eq(es_windows_merge(b1, b2, &dropped), 0);
    cr_expect_eq(dropped, 0);
  }
  es_windows_flush(a);
  es_windows_flush(b1);
  cr_assert_eq(one.n, two.n);
  for (int k = 0; k < one.n; k++) {
    const es_window_result *x = &one.r[k], *y = &two.r[k];
    cr_assert(x->query == y->query && x->index == y->index);
    cr_expect(x->count == y->count && x->positive == y->positive && x->negative == y->negative &&
              x->neutral == y->neutral && x->unscored == y->unscored && x->reach == y->reach &&
              x->anonymous == y->anonymous, "window %d: counts", k);
    cr_expect_eq(x->sentiment_mean, y->sentiment_mean, "window %d: the sentiment sum is exact", k);
    cr_expect_eq(x->unique_authors, y->unique_authors, "window %d: %llu vs %llu", k,
                 (unsigned long long)x->unique_authors, (unsigned long long)y->unique_authors);
    cr_expect_eq(x->effective, y->effective, "window %d: effective volume", k);
    cr_expect_eq(x->situation_mask, y->situation_mask);
    for (int s = 0; s < 32; s++)
      if (x->situation_mask >> s & 1) cr_expect_eq(x->situations[s], y->situations[s]);
    cr_expect_eq(x->nsamples, y->nsamples);
    for (int s = 0; s < x->nsamples; s++) cr_expect_str_eq(x->samples[s], y->samples[s]);
    cr_expect_eq(x->ntop_reach, y->ntop_reach);
    for (int s = 0; s < x->ntop_reach; s++) cr_expect_str_eq(x->top_reach[s].name, y->top_reach[s].name);
    if (nauthors <= ES_TOPK_COUNTERS) {
      cr_expect_eq(x->ntop, y->ntop);
      for (int s = 0; s < x->ntop && s < y->ntop; s++) {
        cr_expect_str_eq(x->top[s].name, y->top[s].name, "window %d: top %d", k, s);
        cr_expect_eq(x->top[s].count, y->top[s].count);
      }
    }
    for (int s = 0; s < y->ntop; s++) {
      uint64_t t = truth[y->query][y->index][atoi(y->top[s].name + 1)];
      cr_expect_leq(y->top[s].count, t, "window %d: %s reported %llu, has %llu", k, y->top[s].name,
                    (unsigned long long)y->top[s].count, (unsigned long long)t);
    }
  }
  es_windows_destroy(a);
  es_windows_destroy(b1);
  es_windows_destroy(b2);
}

Test(window, merged_parts_equal_one_pass) {
  merge_case(20, false); /* authors fit the counters: everything exact */
  merge_case(60, false); /* more authors than counters: HyperLogLog dense, top authors lower bounds */
  merge_case(20, true);  /* the same through bytes */
  merge_case(60, true);
}

/* A window's bytes cut short anywhere, or with a byte changed, are refused
 * or read within bounds: never past the end (AddressSanitizer). */
Test(window, part_bytes_malformed_are_refused) {
  static sink s;
  s.n = 0;
  es_window_opts o = opts(60000, 0);
  o.manual_advance = true;
  es_windows *a = es_windows_create(&o, 1, collect, &s), *b = es_windows_create(&o, 1, collect, &s);
  uint32_t q = 0;
  for (int i = 0; i < 200; i++) { /* dense authors, terms-free, ids, clusters */
    char author[16], id[16];
    snprintf(author, sizeof author, "u%d", i % 50);
    snprintf(id, sizeof id, "m%d", i);
    es_window_obs m = {.ts_ms = 1000 + i, .author = author, .author_len = strlen(author),
                       .author_hash = es_hash_bytes(author, strlen(author)) | 1, .content_hash = (uint64_t)i * 7919 + 1,
                       .simhash = (uint64_t)(i % 9) * 0x1111111111111111ULL, .id = id, .id_len = strlen(id),
                       .label = ES_LABEL_NEUTRAL, .situations = 3};
    es_windows_observe(a, &m, &q, 1);
  }
  es_buf buf;
  es_buf_init(&buf);
  cr_assert_eq(es_windows_part(a, 0, 0, 0, &buf), 0);
  cr_expect_eq(es_windows_part(a, 0, 0, 5, &buf), ES_ENOTFOUND);
  cr_assert_gt(buf.len, 4096, "dense registers travel");
  for (size_t n = 0; n < buf.len; n++) /* every cut */
    cr_expect_eq(es_windows_add_part(b, 0, 0, 0, buf.data, n), ES_EINVAL, "cut at %zu", n);
  char *copy = malloc(buf.len);
  for (size_t i = 0; i < buf.len; i += 7) { /* a changed byte: refused, or taken within bounds */
    memcpy(copy, buf.data, buf.len);
    copy[i] ^= 0x5a;
    int rc = es_windows_add_part(b, 0, 0, 0, copy, buf.len);
    cr_expect(rc == 0 || rc == ES_EINVAL, "byte %zu: %d", i, rc);
  }
  free(copy);
  es_buf_free(&buf);
  es_windows_destroy(a);
  es_windows_destroy(b);
}
