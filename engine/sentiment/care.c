/* The customer-care rules of the scorer (the care layer's rules file,
 * models/sentiment/en/care_rules.tsv, gives the words their roles): irony
 * that frames a complaint, waiting after a number, complaint openers and
 * requests. Called by vader.c's score() after the published rules have
 * given each sentiment word its valence. Same thread rules as the scorer. */
#include <math.h>
#include <string.h>

#include "lexicon_internal.h"
#include "vader_internal.h"

/* A token's word id for sequences: the tokenizer looks up only the words
 * that may matter, so one that only continues a sequence is looked up here. */
static uint32_t word_id(const es_lang *L, const tok *t) {
  if (t->wi->id || t->kind == TK_HANDLE) return t->wi->id;
  const es_word_info *x = es__word_any_padded(es__lang_words(L), t->lo, t->ln);
  return x ? x->id : 0;
}

/* A number: digits ("3", "45", "2nd" is not), or a number word of the rules. */
static bool is_number(const es_lang *L, const tok *t) {
  if (t->kind != TK_WORD || !t->ln) return false;
  size_t k = 0;
  while (k < t->ln && t->lo[k] >= '0' && t->lo[k] <= '9') k++;
  return k == t->ln || es__lang_number_word(L, t->lo, t->ln);
}

/* The byte right after token t in the text, or 0 at its end. */
static char after(const tok *t, const char *text, size_t n) {
  const char *e = t->p + t->n;
  return e < text + n ? *e : 0;
}

/* The last non-space byte before token t, or 0 at the text's start (or
 * after a handle that opens it). */
static char before(const tok *t, const char *text) {
  for (const char *b = t->p; b > text; b--)
    if (b[-1] != ' ') return b[-1];
  return 0;
}

/* The customer-care rules, with the care layer (its rules file gives the
 * words their roles; see models/sentiment/en/care_rules.tsv):
 *   - waiting: a number followed by a unit of time ("3 hours", "two weeks")
 *     complains of waiting, unless the text opens as a request ("can I
 *     freeze my plan for two months"); its valence is the unit's;
 *   - irony: praise that frames a complaint. A word of the role `irony`
 *     ("thanks", "love", "glad", "appreciate") or a praise word said as an
 *     exclamation ("great, another delay", "... got bumped. fantastic")
 *     reads as the complaint it frames when what it frames is negative:
 *     the rest of its sentence for a frame word, the rest of the text for an
 *     opening exclamation, what came before for a closing one. Its valence
 *     turns negative (half its size).
 *   - a complaint that opens the text (role `opener`: "how hard", "is
 *     anyone", "where is my") counts like a sentiment word;
 *   - a request (a text opening with a word of the role `question`: "how
 *     do I ...", "can I ...") names problems without feeling: not scored.
 * Returns the valence the waiting and the opener add (0 when none); sets
 * rt->val in place. */
