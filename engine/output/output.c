/* Serialisation of window, dead-letter and enriched records (see
 * include/earshot/output.h). Workers call the DLQ and enriched writers, the
 * aggregator the window writers; each into its own es_buf. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "earshot/mem.h"
#include "earshot/output.h"
#include "earshot/timeutil.h"

/* A time as a JSON string. The records of one window share its start and
 * end, so the last two formatted are kept (per thread). */
static void time_value(es_buf *b, int64_t ms) {
  static _Thread_local struct {
    int64_t ms;
    size_t n;
    char t[32];
  } cache[2] = {{INT64_MIN, 0, ""}, {INT64_MIN, 0, ""}};
  static _Thread_local int next;
  int i = cache[0].ms == ms ? 0 : cache[1].ms == ms ? 1 : -1;
  if (i < 0) {
    i = next;
    next ^= 1;
    cache[i].ms = ms;
    cache[i].n = es_time_format_rfc3339(ms, cache[i].t);
  }
  es_buf_json_str(b, cache[i].t, cache[i].n);
}

/* "key":value with a literal key */
#define key_time(b, key, ms) (ES_JSON_KEY(b, key), time_value(b, ms))
#define key_u64(b, key, v) (ES_JSON_KEY(b, key), es_buf_json_u64(b, v))
#define key_f64(b, key, v) (ES_JSON_KEY(b, key), es_buf_json_f64(b, v))

/* "key":[{"author":...,"count":...,"reach":...},...] (count when asked). */
static void authors_json(es_buf *b, const char *key, const es_top_author *a, int n, bool with_count) {
  es_buf_json_keyn(b, key, strlen(key));
  es_buf_putc(b, '[');
  for (int i = 0; i < n; i++) {
    if (i) es_buf_putc(b, ',');
    es_buf_putc(b, '{');
    ES_JSON_KEY(b, "author");
    es_buf_json_str(b, a[i].name, strlen(a[i].name));
    if (with_count) key_u64(b, "count", a[i].count);
    key_u64(b, "reach", a[i].reach);
    es_buf_putc(b, '}');
  }
  es_buf_putc(b, ']');
}

