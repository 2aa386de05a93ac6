/* Worker threads: decode -> fold -> match -> score for every line of a
 * batch, writing results into the batch itself.
 *
 * Each worker owns its decoder (simdjson parser), folding buffer, Hyperscan
 * scratch and sentiment buffers, and counts into its own cache line. The
 * only allocations are amortised growth of the batch's hit array, arena and
 * output buffers, which are kept across batches. Dead letters (rejected,
 * repaired or truncated records) are serialised here so the aggregator only
 * copies bytes. */
#include <stdio.h>
#include <string.h>

#include "earshot/hash.h"
#include "earshot/timeutil.h"
#include "earshot/output.h"
#include "earshot/log.h"
#include "earshot/langid.h"
#include "pipeline_internal.h"

static bool grow_meta(es_rec_meta **m, uint32_t n, uint32_t *cap) {
  if (n < *cap) return true;
  uint32_t c = *cap ? *cap * 2 : 64;
  es_rec_meta *x = es_realloc(*m, c * sizeof *x);
  if (!x) return false;
  *m = x;
  *cap = c;
  return true;
}

es_src es__record_src(const es_pipe *p, const es_batch *b, uint32_t i) {
  es_src src = {.name = p->source, .partition = b->kpart[i], .pos = b->line_no[i]};
  if (b->kpart[i] >= 0) src.name = p->topics[b->ktopic[i]];
  return src;
}

/* Writes a dead letter for record i (JSON into b->dlq, and its location). */
void es__dead_letter(es_pipe *p, es_batch *b, es_buf *out, uint32_t i, int reason, const char *detail) {
  es_src src = es__record_src(p, b, i);
  size_t start = out->len;
  /* Each record of b->dlq is located, for the sinks that take them one by
   * one: without room for that (out of memory) it is not written at all. */
  if (out == &b->dlq && !grow_meta(&b->dlqm, b->ndlq, &b->cap_dlq)) return;
  es_output_dlq(out, reason, detail, &src, b->data + b->off[i], b->len_[i]);
  if (out != &b->dlq) return;
  b->dlqm[b->ndlq++] = (es_rec_meta){.rec = i, .off = (uint32_t)start, .len = (uint32_t)(out->len - start),
                                      .reason = (uint8_t)reason,
                                      .detail = es_arena_strndup(&b->arena, detail, strlen(detail))};
}

static void reject(es_worker *w, es_batch *b, uint32_t i, int reason, const char *detail) {
  es_line_res *r = &b->res[i];
  r->reason = (uint8_t)reason;
  ES_BUMP(w->c.reasons[reason], 1);
  es__dead_letter(w->p, b, &b->dlq, i, reason, detail);
}

static int grow_hits(es_batch *b, uint32_t need) {
  if (b->nhits + need <= b->cap_hits) return 0;
  uint32_t cap = b->cap_hits ? b->cap_hits : 4096;
  while (cap < b->nhits + need) cap *= 2;
  uint32_t *h = es_realloc(b->hits, cap * sizeof *h);
  if (!h) return -1;
  b->hits = h;
  b->cap_hits = cap;
  return 0;
}

/* A batch stamped with another query set (hot reload): matching state for
 * that set, routes of the batch's triage file (tr) bound to it. False on
 * OOM (the old state stays). */
static bool switch_set(es_worker *w, const es_queryset *qs, const es_triage *tr) {
  es_match_rt *rt = es_match_rt_create(qs);
  uint32_t *qbuf = es_malloc((es_queryset_count(qs) ? es_queryset_count(qs) : 1) * sizeof *qbuf);
  /* bound with the batch's triage file: the worker's own may have been
   * freed since (the aggregator adopted a newer one); switch_triage follows */
  es_triage_bound *tb = tr ? es_triage_bind(tr, qs) : NULL;
  if (!rt || !qbuf || (tr && !tb)) {
    es_match_rt_destroy(rt);
    es_free(qbuf);
    es_triage_unbind(tb);
    return false;
  }
  es_match_rt_destroy(w->rt);
  es_free(w->qbuf);
  es_triage_unbind(w->tb);
  w->tb = tb;
  w->rt = rt;
  w->qbuf = qbuf;
  w->qs = qs;
  w->fold.strip_marks = es_queryset_accent_insensitive(qs);
  return true;
}

