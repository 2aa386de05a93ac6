/* Mention decoding: JSON record -> es_mention, with the field mapping,
 * timestamp rules and input repairs of DESIGN.md.
 *
 * Design: parse with simdjson first (it validates UTF-8 for free); only when
 * that fails on UTF-8 or on a broken \u escape is the record repaired into a
 * per-decoder scratch buffer and parsed again, flagged as repaired. So the
 * common path copies nothing. Called by worker threads, one decoder each. */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "earshot/mem.h"
#include "earshot/mention.h"
#include "earshot/timeutil.h"
#include "json_internal.h"

const char *const es_field_names[ES_F_COUNT] = {"id", "ts", "text", "author", "followers", "lang", "source",
                                                "in_reply_to"};

static const char *const reason_names[] = {
  "none",
#define ES__X(id, name, action) name,
  ES_REASON_MAP(ES__X)
#undef ES__X
};
static const char *const reason_actions[] = {
  "none",
#define ES__X(id, name, action) action,
  ES_REASON_MAP(ES__X)
#undef ES__X
};

const char *es_reason_name(int r) { return r > 0 && r < ES_REASON_COUNT ? reason_names[r] : "none"; }
const char *es_reason_action(int r) { return r > 0 && r < ES_REASON_COUNT ? reason_actions[r] : "none"; }

struct es_decoder {
  es_json *json;
  es_json_path paths[ES_F_COUNT];
  char *path_store[ES_F_COUNT];
  size_t max_text;
  int64_t ts_min, ts_max;
  char *scratch; /* repaired copy of a record: 3x the record + padding */
  size_t scratch_cap;
  char idbuf[32], replybuf[32];
};

void es_decode_opts_default(es_decode_opts *o) {
  memset(o, 0, sizeof *o);
  o->max_text_bytes = 16384;
  o->ts_min_ms = 946684800000LL;  /* 2000-01-01T00:00:00Z */
  o->ts_max_ms = 4102444799999LL; /* 2099-12-31T23:59:59.999Z */
}

static int split_path(const char *path, es_json_path *p, char **store) {
  *store = es_strdup(path);
  if (!*store) return ES_ENOMEM;
  p->nkeys = 0;
  for (char *s = *store; s;) {
    char *dot = strchr(s, '.');
    size_t n = dot ? (size_t)(dot - s) : strlen(s);
    if (!n || p->nkeys == ES_JSON_MAX_DEPTH) return ES_EINVAL;
    p->keys[p->nkeys] = s;
    p->lens[p->nkeys++] = n;
    s = dot ? dot + 1 : NULL;
  }
  return 0;
}

es_decoder *es_decoder_create(const es_decode_opts *o, es_diag *diag) {
  es_decoder *d = es_calloc(1, sizeof *d);
  if (!d) return NULL;
  d->json = es__json_create();
  if (!d->json) goto fail;
  for (int f = 0; f < ES_F_COUNT; f++) {
    const char *path = o->paths[f] ? o->paths[f] : es_field_names[f];
    int rc = split_path(path, &d->paths[f], &d->path_store[f]);
    if (rc) {
      es_diag_set(diag, ES_ECONFIG, "field '%s': path '%s' is not a dotted path of 1 to %d non-empty keys",
                  es_field_names[f], path, ES_JSON_MAX_DEPTH);
      goto fail;
    }
  }
  d->max_text = o->max_text_bytes ? o->max_text_bytes : SIZE_MAX;
  d->ts_min = o->ts_min_ms;
  d->ts_max = o->ts_max_ms;
  return d;
fail:
  es_decoder_destroy(d);
  return NULL;
}

void es_decoder_destroy(es_decoder *d) {
  if (!d) return;
  es__json_destroy(d->json);
  for (int f = 0; f < ES_F_COUNT; f++) es_free(d->path_store[f]);
  es_free(d->scratch);
  es_free(d);
}

static int is_hex(char c) { return isxdigit((unsigned char)c); }

/* Replaces \uD800-\uDFFF escapes that do not form a valid pair with \uFFFD
 * (same length, in place). Returns how many were replaced. */
