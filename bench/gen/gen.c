/* Synthetic mention generator (see gen.h for the contract).
 *
 * Arrival process: a non-homogeneous Poisson process. Background volume
 * follows a daily sine cycle; each incident adds topic-specific volume at
 * (multiplier - 1) times that topic's background rate while it lasts, so the
 * topic's total volume is `multiplier` times its usual level. The next gap is
 * drawn at the combined rate of the current instant, which is accurate while
 * gaps are short compared with the day and the incidents.
 *
 * Text: a mention is assembled from a topic phrase, Zipf-distributed filler
 * words, a sentiment phrase, and optional emoji, hashtag, handle and URL,
 * grown until it reaches a length drawn between 20 and 280 characters.
 * Incident mentions are negative complaints about their topic. */
#include "gen.h"

#include <math.h>
#include <string.h>

#include "earshot/mem.h"
#include "earshot/timeutil.h"

static const char *const filler[] = {
  "the", "i", "to", "and", "a", "my", "is", "it", "of", "for", "this", "in", "just", "that", "on",
  "with", "me", "have", "so", "was", "be", "at", "now", "they", "you", "again", "today", "got",
  "what", "from", "their", "all", "about", "when", "still", "why", "how", "can", "time", "there",
  "one", "week", "after", "month", "day", "anyone", "else", "account", "money", "phone", "online",
  "people", "really", "think", "know", "need", "want", "going", "make", "back", "first", "new",
  "other", "some", "been", "only", "morning", "tonight", "weekend", "yesterday", "here", "thing",
  "someone", "another", "every", "never", "always", "maybe", "ever", "also", "last", "much",
  "year", "over", "around", "ago", "long", "check", "email", "message", "website", "night", "work",
  "home", "trying", "tried", "said", "told", "asked", "called", "wait", "minutes", "hours", "days",
  "transfer", "balance", "statement", "payment", "bill", "savings", "mortgage", "loan", "credit",
  "debit", "atm", "cash", "branch", "manager", "team", "service", "system", "issue", "problem",
  "question", "update", "news", "price", "plan", "offer", "deal", "friend", "family", "city",
  "weather", "coffee", "game", "music", "movie", "football", "lunch", "train", "bus", "traffic",
  "holiday", "school", "office", "meeting", "project", "store", "shop", "market", "bank", "brand",
};

static const char *const topic_phrases[ES_GEN_NTOPICS][8] = {
  [ES_GEN_FEES] = {"card fee", "overdraft fee", "monthly fee", "hidden fees", "charged twice",
                   "late fee", "foreign transaction fee", "fees"},
  [ES_GEN_APP] = {"the app", "app crashed", "login", "app update", "outage", "app is down",
                  "can't log in", "mobile app"},
  [ES_GEN_DELIVERY] = {"card delivery", "delivery", "new card never arrived", "courier",
                       "package", "shipping", "tracking number", "delayed delivery"},
  [ES_GEN_SUPPORT] = {"customer service", "support", "on hold", "the agent", "refund",
                      "no response", "chat support", "call center"},
  [ES_GEN_REWARDS] = {"cashback", "rewards", "points", "bonus", "rewards program", "promo",
                      "interest rate", "referral bonus"},
  [ES_GEN_BRANCH] = {"branch", "the teller", "atm", "queue", "opening hours", "branch closed",
                     "branch staff", "drive-through"},
};

static const char *const topic_names[ES_GEN_NTOPICS] = {"fees", "app", "delivery", "support",
                                                         "rewards", "branch"};
/* Background share of each topic (the rest of the volume is brand chatter). */
static const double topic_share[ES_GEN_NTOPICS] = {0.10, 0.12, 0.06, 0.10, 0.05, 0.04};

static const char *const pos_phrases[] = {
  "love it", "great job", "thanks so much", "really happy", "amazing", "works perfectly",
  "best bank ever", "good experience", "so helpful", "awesome", "very nice", "glad",
  "excellent", "super easy", "finally fixed, thank you", "pretty good"};
static const char *const neg_phrases[] = {
  "terrible", "worst experience", "so annoying", "ridiculous", "awful", "not happy at all",
  "unacceptable", "hate this", "total scam", "really disappointed", "useless", "so frustrated",
  "this is a joke", "never again", "horrible", "angry"};
static const char *const neu_phrases[] = {
  "any update", "is it just me", "how do i", "does anyone know", "quick question",
  "fyi", "as of today", "according to the email", "just wondering", "noted"};
static const char *const pos_emoji[] = {"😍", "👍", "🙏", "😊", "🎉", ":)"};
static const char *const neg_emoji[] = {"😡", "😤", "👎", "😒", "🤬", ":("};
static const char *const hashtags[] = {"#banking", "#fail", "#customerservice", "#fintech",
                                       "#money", "#help", "#acmebank", "#outage"};
