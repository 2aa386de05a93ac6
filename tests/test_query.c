/* The query language: the conformance table through Hyperscan and through
 * the naive reference, a random cross-check of the two, and error messages
 * that name the query id and column. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "earshot/mem.h"
#include "earshot/query.h"

typedef struct qcase {
  int expected;
  char query[256], text[512];
  char lang[16], source[32], author[32];
  uint64_t followers;
  int line;
} qcase;

static es_match_meta case_meta(const qcase *c) {
  return (es_match_meta){.lang = c->lang, .lang_n = strlen(c->lang), .source = c->source,
                         .source_n = strlen(c->source), .author = c->author, .author_n = strlen(c->author),
                         .followers = c->followers};
}

static size_t load_cases(qcase *out, size_t cap) {
  FILE *f = fopen(ES_TEST_DATA "/query_cases.tsv", "r");
  cr_assert(f, "cannot open the conformance table");
  char line[1024];
  size_t n = 0;
  int ln = 0;
  while (fgets(line, sizeof line, f) && n < cap) {
    ln++;
    if (line[0] == '#' || line[0] == '\n') continue;
    line[strcspn(line, "\n")] = 0;
    char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
    cr_assert(t1 && t2, "line %d: want expected<TAB>query<TAB>text[<TAB>metadata]", ln);
    *t1 = *t2 = 0;
    qcase *c = &out[n++];
    memset(c, 0, sizeof *c);
    char *t3 = strchr(t2 + 1, '\t'); /* metadata: lang=en;source=x;author=y;followers=N */
    if (t3) {
      *t3 = 0;
      for (char *kv = strtok(t3 + 1, ";"); kv; kv = strtok(NULL, ";")) {
        char *eq = strchr(kv, '=');
        cr_assert(eq, "line %d: metadata wants key=value pairs", ln);
        *eq = 0;
        if (!strcmp(kv, "lang")) snprintf(c->lang, sizeof c->lang, "%s", eq + 1);
        else if (!strcmp(kv, "source")) snprintf(c->source, sizeof c->source, "%s", eq + 1);
        else if (!strcmp(kv, "author")) snprintf(c->author, sizeof c->author, "%s", eq + 1);
        else if (!strcmp(kv, "followers")) c->followers = strtoull(eq + 1, NULL, 10);
        else cr_assert_fail("line %d: unknown metadata key %s", ln, kv);
      }
    }
    c->expected = atoi(line);
    c->line = ln;
    snprintf(c->query, sizeof c->query, "%s", t1 + 1);
    /* \n and \t escapes in the text column */
    size_t k = 0;
    for (const char *s = t2 + 1; *s && k + 1 < sizeof c->text; s++) {
      if (s[0] == '\\' && (s[1] == 'n' || s[1] == 't')) {
        c->text[k++] = s[1] == 'n' ? '\n' : '\t';
        s++;
      } else {
        c->text[k++] = *s;
      }
    }
    c->text[k] = 0;
  }
  fclose(f);
  return n;
}

/* Matches case c against query `q` of `qs` both ways; returns HS result. */
static int both(const es_queryset *qs, es_match_rt *rt, es_fold *f, size_t q, const qcase *c, int *ref) {
  size_t fn;
  const char *folded = es_fold_text(f, c->text, strlen(c->text), &fn);
  cr_assert(folded, "fold failed for '%s'", c->text);
  uint32_t out[1024];
  es_match_meta meta = case_meta(c);
  int n = es_queryset_match_meta(qs, rt, folded, fn, &meta, out);
  cr_assert(n >= 0);
  int hs = 0;
  for (int i = 0; i < n; i++) hs |= out[i] == q;
  *ref = es_reference_match_meta(qs, q, folded, fn, &meta);
  return hs;
}