void es_output_window_json(es_buf *b, const es_query *q, const es_window_result *w, const es_detect_result *d) {
  es_buf_putc(b, '{');
  ES_JSON_KEY(b, "query");
  es_buf_json_str(b, q->id, strlen(q->id));
  key_time(b, "window_start", w->start_ms);
  key_time(b, "window_end", w->end_ms);
  key_u64(b, "window_seconds", (uint64_t)(w->size_ms / 1000));
  key_u64(b, "count", w->count);
  key_u64(b, "positive", w->positive);
  key_u64(b, "negative", w->negative);
  key_u64(b, "neutral", w->neutral);
  key_u64(b, "unscored", w->unscored);
  key_f64(b, "sentiment_mean", w->sentiment_mean);
  if (w->situation_names) { /* with triage: mentions per situation, and per track routed to */
    for (int pass = 0; pass < 2; pass++) {
      uint32_t mask = pass ? w->track_mask : w->situation_mask;
      const char *const *names = pass ? w->track_names : w->situation_names;
      if (pass) ES_JSON_KEY(b, "tracks");
      else ES_JSON_KEY(b, "situations");
      es_buf_putc(b, '{');
      for (uint32_t sm = mask; names && sm; sm &= sm - 1) {
        int k = __builtin_ctz(sm);
        es_buf_json_key(b, names[k]); /* (writes the comma) */
        es_buf_json_u64(b, pass ? w->tracks[k] : w->situations[k]);
      }
      es_buf_putc(b, '}');
    }
  }
  key_u64(b, "unique_authors", w->unique_authors);
  key_u64(b, "anonymous", w->anonymous);
  key_u64(b, "reach", w->reach);
  authors_json(b, "top_authors", w->top, w->ntop, true);
  authors_json(b, "top_reach", w->top_reach, w->ntop_reach, false);
  ES_JSON_KEY(b, "terms");
  es_buf_putc(b, '[');
  for (int i = 0; i < w->nhot; i++) {
    if (i) es_buf_putc(b, ',');
    es_buf_putc(b, '{');
    ES_JSON_KEY(b, "term");
    es_buf_json_str(b, w->hot[i].text, strlen(w->hot[i].text));
    key_u64(b, "count", w->hot[i].count);
    key_f64(b, "lift", w->hot[i].lift);
    es_buf_putc(b, '}');
  }
  es_buf_putc(b, ']');
  key_u64(b, "effective_count", w->effective);
  key_f64(b, "duplicate_share", w->count ? 1.0 - (double)w->effective / (double)w->count : 0.0);
  /* A flood: most of the volume is copies, posted by many accounts. */
  ES_JSON_KEY(b, "flood");
  es_buf_puts(b, w->count >= 20 && w->effective * 2 <= w->count && w->unique_authors >= 10 ? "true" : "false");
  if (!d) { /* an early update: the window is still open, detection runs when it closes */
    ES_JSON_KEY(b, "early");
    es_buf_puts(b, "true");
    ES_JSON_KEY(b, "final");
    es_buf_puts(b, "false");
    es_buf_put(b, "}\n", 2);
    return;
  }
  ES_JSON_KEY(b, "class");
  es_buf_json_str(b, es_class_name(d->cls), strlen(es_class_name(d->cls)));
  key_f64(b, "expected", d->expected);
  key_f64(b, "lift", d->lift);
  key_f64(b, "p_value", d->p_value);
  key_f64(b, "season", d->season);
  key_f64(b, "negative_share_expected", d->neg_share_expected);
  ES_JSON_KEY(b, "alert");
  if (d->alert_state == ES_ALERT_NONE) {
    es_buf_puts(b, "null");
  } else {
    /* The alert's id: the query and the end of the window that opened it. */
    char opened[32];
    es_time_format_rfc3339((d->alert_opened + 1) * w->size_ms, opened);
    es_buf_putc(b, '{');
    ES_JSON_KEY(b, "id");
    es_buf_printf(b, "\"%s@%s/%llds\"", q->id, opened, (long long)(w->size_ms / 1000));
    ES_JSON_KEY(b, "state");
    es_buf_printf(b, "\"%s\"", es_alert_state_name(d->alert_state));
    ES_JSON_KEY(b, "opened_at");
    es_buf_printf(b, "\"%s\"", opened);
    key_u64(b, "severity", (uint64_t)d->alert_severity);
    key_u64(b, "window_severity", (uint64_t)d->severity);
    key_u64(b, "alerting_windows", (uint64_t)d->alert_windows);
    key_f64(b, "peak_lift", d->alert_peak_lift);
    key_u64(b, "peak_count", d->alert_peak_count);
    ES_JSON_KEY(b, "classes");
    es_buf_putc(b, '[');
    bool first = true;
    for (int c = 0; c < 8; c++) {
      if (!(d->alert_classes & (1u << c))) continue;
      es_buf_printf(b, "%s\"%s\"", first ? "" : ",", es_class_name(c));
      first = false;
    }
    es_buf_putc(b, ']');
    if (d->level_test >= 0) {
      /* Which of the level model's tests called this window, on what
       * numbers (README, Detection). */
      ES_JSON_KEY(b, "evidence");
      es_buf_putc(b, '{');
      ES_JSON_KEY(b, "test");
      es_buf_printf(b, "\"%s\"", es_level_test_name(d->level_test));
      key_f64(b, "sd", d->level_sd);
      key_f64(b, "magnitude", d->level_magnitude);
      key_f64(b, "bar", d->level_bar);
      es_buf_putc(b, '}');
    }
    ES_JSON_KEY(b, "sample_ids");
    es_buf_putc(b, '[');
    for (int i = 0; i < w->nsamples; i++) {
      if (i) es_buf_putc(b, ',');
      es_buf_json_str(b, w->samples[i], strlen(w->samples[i]));
    }
    es_buf_putc(b, ']');
    es_buf_putc(b, '}');
  }
  ES_JSON_KEY(b, "warming_up");
  es_buf_puts(b, d->warming_up ? "true" : "false");
  ES_JSON_KEY(b, "threshold_breached");
  es_buf_puts(b, d->threshold_breached ? "true" : "false");
  ES_JSON_KEY(b, "final");
  es_buf_puts(b, w->final ? "true" : "false");
  es_buf_put(b, "}\n", 2);
}

void es_output_period_pretty(es_buf *b, const es_window_result *w) {
  char t[32];
  es_time_format_rfc3339(w->start_ms, t);
  es_buf_printf(b, "%s %4llds", t, (long long)(w->size_ms / 1000));
}

void es_output_window_pretty(es_buf *b, const es_query *q, const es_window_result *w, const es_detect_result *d) {
  char t[32];
  es_time_format_rfc3339(w->start_ms, t);
  es_buf_printf(b, "  >> %s %-14.14s count=%6llu neg=%5llu pos=%5llu sent=%+.2f authors=%5llu  ", t, q->id, (unsigned long long)w->count,
                (unsigned long long)w->negative, (unsigned long long)w->positive, w->sentiment_mean,
                (unsigned long long)w->unique_authors);
  switch (d->cls) {
  case ES_CLASS_SPIKE:
    es_buf_printf(b, "SPIKE      expected %.1f, lift %.1fx, p=%.1e", d->expected, d->lift, d->p_value);
    break;
  case ES_CLASS_THRESHOLD: es_buf_printf(b, "THRESHOLD  (user alert reached)"); break;
  case ES_CLASS_TREND: es_buf_printf(b, "TREND      expected %.1f, lift %.1fx (a sustained rise)", d->expected, d->lift); break;
  case ES_CLASS_NEGATIVE:
    es_buf_printf(b, "NEGATIVE   share %.0f%%, usually %.0f%%", w->count ? 100.0 * (double)w->negative / (double)w->count : 0.0,
                  100 * d->neg_share_expected);
    break;
  case ES_CLASS_DROP: es_buf_printf(b, "DROP       expected %.1f, lift %.2fx, p=%.1e", d->expected, d->lift, d->p_value); break;
  default: es_buf_puts(b, es_class_name(d->cls)); break;
  }
  if (d->cls != ES_CLASS_THRESHOLD && d->threshold_breached) es_buf_puts(b, " +threshold");
  if (d->alert_state != ES_ALERT_NONE)
    es_buf_printf(b, "  [alert %s, severity %d]", es_alert_state_name(d->alert_state), d->alert_severity);
  for (int i = 0; i < w->nhot && i < 3; i++) /* what it is about */
    es_buf_printf(b, "%s%s %.0fx", i ? ", " : "  about: ", w->hot[i].text, w->hot[i].lift);
  es_buf_putc(b, '\n');
}