double es__care_rules(const es_lang *L, es_sentiment_rt *rt, const tok *w, size_t nt, size_t nscored, size_t ndur,
                      const char *text, size_t n, es_sentiment_trace *tr) {
  size_t first = 0;
  while (first < nt && w[first].kind == TK_HANDLE) first++;
  /* A complaint that opens the text ("how hard is it", "is anyone"): no
   * request, and it counts like a sentiment word. */
  double opened = 0;
  if (first + 1 < nt && (w[first].wi->roles & ES_R_STARTS_OPENER)) {
    uint32_t ids[ES_SEQ_MAX];
    int m = 0;
    while (m < ES_SEQ_MAX && first + (size_t)m < nt && (ids[m] = word_id(L, &w[first + (size_t)m]))) m++;
    for (int k = m; k >= 2 && opened == 0; k--) {
      const es_seq_info *o = es__lang_seq(L, ids, k);
      if (o && (o->kinds & ES_SEQ_OPENER)) {
        opened = o->opener;
        es__sent_note(tr, first, "complaint-opener");
      }
    }
  }
  /* A request is addressed to someone (the text opens with a handle) or
   * asks (has a '?'): "How wonderful this is" exclaims, and so does "what
   * a disaster". */
  bool request = opened == 0 && first < nt && w[first].kind == TK_WORD && es__lang_question(L, w[first].lo, w[first].ln) &&
                 (first > 0 || memchr(text, '?', n)) &&
                 !(first + 1 < nt && w[first + 1].ln <= 2 && w[first + 1].lo[0] == 'a' &&
                   (w[first + 1].ln == 1 || w[first + 1].lo[1] == 'n'));
  double waited = 0;
  size_t waited_at = SIZE_MAX;
  for (size_t d = 0; d < ndur && !request; d++) {
    size_t i = rt->dur[d];
    if (i > first && is_number(L, &w[i - 1]) && w[i].wi->duration < waited) {
      waited = w[i].wi->duration;
      waited_at = i;
    }
  }
  if (waited != 0) es__sent_note(tr, waited_at, "waiting");
  /* A strong word ("Is this the best movie ever?!") makes it no mere
   * request. */
  for (size_t k = 0; k < nscored && request; k++)
    if (fabs(rt->val[k]) >= 3.0) request = false;
  if (request) {
    /* A request ("how do I report a lost card", "is the free upgrade still
     * on?") names problems and offers without feeling about them: its words
     * are not scored. A care phrase that opens with the same word ("how is
     * it", "when will this") is merged into one token, so such a complaint
     * is no request. */
    for (size_t k = 0; k < nscored; k++)
      if (rt->val[k] != 0) {
        rt->val[k] = 0;
        es__sent_note(tr, rt->scored[k], "request");
      }
    return 0;
  }
  /* Per scored word: its position among the tokens. */
  for (size_t k = 0; k < nscored; k++) {
    double v = rt->val[k];
    size_t i = rt->scored[k];
    if (v <= 0) continue;
    bool frame = es__tok_has(&w[i], ES_R_IRONY);
    if (!frame && i != first && i + 2 < nt) continue; /* neither a frame nor where an exclamation is read */
    /* Exclaimed praise is a word ("great", "wonderful"), not an emoticon. */
    bool word = w[i].kind == TK_WORD && ((w[i].lo[0] >= 'a' && w[i].lo[0] <= 'z') || (unsigned char)w[i].lo[0] >= 0x80);
    for (size_t c = 1; word && c < w[i].n && !w[i].upper; c++) word = !(w[i].p[c] >= 'A' && w[i].p[c] <= 'Z'); /* "xD" */
    char a = after(&w[i], text, n), b = before(&w[i], text);
    bool opening = word && i == first && (a == ',' || a == '.' || a == '!');
    /* "great, another delay": a cue right after an exclaimed praise word. */
    bool cued = opening && i + 1 < nt && es__lang_irony_cue(L, w[i + 1].lo, w[i + 1].ln);
    bool closing = word && i + 2 >= nt && i > first && (b == '.' || b == ',' || b == '!');
    if (!frame && !opening && !closing) continue;
    /* What it frames: the valence of the other words in that span. */
    size_t lo, hi;
    if (frame) {
      lo = i + 1;
      hi = i + 1;
      while (hi < nt && after(&w[hi - 1], text, n) != '.' && after(&w[hi - 1], text, n) != '!' &&
             after(&w[hi - 1], text, n) != '?')
        hi++;
    } else if (opening) {
      lo = i + 1;
      hi = nt;
    } else {
      lo = first;
      hi = i;
    }
    double framed = waited_at >= lo && waited_at < hi ? waited : 0;
    for (size_t j = 0; j < nscored; j++) {
      size_t t = rt->scored[j];
      if (j != k && t >= lo && t < hi) framed += rt->val[j];
    }
    if (framed < 0 || cued) {
      rt->val[k] = -0.5 * v;
      es__sent_note(tr, i, "irony");
    }
  }
  return waited + opened;
}