Test(query, conformance_table_one_query_at_a_time) {
  static qcase cases[1024];
  size_t n = load_cases(cases, 1024);
  cr_assert_gt(n, 100);
  for (size_t i = 0; i < n; i++) {
    es_query_def def = {.id = "q", .expr = cases[i].query, .line = cases[i].line};
    int err;
    es_diag d = {{0}};
    es_queryset *qs = es_queryset_compile(&def, 1, &err, &d);
    cr_assert(qs, "line %d: %s", cases[i].line, d.msg);
    es_match_rt *rt = es_match_rt_create(qs);
    es_fold f;
    es_fold_init(&f);
    int ref, hs = both(qs, rt, &f, 0, &cases[i], &ref);
    cr_expect_eq(hs, cases[i].expected, "line %d: Hyperscan says %d for %s on '%s'", cases[i].line, hs,
                 cases[i].query, cases[i].text);
    cr_expect_eq(ref, cases[i].expected, "line %d: reference says %d for %s on '%s'", cases[i].line, ref,
                 cases[i].query, cases[i].text);
    es_fold_free(&f);
    es_match_rt_destroy(rt);
    es_queryset_destroy(qs);
  }
}

/* All queries of the table in one set (atoms shared across queries), every
 * query against every text: Hyperscan and the reference must agree. */
Test(query, conformance_queries_share_one_database) {
  static qcase cases[1024];
  size_t n = load_cases(cases, 1024);
  es_query_def *defs = calloc(n, sizeof *defs);
  char (*ids)[24] = calloc(n, sizeof *ids);
  for (size_t i = 0; i < n; i++) {
    snprintf(ids[i], sizeof ids[i], "q%zu", i);
    defs[i] = (es_query_def){.id = ids[i], .expr = cases[i].query, .line = cases[i].line};
  }
  int err;
  es_diag d = {{0}};
  es_queryset *qs = es_queryset_compile(defs, n, &err, &d);
  cr_assert(qs, "%s", d.msg);
  es_match_rt *rt = es_match_rt_create(qs);
  es_fold f;
  es_fold_init(&f);
  for (size_t t = 0; t < n; t++) {
    size_t fn;
    const char *folded = es_fold_text(&f, cases[t].text, strlen(cases[t].text), &fn);
    uint32_t out[1024];
    es_match_meta meta = case_meta(&cases[t]);
    int m = es_queryset_match_meta(qs, rt, folded, fn, &meta, out);
    cr_assert(m >= 0);
    for (int i = 1; i < m; i++) cr_assert_lt(out[i - 1], out[i], "matches must be sorted and unique");
    int k = 0;
    for (size_t q = 0; q < n; q++) {
      int hs = k < m && out[k] == q;
      k += hs;
      int ref = es_reference_match_meta(qs, q, folded, fn, &meta);
      cr_expect_eq(hs, ref, "query %s on '%s': Hyperscan %d, reference %d", cases[q].query, cases[t].text, hs, ref);
      if (q == t) cr_expect_eq(hs, cases[t].expected, "line %d in the shared set", cases[t].line);
    }
  }
  es_fold_free(&f);
  es_match_rt_destroy(rt);
  es_queryset_destroy(qs);
  free(defs);
  free(ids);
}

/* Random queries and texts over a small vocabulary with awkward
 * neighbours: the fast path must equal the reference every time. */
static uint64_t rng = 88172645463325252ULL;
static uint32_t rnd(uint32_t n) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)(rng % n);
}

static const char *const vocab[] = {"fee", "card", "café", "CAFÉ", "#fail", "don't", "don\xe2\x80\x99t", "😡", "app",
                                    "apple", "é", "fees", "Straße", "strasse", "_x", "x", "東京", "c++"};
static const char *const seps[] = {" ", "  ", ", ", "-", "", "\n", " — ", "é", "😡", "_", "'"};
#define NV (sizeof vocab / sizeof *vocab)
#define NS (sizeof seps / sizeof *seps)