static const char *const sources[] = {"twitter", "reddit", "forum.example.com", "reviews",
                                      "facebook", "news"};
static const char *const foreign[][12] = {
  {"es", "el", "banco", "la", "tarjeta", "comisión", "aplicación", "no", "funciona", "otra",
   "vez", "qué"},
  {"de", "die", "Bank", "Karte", "Gebühr", "schon", "wieder", "nicht", "erreichbar", "Kündigung",
   "für", "über"},
  {"fr", "la", "banque", "carte", "frais", "encore", "une", "fois", "appli", "marche", "pas",
   "très"},
};

/* Product and brand names that listening queries target: 2,000 made-up
 * words built from syllables, mentioned with Zipfian popularity. */
#define NPRODUCTS 2000
static const char *const syl[] = {"zor", "vax", "qui", "tel", "mi", "ra", "lon", "dex", "fy", "nu", "pa", "ko",
                                  "ser", "bi", "tan", "gu", "lex", "ve", "dor", "ix"};

static void product_name(uint32_t i, char out[16]) {
  /* Three syllables from the digits of i in base 20: distinct for i < 8000. */
  snprintf(out, 16, "%s%s%s", syl[i % 20], syl[(i / 20) % 20], syl[(i / 400) % 20]);
}

struct es_gen {
  es_gen_opts o;
  uint64_t rng;
  uint64_t produced;
  double t_ms;           /* current event time, fractional */
  double *author_cdf;    /* Zipf CDF over authors */
  double filler_cdf[sizeof filler / sizeof *filler];
  double product_cdf[NPRODUCTS];
};