/* A batch read under another triage file (hot reload): its routes bound to
 * the worker's queries and a runtime for its situations. False on OOM (the
 * batch is not triaged). */
static bool switch_triage(es_worker *w, const es_triage *tr) {
  es_triage_bound *tb = es_triage_bind(tr, w->qs);
  es_situations_rt *rt = es_situations_rt_create(es_triage_situations(tr));
  if (!tb || !rt) {
    es_triage_unbind(tb);
    es_situations_rt_destroy(rt);
    return false;
  }
  es_triage_unbind(w->tb);
  es_situations_rt_destroy(w->sitrt);
  w->tb = tb;
  w->sitrt = rt;
  w->tr = tr;
  return true;
}

/* A stage that began at `from` ended now (*to). */
static void stage_time(es_worker *w, int stage, uint64_t from, uint64_t *to) {
  *to = es_time_mono_ns();
  uint64_t ns = *to - from;
  ES_BUMP(w->c.stage_bucket[stage][es_hist_bucket(ns)], 1);
  ES_BUMP(w->c.stage_ns[stage], ns);
}

/* Triage: the mention's situations and the static part of its route, and
 * (when a sink takes triage records) the record's prefix: the enriched
 * mention and its situations, completed by the aggregator with the route. */
static void triage(es_worker *w, es_batch *b, uint32_t i, const es_mention *m, const char *folded, size_t fn,
                   const es_match_meta *meta, int nh, const es_sentiment *s, const es_langid *lid, const char *gen_id) {
  es_pipe *p = w->p;
  es_line_res *r = &b->res[i];
  const es_situations *S = es_triage_situations(w->tr);
  size_t nsh;
  r->situations = es_situations_eval(S, w->sitrt, folded, fn, meta, s, w->sh, &nsh);
  es_triage_in in = {.qs = b->qs, .queries = w->qbuf, .nqueries = (size_t)nh, .situations = r->situations,
                     .label = s->label, .compound = s->compound, .author = m->author.p, .author_n = m->author.n,
                     .lang = m->lang.p, .lang_n = m->lang.n, .source = m->source.p, .source_n = m->source.n,
                     .followers = m->followers};
  es_triage_pre pre;
  es_triage_pre_eval(w->tr, w->tb, &in, &pre);
  r->route = pre.route;
  r->crisis = pre.crisis;
  if (!p->want_triage || !grow_meta(&b->trm, b->ntr, &b->cap_tr)) return;
  size_t start = b->triage.len;
  es_output_enriched(&b->triage, m, gen_id, b->qs, w->qbuf, (size_t)nh, s, lid);
  b->triage.len -= 2; /* "}\n": the record goes on */
  es_buf_putc(&b->triage, ',');
  es_situations_json(&b->triage, S, w->sitrt, w->sh, nsh);
  es_buf_putc(&b->triage, ',');
  char why[512];
  es_triage_explain_cond(w->tr, 0, pre.route, &in, why, sizeof why);
  const char *key = m->id.p ? m->id.p : gen_id;
  size_t kn = m->id.p ? m->id.n : strlen(gen_id);
  b->trm[b->ntr++] = (es_rec_meta){.rec = i, .off = (uint32_t)start, .len = (uint32_t)(b->triage.len - start),
                                    .detail = es_arena_strndup(&b->arena, why, strlen(why)),
                                    .key = es_arena_strndup(&b->arena, key, kn), .key_len = (uint32_t)kn};
  r->tri = b->ntr;
}