static void random_atom(char *out, size_t cap) {
  size_t len = strlen(out);
  switch (rnd(4)) {
  case 0: snprintf(out + len, cap - len, "\"%s %s\"", vocab[rnd(NV)], vocab[rnd(NV)]); break;
  case 1: snprintf(out + len, cap - len, "%s", rnd(2) ? "fee*" : rnd(2) ? "app*" : rnd(2) ? "f?e" : "caf?"); break;
  default: snprintf(out + len, cap - len, "%s", vocab[rnd(NV)]);
  }
}

/* A NEAR operand: an atom or an OR-group of atoms. */
static void random_operand(char *out, size_t cap) {
  if (rnd(3)) {
    random_atom(out, cap);
    return;
  }
  strncat(out, "(", cap - strlen(out) - 1);
  random_atom(out, cap);
  strncat(out, " OR ", cap - strlen(out) - 1);
  random_atom(out, cap);
  strncat(out, ")", cap - strlen(out) - 1);
}

static void random_expr(char *out, size_t cap, int depth) {
  size_t len = strlen(out);
  int kind = (int)(depth > 2 ? rnd(3) : rnd(10));
  if (kind == 9) { /* a field filter or a regex */
    static const char *const f[] = {"lang:en", "lang:und", "source:reviews", "author:@ann", "followers:>100",
                                    "followers:<=50", "followers:7", "/fe+s?/", "/caf.\\b/", "/^x/",
                                    "/app(le)?s?$/", "/(东|東)京/", "/str(a|ä)(ss|ß)e/u", "/\\d+/"};
    snprintf(out + len, cap - len, "%s", f[rnd(14)]);
    return;
  }
  if (kind == 7) { /* proximity, in parentheses (NOT binds tighter) */
    strncat(out, "(", cap - len - 1);
    random_operand(out, cap);
    len = strlen(out);
    snprintf(out + len, cap - len, " NEAR/%u%s ", rnd(4), rnd(2) ? "f" : "");
    random_operand(out, cap);
    strncat(out, ")", cap - strlen(out) - 1);
    return;
  }
  if (kind == 8) { /* phrase proximity */
    snprintf(out + len, cap - len, "\"%s %s%s%s\"~%u", vocab[rnd(NV)], vocab[rnd(NV)], rnd(2) ? " " : "",
             rnd(2) ? vocab[rnd(NV)] : "", rnd(4));
    return;
  }
  switch (kind) {
  case 0: snprintf(out + len, cap - len, "%s", vocab[rnd(NV)]); break;
  case 1: snprintf(out + len, cap - len, "\"%s %s\"", vocab[rnd(NV)], vocab[rnd(NV)]); break;
  case 2: snprintf(out + len, cap - len, "%s", rnd(2) ? "fee*" : rnd(2) ? "app*" : rnd(2) ? "?pp" : "stra??e"); break;
  case 3:
    strncat(out, "NOT ", cap - len - 1);
    random_expr(out, cap, depth + 1);
    break;
  default: {
    strncat(out, "(", cap - len - 1);
    random_expr(out, cap, depth + 1);
    strncat(out, kind == 4 ? " AND " : kind == 5 ? " OR " : " ", cap - strlen(out) - 1);
    random_expr(out, cap, depth + 1);
    strncat(out, ")", cap - strlen(out) - 1);
  }
  }
}