static int repair_surrogate_escapes(char *s, size_t n) {
  int fixed = 0;
  for (size_t i = 0; i + 6 <= n; i++) {
    if (s[i] != '\\') continue;
    if (s[i + 1] != 'u') {
      i++; /* skip the escaped character, e.g. \\ */
      continue;
    }
    if (!is_hex(s[i + 2]) || !is_hex(s[i + 3]) || !is_hex(s[i + 4]) || !is_hex(s[i + 5])) continue;
    unsigned v;
    sscanf(s + i + 2, "%4x", &v);
    if (v >= 0xd800 && v <= 0xdbff) {
      unsigned w = 0;
      if (i + 12 <= n && s[i + 6] == '\\' && s[i + 7] == 'u' && sscanf(s + i + 8, "%4x", &w) == 1 && w >= 0xdc00 &&
          w <= 0xdfff) {
        i += 11; /* a valid pair */
        continue;
      }
    } else if (!(v >= 0xdc00 && v <= 0xdfff)) {
      i += 5;
      continue;
    }
    memcpy(s + i + 2, "FFFD", 4);
    fixed++;
    i += 5;
  }
  return fixed;
}

static char *scratch(es_decoder *d, size_t need) {
  if (d->scratch_cap < need) {
    char *p = es_realloc(d->scratch, need);
    if (!p) return NULL;
    d->scratch = p;
    d->scratch_cap = need;
  }
  return d->scratch;
}

static int parse_ts(const es_json_value *v, int64_t *ms) {
  if (v->kind == ES_JSON_INT) {
    *ms = v->i;
    return 0;
  }
  if (v->kind == ES_JSON_DOUBLE) {
    if (!(v->d > -9.2e18 && v->d < 9.2e18)) return -1;
    *ms = (int64_t)v->d;
    return 0;
  }
  if (v->kind != ES_JSON_STRING) return -1;
  size_t i = 0;
  while (i < v->n && isdigit((unsigned char)v->s[i])) i++;
  if (i == v->n && i > 0 && i < 19) { /* a string of digits: epoch ms */
    int64_t r = 0;
    for (size_t k = 0; k < i; k++) r = r * 10 + (v->s[k] - '0');
    *ms = r;
    return 0;
  }
  return es_time_parse_rfc3339(v->s, v->n, ms) ? -1 : 0;
}

