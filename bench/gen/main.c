/* earshot-gen: command-line front end of the mention generator.
 *
 *   earshot-gen mentions [--count N] [--seed S] [--rate PER_MIN] [--start RFC3339]
 *                        [--incident TOPIC@OFFSET+DURATION*MULT]... [--labels FILE] [-o FILE]
 *   earshot-gen queries  [--count N] [--seed S] [-o FILE]
 *
 * Example: --incident fees@2h+20m*8 plants a fee-complaint incident two hours
 * after --start, lasting 20 minutes, at 8x the usual fee volume. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/timeutil.h"
#include "gen.h"

static int usage(void) {
  fputs("usage: earshot-gen mentions [--count N] [--seed S] [--rate PER_MIN] [--start RFC3339]\n"
        "                            [--authors N] [--author-skew S (Zipf exponent, 0 = uniform; default 1.05)]\n"
        "                            [--incident TOPIC@OFFSET+DURATION*MULT]... [--labels FILE] [-o FILE]\n"
        "       earshot-gen queries [--count N] [--seed S] [-o FILE]\n"
        "topics: fees app delivery support rewards branch\n",
        stderr);
  return 2;
}

static int parse_incident(const char *spec, int64_t start, es_gen_incident *in) {
  char buf[128], *at, *plus, *star;
  snprintf(buf, sizeof buf, "%s", spec);
  if (!(at = strchr(buf, '@')) || !(plus = strchr(at, '+')) || !(star = strchr(plus, '*'))) return -1;
  *at = *plus = *star = 0;
  in->topic = -1;
  for (int t = 0; t < ES_GEN_NTOPICS; t++)
    if (!strcmp(buf, es_gen_topic_name(t))) in->topic = t;
  int64_t off, dur;
  char *end;
  in->multiplier = strtod(star + 1, &end);
  if (in->topic < 0 || es_duration_parse(at + 1, &off) || es_duration_parse(plus + 1, &dur) || *end ||
      in->multiplier < 1)
    return -1;
  in->start_ms = start + off;
  in->dur_ms = dur;
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) return usage();
  const char *mode = argv[1], *out_path = NULL, *labels = NULL;
  es_gen_opts o;
  es_gen_opts_default(&o);
  const char *incidents[ES_GEN_MAX_INCIDENTS];
  int n_inc = 0, count_given = 0;
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) return usage();
    i++;
    if (!strcmp(a, "--count")) {
      o.count = strtoull(v, NULL, 10);
      count_given = 1;
    }
    else if (!strcmp(a, "--seed")) o.seed = strtoull(v, NULL, 10);
    else if (!strcmp(a, "--rate")) o.rate_per_min = strtod(v, NULL);
    else if (!strcmp(a, "--authors")) o.authors = (uint32_t)strtoul(v, NULL, 10);
    else if (!strcmp(a, "--author-skew")) o.author_skew = strtod(v, NULL);
    else if (!strcmp(a, "--start")) {
      if (es_time_parse_rfc3339(v, strlen(v), &o.start_ms)) {
        fprintf(stderr, "earshot-gen: --start: '%s' is not an RFC 3339 time\n", v);
        return 2;
      }
    } else if (!strcmp(a, "--incident") && n_inc < ES_GEN_MAX_INCIDENTS) incidents[n_inc++] = v;
    else if (!strcmp(a, "--labels")) labels = v;
    else if (!strcmp(a, "-o")) out_path = v;
    else return usage();
  }
  for (int i = 0; i < n_inc; i++)
    if (parse_incident(incidents[i], o.start_ms, &o.incidents[o.n_incidents++])) {
      fprintf(stderr, "earshot-gen: bad --incident '%s' (want TOPIC@OFFSET+DURATION*MULT, e.g. fees@2h+20m*8)\n",
              incidents[i]);
      return 2;
    }
  /* "-o -" is standard output, as everywhere else. */
  FILE *out = out_path && strcmp(out_path, "-") ? fopen(out_path, "w") : stdout;
  if (!out) {
    fprintf(stderr, "earshot-gen: cannot write %s: %s\n", out_path, strerror(errno));
    return 1;
  }
  if (!strcmp(mode, "queries")) {
    es_gen_write_queries(o.seed, count_given ? (uint32_t)o.count : 100, out);
  } else if (!strcmp(mode, "mentions")) {
    es_gen *g = es_gen_create(&o);
    es_buf b;
    es_buf_init(&b);
    while (g && es_gen_next(g, &b, NULL) == 0)
      if (b.len > (1 << 20)) {
        fwrite(b.data, 1, b.len, out);
        es_buf_clear(&b);
      }
    fwrite(b.data, 1, b.len, out);
    es_buf_free(&b);
    es_gen_destroy(g);
    if (labels) {
      FILE *lf = fopen(labels, "w");
      if (!lf) {
        fprintf(stderr, "earshot-gen: cannot write %s: %s\n", labels, strerror(errno));
        return 1;
      }
      es_gen_write_labels(&o, lf);
      fclose(lf);
    }
  } else {
    return usage();
  }
  if (out == stdout ? fflush(out) : fclose(out)) {
    fprintf(stderr, "earshot-gen: writing %s failed: %s\n", out == stdout ? "standard output" : out_path,
            strerror(errno));
    return 1;
  }
  return 0;
}