Test(query, random_queries_fast_path_equals_reference) {
  enum { NQ = 200, NT = 10000 }; /* past the first two re-choices of the trigger sets (1,024 and 8,192 texts) */
  static char exprs[NQ][512], ids[NQ][16];
  es_query_def defs[NQ];
  for (int i = 0; i < NQ; i++) {
    exprs[i][0] = 0;
    random_expr(exprs[i], sizeof exprs[i], 0);
    snprintf(ids[i], sizeof ids[i], "r%d", i);
    defs[i] = (es_query_def){.id = ids[i], .expr = exprs[i], .line = i + 1};
  }
  int err;
  es_diag d = {{0}};
  es_queryset *qs = es_queryset_compile(defs, NQ, &err, &d);
  cr_assert(qs, "%s", d.msg);
  es_match_rt *rt = es_match_rt_create(qs);
  es_fold f;
  es_fold_init(&f);
  for (int t = 0; t < NT; t++) {
    char text[512] = "";
    int words = 1 + (int)rnd(8);
    for (int w = 0; w < words; w++) {
      strncat(text, vocab[rnd(NV)], sizeof text - strlen(text) - 1);
      strncat(text, seps[rnd(NS)], sizeof text - strlen(text) - 1);
    }
    size_t fn;
    const char *folded = es_fold_text(&f, text, strlen(text), &fn);
    uint32_t out[NQ];
    static const char *const langs[] = {"en", "EN", "fr", ""};
    static const char *const authors[] = {"ann", "@Ann", "bob", ""};
    es_match_meta meta = {.lang = langs[rnd(4)], .source = rnd(2) ? "reviews" : "", .author = authors[rnd(4)],
                          .followers = rnd(3) ? rnd(200) : 7};
    meta.lang_n = strlen(meta.lang);
    meta.source_n = strlen(meta.source);
    meta.author_n = strlen(meta.author);
    int m = es_queryset_match_meta(qs, rt, folded, fn, &meta, out);
    int k = 0;
    for (int q = 0; q < NQ; q++) {
      int hs = k < m && out[k] == (uint32_t)q;
      k += hs;
      int ref = es_reference_match_meta(qs, (size_t)q, folded, fn, &meta);
      cr_assert_eq(hs, ref, "query %s on '%s': Hyperscan %d, reference %d", exprs[q], text, hs, ref);
    }
  }
  es_fold_free(&f);
  es_match_rt_destroy(rt);
  es_queryset_destroy(qs);
}

static void expect_error(const char *expr, const char *col, const char *needle) {
  es_query_def def = {.id = "card_fees", .expr = expr, .file = "q.yaml", .line = 7};
  int err;
  es_diag d = {{0}};
  es_queryset *qs = es_queryset_compile(&def, 1, &err, &d);
  cr_expect_null(qs, "'%s' should not compile", expr);
  es_queryset_destroy(qs);
  cr_expect_eq(err, ES_EQUERY);
  cr_expect(strstr(d.msg, "q.yaml:7"), "no file:line in: %s", d.msg);
  cr_expect(strstr(d.msg, "query 'card_fees'"), "no query id in: %s", d.msg);
  char want[32];
  snprintf(want, sizeof want, "column %s:", col);
  cr_expect(strstr(d.msg, want), "expected '%s' in: %s", want, d.msg);
  cr_expect(strstr(d.msg, needle), "expected '%s' in: %s", needle, d.msg);
}

Test(query, errors_name_id_and_column) {
  expect_error("", "1", "empty");
  expect_error("fee AND", "8", "end of the query");
  expect_error("(fee OR card", "1", "never closed");
  expect_error("fee)", "4", "no matching '('");
  expect_error("fee OR OR card", "8", "'OR'");
  expect_error("\"card fee", "1", "no closing");
  expect_error("fee AND \"\"", "9", "empty phrase");
  expect_error("de*", "1", "too short");
  expect_error("fe*e", "3", "only allowed at the end");
  expect_error("fee ?", "5", "at least 2 other characters");
  expect_error("fee a?", "5", "at least 2 other characters");
  expect_error("\"colo?r tv\"", "6", "not inside");
  expect_error("d?e*", "1", "too short");
  expect_error("lang: AND fee", "1", "needs a value");
  expect_error("fee followers:>many", "5", "whole number");
  expect_error("source:rev* fee", "11", "matched exactly");
  expect_error("lang:en NEAR/2 fee", "9", "not field filters");
  expect_error("fee /charge(/", "5", "cannot be compiled");
  expect_error("fee /a*/", "5", "empty text");
  expect_error("fee /charge/x", "13", "unknown regex flag");
  expect_error("fee /charge", "5", "closing '/'");
  expect_error("card NEAR fee", "6", "NEAR needs a distance");
  expect_error("card NEAR/x fee", "6", "NEAR needs a distance");
  expect_error("card NEAR/101 fee", "6", "above 100");
  expect_error("card NEAR/3 fee NEAR/2 app", "17", "cannot be chained");
  expect_error("(card AND app) NEAR/3 fee", "16", "OR-groups");
  expect_error("NOT card NEAR/3 fee", "10", "OR-groups");
  expect_error("\"card fee\"~ x", "11", "needs a number");
  expect_error("fee ()", "5", "empty parentheses");
}