int es_decoder_decode(es_decoder *d, const char *line, size_t len, int64_t fallback_ts_ms, es_mention *m,
                      char detail[160]) {
  es_json_value v[ES_F_COUNT];
  const char *err = "";
  uint32_t flags = 0;
  detail[0] = 0;
  int st = es__json_parse(d->json, line, len, d->paths, ES_F_COUNT, v, &err);
  if (st == ES_JSON_BAD_UTF8 || st == ES_JSON_BAD_STRING) {
    /* Repair into scratch (3 bytes per input byte at worst) and retry once. */
    char *s = scratch(d, len * 3 + ES_DECODE_PADDING);
    if (!s) {
      snprintf(detail, 160, "out of memory while repairing the record");
      return ES_REASON_MALFORMED_JSON;
    }
    size_t n = es_utf8_repair(line, len, s);
    int fixed = repair_surrogate_escapes(s, n);
    if (n != len || fixed) {
      memset(s + n, 0, ES_DECODE_PADDING);
      st = es__json_parse(d->json, s, n, d->paths, ES_F_COUNT, v, &err);
      if (st == ES_JSON_OK) flags |= ES_MF_REPAIRED_UTF8;
    }
  }
  if (st != ES_JSON_OK) {
    snprintf(detail, 160, "%s", err);
    return ES_REASON_MALFORMED_JSON;
  }

  /* A response (the brand's answer to a mention): the mention's id and a
   * time are what count; its text is optional. */
  const es_json_value *rp = &v[ES_F_IN_REPLY_TO];
  m->in_reply_to.p = NULL;
  m->in_reply_to.n = 0;
  if (rp->kind == ES_JSON_STRING && rp->n) {
    m->in_reply_to.p = rp->s;
    m->in_reply_to.n = rp->n;
  } else if (rp->kind == ES_JSON_INT) {
    m->in_reply_to.n = (size_t)snprintf(d->replybuf, sizeof d->replybuf, "%lld", (long long)rp->i);
    m->in_reply_to.p = d->replybuf;
  }
  if (m->in_reply_to.n) flags |= ES_MF_RESPONSE;
  const es_json_value *t = &v[ES_F_TEXT];
  if ((flags & ES_MF_RESPONSE) && (t->kind == ES_JSON_MISSING || t->kind == ES_JSON_NULL)) {
    m->text.p = "";
    m->text.n = 0;
  } else if (t->kind != ES_JSON_STRING || t->n == 0) {
    snprintf(detail, 160, "field '%s' is %s", d->path_store[ES_F_TEXT],
             t->kind == ES_JSON_MISSING ? "missing" : t->kind == ES_JSON_STRING ? "empty" : "not a string");
    return ES_REASON_NO_TEXT;
  } else {
    m->text.p = t->s;
    m->text.n = t->n;
  }
  if (m->text.n > d->max_text) {
    m->text.n = es_utf8_truncate(t->s, t->n, d->max_text);
    flags |= ES_MF_TRUNCATED;
    snprintf(detail, 160, "text of %zu bytes truncated to %zu", t->n, m->text.n);
  }

  const es_json_value *ts = &v[ES_F_TS];
  if (ts->kind == ES_JSON_MISSING || ts->kind == ES_JSON_NULL) {
    if (fallback_ts_ms == INT64_MIN) {
      snprintf(detail, 160, "field '%s' is missing and the input has no record timestamp", d->path_store[ES_F_TS]);
      return ES_REASON_NO_TS;
    }
    m->ts_ms = fallback_ts_ms;
  } else if (parse_ts(ts, &m->ts_ms)) {
    snprintf(detail, 160, "field '%s' is neither an RFC 3339 string nor epoch milliseconds", d->path_store[ES_F_TS]);
    return ES_REASON_BAD_TS;
  }
  if (m->ts_ms < d->ts_min || m->ts_ms > d->ts_max) {
    char a[32], b[32];
    es_time_format_rfc3339(d->ts_min, a);
    es_time_format_rfc3339(d->ts_max, b);
    snprintf(detail, 160, "event time %lld ms is outside [%s, %s]", (long long)m->ts_ms, a, b);
    return ES_REASON_TS_OUT_OF_RANGE;
  }

  const es_json_value *id = &v[ES_F_ID];
  m->id.p = NULL;
  m->id.n = 0;
  if (id->kind == ES_JSON_STRING && id->n) {
    m->id.p = id->s;
    m->id.n = id->n;
  } else if (id->kind == ES_JSON_INT) {
    m->id.n = (size_t)snprintf(d->idbuf, sizeof d->idbuf, "%lld", (long long)id->i);
    m->id.p = d->idbuf;
  } else {
    flags |= ES_MF_NO_ID;
  }

  const es_json_value *au = &v[ES_F_AUTHOR];
  if (au->kind == ES_JSON_STRING && au->n) {
    m->author.p = au->s;
    m->author.n = au->n;
  } else {
    m->author.p = "";
    m->author.n = 0;
    flags |= ES_MF_ANONYMOUS;
  }

  const es_json_value *fo = &v[ES_F_FOLLOWERS];
  m->followers = 0;
  if (fo->kind == ES_JSON_INT && fo->i > 0) m->followers = (uint64_t)fo->i;
  else if (fo->kind == ES_JSON_DOUBLE && fo->d > 0 && fo->d < 1.8e19) m->followers = (uint64_t)fo->d;
  else if (fo->kind == ES_JSON_STRING) {
    uint64_t r = 0;
    size_t k = 0;
    for (; k < fo->n && k < 19 && isdigit((unsigned char)fo->s[k]); k++) r = r * 10 + (uint64_t)(fo->s[k] - '0');
    if (k == fo->n) m->followers = r;
  }

  const es_json_value *la = &v[ES_F_LANG];
  if (la->kind == ES_JSON_STRING && la->n) {
    m->lang.p = la->s;
    m->lang.n = la->n;
  } else {
    m->lang.p = "und";
    m->lang.n = 3;
  }
  const es_json_value *so = &v[ES_F_SOURCE];
  if (so->kind == ES_JSON_STRING && so->n) {
    m->source.p = so->s;
    m->source.n = so->n;
  } else {
    m->source.p = "unknown";
    m->source.n = 7;
  }
  m->flags = flags;
  return ES_REASON_NONE;
}
