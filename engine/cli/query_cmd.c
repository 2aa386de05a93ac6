/* `earshot query check FILE` and `earshot query explain 'QUERY' 'TEXT'`.
 * explain exits like grep: 0 when the query matches the text, 1 when it
 * does not, 2 on a query error. Main thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_internal.h"
#include "earshot/mem.h"
#include "earshot/mention.h"
#include "earshot/query.h"

static void print_error(void *ctx, const char *msg) { fprintf(stderr, "%s\n", msg); }

static int check(const char *path) {
  es_diag d = {{0}};
  size_t nq = 0, na = 0;
  int errors = es_queryset_check(path, print_error, NULL, &nq, &na, &d);
  if (errors < 0) {
    fprintf(stderr, "%s\n", d.msg);
    return 2;
  }
  if (errors) {
    fprintf(stderr, "%s: %d error%s\n", path, errors, errors == 1 ? "" : "s");
    return 2;
  }
  printf("%s: %zu queries, %zu distinct terms and phrases, all valid\n", path, nq, na);
  return 0;
}

static int explain(const char *query, const char *text, const es_match_meta *meta, bool no_accents) {
  es_query_def def = {.id = "explain", .name = "explain", .expr = query, .file = "command line", .line = 1};
  int err;
  es_diag d = {{0}};
  es_query_opts qo = {.accent_insensitive = no_accents};
  es_queryset *qs = es_queryset_compile_opts(&def, 1, &qo, &err, &d);
  if (!qs) {
    fprintf(stderr, "%s\n", d.msg);
    return 2;
  }
  es_match_rt *rt = es_match_rt_create(qs);
  if (rt) es_match_rt_set_provenance(rt, true);
  es_fold f;
  es_fold_init(&f);
  f.strip_marks = no_accents;
  /* As the decoder hands texts on: invalid UTF-8 repaired to U+FFFD. */
  size_t tn = strlen(text), fn;
  char *valid = es_malloc(3 * tn + 1);
  size_t vn = valid ? es_utf8_repair(text, tn, valid) : 0;
  const char *folded = valid ? es_fold_text(&f, valid, vn, &fn) : NULL;
  uint32_t out[1];
  int n = rt && folded ? es_queryset_match_meta(qs, rt, folded, fn, meta, out) : -1;
  char tree[8192];
  es_query_format(qs, es_queryset_get(qs, 0)->root, tree, sizeof tree);
  printf("query:   %s\nparsed:  %s\n", query, tree);
  for (size_t a = 0; a < es_queryset_atom_count(qs); a++) {
    const es_atom *at = es_queryset_atom(qs, a);
    static const char *const kinds[] = {"term", "phrase", "prefix", "field", "regex"};
    const char *pat = es_queryset_atom_pattern(qs, a);
    printf("  %-6s %-24.*s %-9s %s%s\n", kinds[at->kind], (int)at->len, at->text,
           n >= 0 && es_match_rt_atom_hit(rt, (uint32_t)a) ? "matched" : "no match", pat ? "pattern " : "",
           pat ? pat
           : at->kind == ES_ATOM_FIELD ? "(the mention's metadata: --lang, --source, --author, --followers)"
                                        : "(its words in order, separated only by non-word characters)");
    uint32_t st[16], en[16];
    size_t k = n >= 0 ? es_match_rt_occurrences(qs, rt, (uint32_t)a, st, en, 16) : 0;
    for (size_t i = 0; i < k; i++)
      printf("%s%u-%u \"%.*s\"%s", i ? ", " : "         at bytes ", st[i], en[i], (int)(en[i] - st[i]), folded + st[i],
             i + 1 == k ? "\n" : "");
  }
  for (size_t j = 0; n >= 0 && j < es_queryset_near_count(qs); j++) {
    char node[2048];
    es_query_format(qs, es_queryset_near(qs, j), node, sizeof node);
    printf("  near   %-34s %s\n", node, es_match_rt_near_hit(rt, j) ? "holds" : "does not hold");
  }
  int rc = n > 0 ? 0 : 1;
  if (n < 0) {
    fprintf(stderr, "matching failed\n");
    rc = 2;
  } else {
    printf("result:  %s\n", n > 0 ? "MATCH" : "no match");
  }
  es_fold_free(&f);
  es_free(valid);
  es_match_rt_destroy(rt);
  es_queryset_destroy(qs);
  return rc;
}

int es__cmd_query(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "check")) return check(argv[2]);
  if (argc >= 4 && argc % 2 == 0 && !strcmp(argv[1], "explain")) {
    es_match_meta meta = {0};
    bool no_accents = false;
    for (int i = 4; i + 1 < argc; i += 2) {
      const char *k = argv[i], *v = argv[i + 1];
      char *end;
      if (!strcmp(k, "--lang")) meta.lang = v, meta.lang_n = strlen(v);
      else if (!strcmp(k, "--source")) meta.source = v, meta.source_n = strlen(v);
      else if (!strcmp(k, "--author")) meta.author = v, meta.author_n = strlen(v);
      else if (!strcmp(k, "--followers") && (meta.followers = strtoull(v, &end, 10), *v && !*end)) continue;
      else if (!strcmp(k, "--accents") && (!strcmp(v, "insensitive") || !strcmp(v, "sensitive")))
        no_accents = !strcmp(v, "insensitive");
      else {
        fprintf(stderr, "earshot query explain: unknown option or bad value: %s %s\n", k, v);
        return 2;
      }
    }
    return explain(argv[2], argv[3], &meta, no_accents);
  }
  fputs("usage: earshot query check FILE\n"
        "       earshot query explain 'QUERY' 'TEXT' [--lang L] [--source S] [--author A] [--followers N]\n"
        "                             [--accents insensitive]\n",
        stderr);
  return 2;
}