Test(query, limits) {
  char big[ES_QUERY_MAX_LEN + 64];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = 0;
  es_query_def def = {.id = "big", .expr = big};
  int err;
  es_diag d = {{0}};
  cr_expect_null(es_queryset_compile(&def, 1, &err, &d));
  cr_expect(strstr(d.msg, "limit"), "%s", d.msg);

  char deep[256] = "";
  for (int i = 0; i < 40; i++) strcat(deep, "(");
  strcat(deep, "fee");
  for (int i = 0; i < 40; i++) strcat(deep, ")");
  def.expr = deep;
  cr_expect_null(es_queryset_compile(&def, 1, &err, &d));
  cr_expect(strstr(d.msg, "nesting"), "%s", d.msg);

  char many[4096] = "";
  for (int i = 0; i < 300; i++) strcat(many, i ? " OR w" : "w");
  def.expr = many;
  cr_expect_null(es_queryset_compile(&def, 1, &err, &d));
  cr_expect(strstr(d.msg, "too many terms"), "%s", d.msg);
}

Test(query, ids_are_validated_and_unique) {
  es_query_def defs[2] = {{.id = "Bad Id", .expr = "fee", .line = 3}, {.id = "ok", .expr = "fee"}};
  int err;
  es_diag d = {{0}};
  cr_expect_null(es_queryset_compile(defs, 1, &err, &d));
  cr_expect(strstr(d.msg, "'Bad Id' is invalid"), "%s", d.msg);
  es_query_def dup[2] = {{.id = "a", .expr = "fee", .line = 2}, {.id = "a", .expr = "card", .line = 5}};
  cr_expect_null(es_queryset_compile(dup, 2, &err, &d));
  cr_expect(strstr(d.msg, "used twice"), "%s", d.msg);
}

Test(query, shared_atoms_are_compiled_once) {
  es_query_def defs[3] = {{.id = "a", .expr = "fee OR card"}, {.id = "b", .expr = "FEE AND \"card fee\""},
                          {.id = "c", .expr = "Fee"}};
  int err;
  es_queryset *qs = es_queryset_compile(defs, 3, &err, NULL);
  cr_assert(qs);
  /* fee, card, "card fee" (its words are the existing card and fee) */
  cr_expect_eq(es_queryset_atom_count(qs), 3);
  es_queryset_destroy(qs);
}

Test(query, load_yaml_file_errors_have_line) {
  char path[] = "/tmp/earshot-q-XXXXXX";
  int fd = mkstemp(path);
  FILE *f = fdopen(fd, "w");
  fputs("queries:\n  - id: ok\n    query: fee\n  - id: broken\n    name: Broken\n    query: 'fee AND'\n", f);
  fclose(f);
  int err;
  es_diag d = {{0}};
  cr_expect_null(es_queryset_load(path, &err, &d));
  cr_expect(strstr(d.msg, ":6:") && strstr(d.msg, "query 'broken'") && strstr(d.msg, "column 8"), "%s", d.msg);
  f = fopen(path, "w");
  fputs("queries:\n  - id: ok\n    qeury: fee\n", f);
  fclose(f);
  cr_expect_null(es_queryset_load(path, &err, &d));
  cr_expect(strstr(d.msg, ":3:") && strstr(d.msg, "did you mean 'query'"), "%s", d.msg);
  unlink(path);
}