void es_output_dlq(es_buf *b, int reason, const char *detail, const es_src *src, const char *input, size_t input_len) {
  es_buf_putc(b, '{');
  ES_JSON_KEY(b, "reason");
  es_buf_puts(b, "\"");
  es_buf_puts(b, es_reason_name(reason));
  es_buf_puts(b, "\"");
  ES_JSON_KEY(b, "action");
  es_buf_puts(b, "\"");
  es_buf_puts(b, es_reason_action(reason));
  es_buf_puts(b, "\"");
  ES_JSON_KEY(b, "detail");
  es_buf_json_str(b, detail, strlen(detail));
  if (src->partition >= 0) {
    ES_JSON_KEY(b, "topic");
    es_buf_json_str(b, src->name, strlen(src->name));
    key_u64(b, "partition", (uint64_t)src->partition);
    key_u64(b, "offset", src->pos);
  } else {
    ES_JSON_KEY(b, "source");
    es_buf_json_str(b, src->name, strlen(src->name));
    key_u64(b, "line", src->pos);
  }
  ES_JSON_KEY(b, "input");
  size_t valid = es_utf8_valid_prefix(input, input_len);
  if (valid == input_len) {
    es_buf_json_str(b, input, input_len);
  } else {
    char *tmp = es_malloc(input_len * 3 + 1);
    if (tmp) {
      size_t n = es_utf8_repair(input, input_len, tmp);
      es_buf_json_str(b, tmp, n);
      es_free(tmp);
    } else {
      es_buf_puts(b, "null");
    }
    ES_JSON_KEY(b, "input_repaired");
    es_buf_puts(b, "true");
  }
  es_buf_put(b, "}\n", 2);
}

void es_output_enriched(es_buf *b, const es_mention *m, const char *gen_id, const es_queryset *qs,
                        const uint32_t *queries, size_t nq, const es_sentiment *s, const es_langid *lid) {
  es_buf_putc(b, '{');
  ES_JSON_KEY(b, "id");
  if (m->id.p) es_buf_json_str(b, m->id.p, m->id.n);
  else es_buf_json_str(b, gen_id, strlen(gen_id));
  key_time(b, "ts", m->ts_ms);
  ES_JSON_KEY(b, "text");
  es_buf_json_str(b, m->text.p, m->text.n);
  ES_JSON_KEY(b, "author");
  es_buf_json_str(b, m->author.p, m->author.n);
  key_u64(b, "followers", m->followers);
  ES_JSON_KEY(b, "lang");
  es_buf_json_str(b, m->lang.p, m->lang.n);
  if (lid && lid->code[0]) {
    /* The mention came without a language: what the text says. */
    ES_JSON_KEY(b, "lang_detected");
    es_buf_json_str(b, lid->code, strlen(lid->code));
    ES_JSON_KEY(b, "lang_confidence");
    es_buf_json_f64(b, lid->confidence);
    ES_JSON_KEY(b, "lang_reliable");
    es_buf_puts(b, lid->reliable ? "true" : "false");
  }
  ES_JSON_KEY(b, "source");
  es_buf_json_str(b, m->source.p, m->source.n);
  ES_JSON_KEY(b, "queries");
  es_buf_putc(b, '[');
  for (size_t i = 0; i < nq; i++) {
    const es_query *q = es_queryset_get(qs, queries[i]);
    if (i) es_buf_putc(b, ',');
    es_buf_json_str(b, q->id, strlen(q->id));
  }
  es_buf_putc(b, ']');
  ES_JSON_KEY(b, "sentiment");
  es_buf_putc(b, '{');
  ES_JSON_KEY(b, "compound");
  es_buf_json_f64(b, s->compound);
  ES_JSON_KEY(b, "label");
  const char *l = es_label_name(s->label);
  es_buf_json_str(b, l, strlen(l));
  es_buf_putc(b, '}');
  if (m->flags & (ES_MF_REPAIRED_UTF8 | ES_MF_TRUNCATED)) {
    ES_JSON_KEY(b, "flags");
    es_buf_putc(b, '[');
    if (m->flags & ES_MF_REPAIRED_UTF8) es_buf_puts(b, "\"invalid_utf8\"");
    if ((m->flags & ES_MF_REPAIRED_UTF8) && (m->flags & ES_MF_TRUNCATED)) es_buf_putc(b, ',');
    if (m->flags & ES_MF_TRUNCATED) es_buf_puts(b, "\"oversized\"");
    es_buf_putc(b, ']');
  }
  es_buf_put(b, "}\n", 2);
}