static void process(es_worker *w, es_batch *b) {
  es_pipe *p = w->p;
  char detail[160];
  bool usable = b->qs == w->qs || switch_set(w, b->qs, b->tr);
  if (!usable) es_log_error("out of memory switching to reloaded queries; this batch matches nothing", "lines=%u", b->nlines);
  bool triaged = usable && b->tr && (b->tr == w->tr || switch_triage(w, b->tr));
  if (b->tr && !triaged) {
    es_log_error("out of memory switching to a reloaded triage file; this batch's mentions are not triaged", "lines=%u",
                 b->nlines);
    b->tr = NULL; /* the aggregator skips its triage */
  }
  for (uint32_t i = 0; i < b->nlines; i++) {
    es_line_res *r = &b->res[i];
    memset(r, 0, sizeof *r);
    ES_BUMP(w->c.lines, 1);
    const char *line = b->data + b->off[i];
    size_t len = b->len_[i];
    if (b->too_long[i]) {
      snprintf(detail, sizeof detail, "record longer than %u bytes; its first %u bytes are kept here",
               (unsigned)ES_RECORD_MAX, (unsigned)ES_TOO_LONG_KEEP);
      reject(w, b, i, ES_REASON_RECORD_TOO_LONG, detail);
      continue;
    }
    /* One mention in ES_STAGE_SAMPLE has its stages timed. */
    bool timed = (i & (ES_STAGE_SAMPLE - 1)) == 0;
    uint64_t t0 = timed ? es_time_mono_ns() : 0, t1 = 0;
    es_mention m;
    int reason = es_decoder_decode(w->dec, line, len, b->kts[i], &m, detail);
    if (timed) stage_time(w, ES_STAGE_DECODE, t0, &t1);
    if (reason) {
      reject(w, b, i, reason, detail);
      continue;
    }
    ES_BUMP(w->c.accepted, 1);
    if (m.flags & ES_MF_RESPONSE) { /* the brand's answer: for time to respond, not a mention */
      r->response = 1;
      r->ts_ms = m.ts_ms;
      r->id = es_arena_strndup(&b->arena, m.in_reply_to.p, m.in_reply_to.n);
      r->id_len = r->id ? (uint32_t)m.in_reply_to.n : 0;
      continue;
    }
    if (m.flags & ES_MF_REPAIRED_UTF8) {
      ES_BUMP(w->c.reasons[ES_REASON_INVALID_UTF8], 1);
      es__dead_letter(p, b, &b->dlq, i, ES_REASON_INVALID_UTF8,
                      "invalid UTF-8 replaced with U+FFFD; the mention was processed");
    }
    if (m.flags & ES_MF_TRUNCATED) {
      ES_BUMP(w->c.reasons[ES_REASON_OVERSIZED], 1);
      es__dead_letter(p, b, &b->dlq, i, ES_REASON_OVERSIZED, detail);
    }
    size_t fn;
    const char *folded = es_fold_text(&w->fold, m.text.p, m.text.n, &fn);
    es_match_meta meta = {.lang = m.lang.p, .lang_n = m.lang.n, .source = m.source.p, .source_n = m.source.n,
                          .author = m.author.p, .author_n = m.author.n, .followers = m.followers};
    int nh = folded && usable ? es_queryset_match_meta(b->qs, w->rt, folded, fn, &meta, w->qbuf) : 0;
    if (nh < 0) nh = 0;
    if (timed) stage_time(w, ES_STAGE_MATCH, t1, &t1);
    /* Sentiment feeds the windows of matched queries and the enriched
     * output (matched mentions only): a mention nothing matched is not
     * scored. */
    es_sentiment s = {0};
    es_langid lid = {0};
    if (nh > 0) {
      /* No language (or "und"): identified from the text when it can be
       * told reliably; otherwise the default language. */
      size_t ln;
      const char *lang = es_langid_pick(m.lang.p, m.lang.n, m.text.p, m.text.n, p->cfg->sentiment_detect_lang, &lid, &ln);
      /* The subject is not the sentiment: the matched queries' own words
       * (a brand called "United") are not scored. */
      size_t ns = es_queryset_subject(b->qs, w->qbuf, (size_t)nh, w->subj, w->subj_len, ES_SUBJECT_WORDS);
      es_sentiment_rt_set_subject(w->srt, w->subj, w->subj_len, ns);
      es_sentiment_score_lang(p->lex, lang, ln, w->srt, m.text.p, m.text.n, &s, NULL);
    }
    if (timed && nh > 0) stage_time(w, ES_STAGE_SCORE, t1, &t1);
    char terms[ES_MENTION_TERMS * ES_TERM_MAX];
    size_t tn = 0;
    r->content_hash = nh > 0 ? es_content_hash_terms(m.text.p, m.text.n, terms, sizeof terms, &tn, &r->simhash) : 0;
    r->ts_ms = m.ts_ms;
    r->followers = m.followers;
    r->compound = (float)s.compound;
    r->label = (uint8_t)s.label;
    if (nh > 0) {
      if (grow_hits(b, (uint32_t)nh)) nh = 0; /* OOM: count the mention, not its matches */
      r->hit_off = b->nhits;
      r->nhits = (uint32_t)nh;
      memcpy(b->hits + b->nhits, w->qbuf, (size_t)nh * sizeof *w->qbuf);
      b->nhits += (uint32_t)nh;
      ES_BUMP(w->c.matched, 1);
      ES_BUMP(w->c.hits, (uint64_t)nh);
      if (m.id.n) {
        r->id = es_arena_strndup(&b->arena, m.id.p, m.id.n);
        r->id_len = r->id ? (uint32_t)m.id.n : 0;
      }
      if (tn) {
        r->terms = es_arena_strndup(&b->arena, terms, tn);
        r->terms_len = r->terms ? (uint32_t)tn : 0;
      }
      if (m.author.n) {
        r->author_hash = es_hash_bytes(m.author.p, m.author.n) | 1; /* never 0: 0 means anonymous */
        r->author = es_arena_strndup(&b->arena, m.author.p, m.author.n);
        r->author_len = r->author ? (uint32_t)m.author.n : 0;
        if (!r->author) r->author_hash = 0;
      }
      char gen_id[160];
      if (p->want_enriched || p->want_triage) {
        es_src src = es__record_src(p, b, i);
        if (src.partition >= 0)
          snprintf(gen_id, sizeof gen_id, "%s/%d/%llu", src.name, (int)src.partition, (unsigned long long)src.pos);
        else
          snprintf(gen_id, sizeof gen_id, "%s:%llu", src.name, (unsigned long long)src.pos);
      }
      if (triaged) triage(w, b, i, &m, folded, fn, &meta, nh, &s, &lid, gen_id);
      if (p->want_enriched) {
        size_t start = b->enriched.len;
        if (grow_meta(&b->enrm, b->nenr, &b->cap_enr)) {
          es_output_enriched(&b->enriched, &m, gen_id, b->qs, w->qbuf, (size_t)nh, &s, &lid);
          const char *key = m.id.p ? m.id.p : gen_id;
          size_t kn = m.id.p ? m.id.n : strlen(gen_id);
          b->enrm[b->nenr++] = (es_rec_meta){.rec = i, .off = (uint32_t)start, .len = (uint32_t)(b->enriched.len - start),
                                              .key = es_arena_strndup(&b->arena, key, kn), .key_len = (uint32_t)kn};
        }
      }
    }
  }
}

void *es__worker_main(void *arg) {
  es_worker *w = arg;
  es_pipe *p = w->p;
  for (;;) {
    void *v;
    es_ring_pop(&p->to_worker[w->index], &v, -1);
    es_batch *b = v;
    bool eof = b->eof; /* read before the hand-off: after it the batch is not ours */
    if (!eof) {
      atomic_store_explicit(&w->c.busy_since_ms, es_time_mono_ms(), memory_order_relaxed);
      process(w, b);
      atomic_store_explicit(&w->c.busy_since_ms, 0, memory_order_relaxed);
    }
    es_ring_push(&p->from_worker[w->index], b);
    if (eof) return NULL;
  }
}