/* accents: insensitive folds terms and texts without combining marks. */
Test(query, accent_insensitive_option) {
  static const struct {
    int expected;
    const char *query, *text;
  } cases[] = {{1, "cafe", "au café"},         {1, "café", "AU CAFE"},          {1, "resume*", "résumés"},
               {1, "naïve NEAR/1 résumé", "naive, resume"}, {1, "\"crème brûlée\"", "creme brulee"},
               {1, "zaklęcie", "zaklecie"},    {0, "cafe", "cafés"},            {1, "año", "ano"},
               {0, "ø", "o"}};
  es_query_opts qo = {.accent_insensitive = true};
  es_fold f;
  es_fold_init(&f);
  f.strip_marks = true;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    es_query_def def = {.id = "a", .expr = cases[i].query};
    int err;
    es_diag d = {{0}};
    es_queryset *qs = es_queryset_compile_opts(&def, 1, &qo, &err, &d);
    cr_assert(qs, "%s", d.msg);
    cr_expect(es_queryset_accent_insensitive(qs));
    es_match_rt *rt = es_match_rt_create(qs);
    size_t fn;
    const char *folded = es_fold_text(&f, cases[i].text, strlen(cases[i].text), &fn);
    uint32_t out[1];
    int hs = es_queryset_match(qs, rt, folded, fn, out);
    int ref = es_reference_match(qs, 0, folded, fn);
    cr_expect_eq(hs, cases[i].expected, "Hyperscan: %s on '%s'", cases[i].query, cases[i].text);
    cr_expect_eq(ref, cases[i].expected, "reference: %s on '%s'", cases[i].query, cases[i].text);
    es_match_rt_destroy(rt);
    es_queryset_destroy(qs);
  }
  es_fold_free(&f);
}

/* Issue 19: a query file replaced by something huge is refused at once
 * (before it is read: a 100 MiB file of queries took 3 minutes and 12 GB
 * to check), and an empty one says so; a reload keeps the rules in force. */
Test(query, huge_or_empty_query_file_is_refused_issue19) {
  char path[] = "/tmp/earshot-qbig-XXXXXX";
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  cr_assert_eq(ftruncate(fd, 100 << 20), 0); /* sparse: 100 MiB that take no disk */
  close(fd);
  int err = 0;
  es_diag d = {{0}};
  cr_expect_null(es_queryset_load(path, &err, &d));
  cr_expect(strstr(d.msg, "100.0 MiB, over the 64 MiB limit") != NULL, "%s", d.msg);
  cr_assert_eq(truncate(path, 0), 0);
  d.msg[0] = 0;
  cr_expect_null(es_queryset_load(path, &err, &d));
  cr_expect(strstr(d.msg, "empty") != NULL, "%s", d.msg);
  unlink(path);
}

/* A query's subject words: the words of its plain terms and phrases
 * outside NOT, each once, folded; prefixes, wildcards, patterns and field
 * filters are not names and are left out. Sentiment does not score them. */
Test(query, subject_words_are_plain_terms_and_phrase_words_outside_not_issue21) {
  es_query_def def = {.id = "q", .expr = "(United OR @united OR \"United Airlines\" OR UA) AND NOT \"great deal\" "
                                         "AND (delay* OR l?te OR /lost\\s+bag/ OR lang:en OR united)"};
  int err;
  es_diag d = {{0}};
  es_queryset *qs = es_queryset_compile(&def, 1, &err, &d);
  cr_assert(qs, "%s", d.msg);
  const es_query *q = es_queryset_get(qs, 0);
  char got[256] = "";
  for (uint32_t i = 0; i < q->nsubject; i++) {
    strncat(got, q->subject[i], q->subject_len[i]);
    strcat(got, "|");
  }
  cr_expect_str_eq(got, "united|@united|airlines|ua|");
  es_queryset_destroy(qs);
}