static uint64_t rnd(es_gen *g) {
  /* splitmix64: tiny state, passes BigCrush, trivially seedable. */
  uint64_t z = (g->rng += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
static double unif(es_gen *g) { return (double)(rnd(g) >> 11) * 0x1.0p-53; }
static uint32_t pick(es_gen *g, uint32_t n) { return (uint32_t)(unif(g) * n); }
#define PICK(g, arr) (arr)[pick(g, sizeof(arr) / sizeof *(arr))]

static uint32_t sample_cdf(const double *cdf, uint32_t n, double u) {
  uint32_t lo = 0, hi = n - 1;
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    if (cdf[mid] < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

static void zipf_cdf(double *cdf, uint32_t n, double s) {
  double sum = 0;
  for (uint32_t i = 0; i < n; i++) sum += cdf[i] = 1.0 / pow(i + 1.0, s);
  double acc = 0;
  for (uint32_t i = 0; i < n; i++) cdf[i] = (acc += cdf[i] / sum);
  cdf[n - 1] = 1.0;
}

void es_gen_opts_default(es_gen_opts *o) {
  memset(o, 0, sizeof *o);
  o->seed = 42;
  o->count = 100000;
  o->start_ms = 1767571200000LL; /* 2026-01-05T00:00:00Z, a Monday */
  o->rate_per_min = 600;
  o->diurnal_amp = 0.5;
  o->non_english = 0.08;
  o->epoch_ts_share = 0.2;
  o->authors = 50000;
  o->author_skew = 1.05;
}

es_gen *es_gen_create(const es_gen_opts *o) {
  es_gen *g = es_calloc(1, sizeof *g);
  if (!g) return NULL;
  g->o = *o;
  if (g->o.authors < 1) g->o.authors = 1;
  g->rng = o->seed;
  g->t_ms = (double)o->start_ms;
  g->author_cdf = es_malloc(sizeof(double) * g->o.authors);
  if (!g->author_cdf) {
    es_free(g);
    return NULL;
  }
  /* Author activity is Zipfian (s = 1.05): a few accounts post a lot. */
  zipf_cdf(g->author_cdf, g->o.authors, g->o.author_skew);
  zipf_cdf(g->filler_cdf, sizeof filler / sizeof *filler, 1.0);
  zipf_cdf(g->product_cdf, NPRODUCTS, 0.9);
  return g;
}

void es_gen_destroy(es_gen *g) {
  if (!g) return;
  es_free(g->author_cdf);
  es_free(g);
}

static double background_rate(const es_gen *g, double t_ms) {
  /* Volume peaks mid-afternoon UTC (15:00) and bottoms out at 03:00. */
  double day = fmod(t_ms / 86400000.0, 1.0);
  return g->o.rate_per_min * (1.0 + g->o.diurnal_amp * sin(2 * M_PI * (day - 0.375)));
}

static const es_gen_incident *incident_at(const es_gen *g, double t_ms) {
  for (int i = 0; i < g->o.n_incidents; i++) {
    const es_gen_incident *in = &g->o.incidents[i];
    if (t_ms >= (double)in->start_ms && t_ms < (double)(in->start_ms + in->dur_ms)) return in;
  }
  return NULL;
}

static void put_word(es_buf *b, const char *w) {
  if (b->len && b->data[b->len - 1] != ' ') es_buf_putc(b, ' ');
  es_buf_puts(b, w);
}

/* Followers are a deterministic function of the author, heavy-tailed:
 * Pareto with shape 1.1 above 20 followers, capped at 50 million. */
static uint64_t followers_of(uint32_t author) {
  uint64_t h = (uint64_t)author * 0x9e3779b97f4a7c15ULL;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 32;
  double u = ((double)(h >> 11) + 1) * 0x1.0p-53;
  double f = 20.0 / pow(u, 1.0 / 1.1);
  return f > 5e7 ? 50000000ULL : (uint64_t)f;
}

int es_gen_next(es_gen *g, es_buf *out, int64_t *ts_out) {
  if (g->produced >= g->o.count) return 1;
  /* Advance time: rates are per minute, times in ms. */
  const es_gen_incident *in = incident_at(g, g->t_ms);
  double bg = background_rate(g, g->t_ms);
  double extra = in ? bg * topic_share[in->topic] * (in->multiplier - 1.0) : 0.0;
  if (extra < 0) extra = 0;
  double total = bg + extra;
  g->t_ms += -log(1.0 - unif(g)) * 60000.0 / total;
  int64_t ts = (int64_t)g->t_ms;
  bool incident = in && unif(g) < extra / total;

  int topic = -1, mood; /* mood: -1 negative, 0 neutral, 1 positive */
  if (incident) {
    topic = in->topic;
    mood = unif(g) < 0.85 ? -1 : 0;
  } else {
    double u = unif(g), acc = 0;
    for (int t = 0; t < ES_GEN_NTOPICS; t++)
      if (u < (acc += topic_share[t])) {
        topic = t;
        break;
      }
    double m = unif(g);
    mood = m < 0.25 ? -1 : m < 0.6 ? 0 : 1;
  }
  uint32_t author = sample_cdf(g->author_cdf, g->o.authors, unif(g));
  size_t target = 20 + pick(g, 261);

  es_buf text;
  es_buf_init(&text);
  const char *lang = "en";
  if (unif(g) < g->o.non_english) {
    const char *const *fw = foreign[pick(g, 3)];
    lang = fw[0];
    put_word(&text, "acmebank");
    while (text.len < target) put_word(&text, fw[1 + pick(g, 11)]);
  } else {
    if (unif(g) < 0.15) put_word(&text, "@acmebank");
    if (unif(g) < 0.5) put_word(&text, "acmebank");
    if (incident && unif(g) < 0.7) {
      /* An incident is about one thing: most of its mentions name it (the
       * phrase depends on the incident's position in the list). */
      put_word(&text, topic_phrases[topic][4 + (in - g->o.incidents) % 4]);
    } else if (topic >= 0) {
      put_word(&text, topic_phrases[topic][pick(g, 8)]);
    }
    if (unif(g) < 0.4) {
      char prod[16];
      product_name(sample_cdf(g->product_cdf, NPRODUCTS, unif(g)), prod);
      put_word(&text, prod);
    }
    const char *mp = mood < 0 ? PICK(g, neg_phrases) : mood > 0 ? PICK(g, pos_phrases) : PICK(g, neu_phrases);
    bool mood_placed = false;
    while (text.len < target) {
      if (!mood_placed && unif(g) < 0.3) {
        put_word(&text, mp);
        mood_placed = true;
        continue;
      }
      put_word(&text, filler[sample_cdf(g->filler_cdf, sizeof filler / sizeof *filler, unif(g))]);
    }
    if (!mood_placed) put_word(&text, mp);
    if (mood != 0 && unif(g) < 0.25) put_word(&text, mood < 0 ? PICK(g, neg_emoji) : PICK(g, pos_emoji));
    if (unif(g) < 0.2) put_word(&text, PICK(g, hashtags));
    if (unif(g) < 0.1) {
      char url[64];
      snprintf(url, sizeof url, "https://t.example/%08x", (unsigned)(rnd(g) >> 32));
      put_word(&text, url);
    }
    if (text.len > 280) { /* cut on a space, never inside a UTF-8 sequence */
      size_t cut = 280;
      while (cut > 20 && text.data[cut] != ' ') cut--;
      text.len = cut;
    }
  }

  char tsbuf[32];
  es_buf_printf(out, "{\"id\":\"m%llu\",", (unsigned long long)g->produced + 1);
  if (unif(g) < g->o.epoch_ts_share) {
    es_buf_printf(out, "\"ts\":%lld,", (long long)ts);
  } else {
    es_time_format_rfc3339(ts, tsbuf);
    es_buf_printf(out, "\"ts\":\"%s\",", tsbuf);
  }
  es_buf_puts(out, "\"text\":");
  es_buf_json_str(out, text.data, text.len);
  es_buf_printf(out, ",\"author\":\"user%u\",\"followers\":%llu,\"lang\":\"%s\",\"source\":\"%s\"}\n",
                author, (unsigned long long)followers_of(author), lang, PICK(g, sources));
  es_buf_free(&text);
  g->produced++;
  if (ts_out) *ts_out = ts;
  return 0;
}

const char *es_gen_topic_name(int topic) {
  return topic >= 0 && topic < ES_GEN_NTOPICS ? topic_names[topic] : "unknown";
}

void es_gen_write_labels(const es_gen_opts *o, FILE *f) {
  fputs("[", f);
  for (int i = 0; i < o->n_incidents; i++) {
    const es_gen_incident *in = &o->incidents[i];
    char a[32], b[32];
    es_time_format_rfc3339(in->start_ms, a);
    es_time_format_rfc3339(in->start_ms + in->dur_ms, b);
    fprintf(f, "%s\n  {\"topic\":\"%s\",\"query\":\"%s\",\"start\":\"%s\",\"end\":\"%s\",\"multiplier\":%g}",
            i ? "," : "", topic_names[in->topic], topic_names[in->topic], a, b, in->multiplier);
  }
  fputs("\n]\n", f);
}

/* One query per topic; the ids are the topic names, so labels name them. */
static const char *const demo_queries[ES_GEN_NTOPICS][2] = {
  [ES_GEN_FEES] = {"Fee complaints", "(fee OR fees OR \\\"charged twice\\\") AND NOT promo"},
  [ES_GEN_APP] = {"App and login problems", "app OR login OR outage OR \\\"log in\\\""},
  [ES_GEN_DELIVERY] = {"Card delivery", "delivery OR courier OR shipping OR \\\"never arrived\\\" OR tracking"},
  [ES_GEN_SUPPORT] = {"Customer support", "\\\"customer service\\\" OR support OR \\\"on hold\\\" OR refund OR agent"},
  [ES_GEN_REWARDS] = {"Rewards and offers", "cashback OR rewards OR points OR bonus OR promo"},
  [ES_GEN_BRANCH] = {"Branches and ATMs", "branch OR teller OR atm OR queue"},
};

void es_gen_write_queries(uint64_t seed, uint32_t n, FILE *f) {
  es_gen g = {.rng = seed};
  zipf_cdf(g.filler_cdf, sizeof filler / sizeof *filler, 1.0);
  const uint32_t nf = sizeof filler / sizeof *filler;
  fputs("# Generated by earshot-gen queries; the first queries match the demo topics.\nqueries:\n", f);
  for (uint32_t i = 0; i < n; i++) {
    if (i < ES_GEN_NTOPICS) {
      fprintf(f, "  - id: %s\n    name: %s\n    query: \"%s\"\n", topic_names[i], demo_queries[i][0],
              demo_queries[i][1]);
      if (i == ES_GEN_FEES) fputs("    alert:\n      negative_at_least: 150\n", f);
      continue;
    }
    /* Analysts name specific things: mostly a product or brand name, often
     * narrowed by a topic word or phrase (anywhere, or near it), a spelling
     * variant, sometimes a plain word pair. */
    char p1[16], p2[16];
    product_name(pick(&g, NPRODUCTS), p1);
    product_name(pick(&g, NPRODUCTS), p2);
    const char *w1 = filler[nf / 3 + pick(&g, nf - nf / 3)];
    const char *w2 = filler[nf / 3 + pick(&g, nf - nf / 3)];
    const char *ph = topic_phrases[pick(&g, ES_GEN_NTOPICS)][pick(&g, 8)];
    char q[256];
    switch (pick(&g, 10)) {
    case 0: snprintf(q, sizeof q, "%s", p1); break;
    case 1: snprintf(q, sizeof q, "%s OR %s", p1, p2); break;
    case 2: snprintf(q, sizeof q, "%s AND (%s OR \\\"%s\\\")", p1, w1, ph); break;
    case 3: snprintf(q, sizeof q, "(%s OR %s) AND NOT promo", p1, p2); break;
    case 4: snprintf(q, sizeof q, "%s %s", p1, w1); break;
    case 5: snprintf(q, sizeof q, "\\\"%s\\\" AND %s", ph, p1); break;
    case 6: snprintf(q, sizeof q, "%s* AND NOT %s", p1, w2); break;
    case 7: snprintf(q, sizeof q, "%s NEAR/3 (%s OR %s)", p1, w1, w2); break;
    case 8: /* a spelling variant: one letter left open */
      p1[2] = '?';
      snprintf(q, sizeof q, "%s OR %s", p1, p2);
      break;
    default: snprintf(q, sizeof q, "acmebank AND %s AND %s", w1, w2); break;
    }
    fprintf(f, "  - id: q%05u\n    name: Generated query %u\n    query: \"%s\"\n", i, i, q);
  }
}
