/* Routes: the triage file (tracks, author lists, routes, crisis overrides,
 * office hours) and the decision for one mention. Loading: main thread,
 * before the pipeline's threads start (office hours read the time zone
 * through libc once, see load_zone). es_triage_pre_eval: any thread;
 * es_triage_decide: the aggregator (its state is single-threaded). */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../core/yaml_internal.h"
#include "earshot/hash.h"
#include "earshot/mem.h"
#include "earshot/output.h"
#include "earshot/timeutil.h"
#include "earshot/triage.h"

#define MAX_LIST 16   /* values in one condition list (queries, situations, lists, langs, sources) */

typedef struct cond {
  char *queries[MAX_LIST];
  int nqueries;
  uint32_t situations, not_situations; /* masks */
  uint8_t labels;                      /* bit per enum es_label; 0 any */
  double cmin, cmax;
  uint32_t lists, not_lists;           /* author list masks */
  int64_t fmin, fmax;                  /* followers */
  char *langs[MAX_LIST], *sources[MAX_LIST];
  int nlangs, nsources;
} cond;

typedef struct route {
  char *name;
  cond when;
  int action;       /* ES_TRIAGE_ROUTE or ES_TRIAGE_IGNORE */
  int32_t track;
  int priority;
  int64_t sla_ms;   /* -1: the track's */
  char *reason;     /* ignore */
} route;

typedef struct crisis {
  char *query;
  char *name;       /* "crisis:QUERY" */
  cond when;
  int32_t track;
  int priority;
  int64_t sla_ms;
} crisis;

typedef struct track {
  char *name;
  int64_t sla_ms;
  int64_t capacity;   /* per hour of event time; 0 unlimited */
  int32_t overflow;   /* -1 none */
  bool keeps_hours;
} track;

/* A zone's UTC offsets: `off[i]` seconds east from `at[i]` (UTC s) on. */
typedef struct zone {
  int64_t *at;
  int32_t *off;
  size_t n;
} zone;

struct es_triage {
  es_situations *sit;
  track tracks[ES_TRIAGE_MAX_TRACKS];
  size_t ntracks;
  route routes[ES_TRIAGE_MAX_ROUTES];
  size_t nroutes;
  crisis crises[ES_TRIAGE_MAX_CRISIS];
  size_t ncrises;
  char *lists[ES_TRIAGE_MAX_LISTS];
  size_t nlists;
  /* handles of every list: open addressing of (lower-case handle, mask) */
  char **handles;
  uint32_t *handle_mask;
  size_t handle_cap, nhandles;
  /* office hours */
  bool has_hours;
  uint8_t open[7][96];  /* per weekday (0 = Monday) and quarter hour: open */
  zone tz;
  char *tz_name;
  int32_t off_hours;    /* track, -1 none */
};

/* ---------------------------------------------------------------- load */

typedef struct ctx {
  es_yaml *y;
  es_triage *t;
  es_diag *d;
  char *dir; /* the file's directory */
} ctx;

#define FOR_PAIRS(node, k, v)                                                                       \
  for (yaml_node_pair_t *p_ = (node)->data.mapping.pairs.start; p_ < (node)->data.mapping.pairs.top; p_++) \
    for (yaml_node_t *k = es__yaml_node(x->y, p_->key), *v = es__yaml_node(x->y, p_->value); k; k = NULL)
#define FOR_ITEMS(node, v)                                                                                    \
  for (yaml_node_item_t *i_ = (node)->data.sequence.items.start; i_ < (node)->data.sequence.items.top; i_++) \
    for (yaml_node_t *v = es__yaml_node(x->y, *i_); v; v = NULL)

static int bad(ctx *x, const yaml_node_t *n, const char *fmt, const char *a, const char *b) {
  char msg[384];
  snprintf(msg, sizeof msg, fmt, a, b);
  return es_diag_set(x->d, ES_ECONFIG, "%s:%d: %s", x->y->path, es__yaml_line(n), msg);
}

static int need(ctx *x, yaml_node_t *n, yaml_node_type_t type, const char *what) {
  if (n->type == type) return 0;
  return bad(x, n, "'%s' must be %s", what,
             type == YAML_MAPPING_NODE ? "a map" : type == YAML_SEQUENCE_NODE ? "a list" : "a value");
}

/* A path relative to the triage file's directory. */
static char *rel_path(ctx *x, const char *p) {
  if (p[0] == '/' || !strncmp(p, "builtin", 7)) return es_strdup(p);
  char *r = es_malloc(strlen(x->dir) + strlen(p) + 2);
  if (r) sprintf(r, "%s/%s", x->dir, p);
  return r;
}

static int track_index(ctx *x, const yaml_node_t *v, const char *name, int32_t *out) {
  for (size_t i = 0; i < x->t->ntracks; i++)
    if (!strcmp(x->t->tracks[i].name, name)) {
      *out = (int32_t)i;
      return 0;
    }
  return bad(x, v, "no track '%s' under 'tracks:'%s", name, "");
}

/* A scalar or a list of scalars into up to MAX_LIST callbacks. */
static int each_value(ctx *x, yaml_node_t *v, const char *key, int (*fn)(ctx *, yaml_node_t *, const char *, void *),
                      void *arg) {
  if (v->type == YAML_SCALAR_NODE) return fn(x, v, es__yaml_scalar(v), arg);
  if (need(x, v, YAML_SEQUENCE_NODE, key)) return ES_ECONFIG;
  int n = 0;
  FOR_ITEMS(v, it) {
    const char *s = es__yaml_scalar(it);
    if (!s) return bad(x, it, "'%s' must be a list of values%s", key, "");
    if (++n > MAX_LIST) return bad(x, it, "'%s': at most 16 values%s", key, "");
    int rc = fn(x, it, s, arg);
    if (rc) return rc;
  }
  return 0;
}

typedef struct strlist {
  char **v;
  int *n;
} strlist;
static int add_str(ctx *x, yaml_node_t *v, const char *s, void *arg) {
  strlist *l = arg;
  if (*l->n >= MAX_LIST) return bad(x, v, "at most 16 values%s%s", "", "");
  if (!(l->v[(*l->n)++] = es_strdup(s))) return es_diag_set(x->d, ES_ENOMEM, "out of memory");
  return 0;
}
static int add_situation(ctx *x, yaml_node_t *v, const char *s, void *arg) {
  int k = es_situation_find(x->t->sit, s, strlen(s));
  if (k < 0) {
    char known[512] = "";
    for (size_t i = 0; i < es_situations_count(x->t->sit); i++) {
      if (i) strncat(known, ", ", sizeof known - strlen(known) - 1);
      strncat(known, es_situation_name(x->t->sit, i), sizeof known - strlen(known) - 1);
    }
    return bad(x, v, "no situation '%s' in the situation rules (known: %s)", s, known);
  }
  *(uint32_t *)arg |= 1u << k;
  return 0;
}
static int add_list(ctx *x, yaml_node_t *v, const char *s, void *arg) {
  for (size_t i = 0; i < x->t->nlists; i++)
    if (!strcmp(x->t->lists[i], s)) {
      *(uint32_t *)arg |= 1u << i;
      return 0;
    }
  return bad(x, v, "no author list '%s' under 'lists:'%s", s, "");
}
static int add_label(ctx *x, yaml_node_t *v, const char *s, void *arg) {
  int l = !strcmp(s, "negative") ? ES_LABEL_NEGATIVE : !strcmp(s, "positive") ? ES_LABEL_POSITIVE
          : !strcmp(s, "neutral") ? ES_LABEL_NEUTRAL : -1;
  if (l < 0) return bad(x, v, "sentiment '%s' must be negative, neutral or positive%s", s, "");
  *(uint8_t *)arg |= (uint8_t)(1u << l);
  return 0;
}

/* "-1..-0.3", ">=1000", "<=0.5", ">1000" or "1000..": a range. */
static int parse_range(ctx *x, yaml_node_t *v, const char *key, double lo_lim, double hi_lim, double *lo, double *hi) {
  const char *s = es__yaml_scalar(v);
  char *end;
  *lo = lo_lim;
  *hi = hi_lim;
  if (!s) goto fail;
  const char *dots = strstr(s, "..");
  if (dots) {
    if (dots > s) { /* strtod alone would read "-1." of "-1..0" */
      char lo_s[64];
      if ((size_t)(dots - s) >= sizeof lo_s) goto fail;
      memcpy(lo_s, s, (size_t)(dots - s));
      lo_s[dots - s] = 0;
      *lo = strtod(lo_s, &end);
      if (*end || end == lo_s) goto fail;
    }
    if (dots[2]) {
      *hi = strtod(dots + 2, &end);
      if (*end) goto fail;
    }
  } else if (s[0] == '>' || s[0] == '<') {
    bool eq = s[1] == '=';
    double val = strtod(s + 1 + eq, &end);
    if (*end || end == s + 1 + eq) goto fail;
    if (s[0] == '>') *lo = val;
    else *hi = val;
  } else goto fail;
  if (*lo < lo_lim || *hi > hi_lim || *lo > *hi) goto fail;
  return 0;
fail:
  return bad(x, v, "'%s' must be a range such as -1..-0.3, >=1000 or <=0.5 (within the possible values)%s", key, "");
}

static int load_cond(ctx *x, yaml_node_t *m, cond *c) {
  static const char *const keys[] = {"query", "situation", "not_situation", "sentiment", "compound", "author_in",
                                     "author_not_in", "followers", "lang", "source", NULL};
  c->cmin = -1;
  c->cmax = 1;
  c->fmin = 0;
  c->fmax = INT64_MAX;
  if (need(x, m, YAML_MAPPING_NODE, "when")) return ES_ECONFIG;
  FOR_PAIRS(m, k, v) {
    const char *ks = es__yaml_scalar(k);
    int rc;
    if (!ks) rc = es__yaml_unknown_key(x->y, k, "when", keys, x->d);
    else if (!strcmp(ks, "query")) rc = each_value(x, v, ks, add_str, &(strlist){c->queries, &c->nqueries});
    else if (!strcmp(ks, "situation")) rc = each_value(x, v, ks, add_situation, &c->situations);
    else if (!strcmp(ks, "not_situation")) rc = each_value(x, v, ks, add_situation, &c->not_situations);
    else if (!strcmp(ks, "sentiment")) rc = each_value(x, v, ks, add_label, &c->labels);
    else if (!strcmp(ks, "compound")) rc = parse_range(x, v, ks, -1, 1, &c->cmin, &c->cmax);
    else if (!strcmp(ks, "author_in")) rc = each_value(x, v, ks, add_list, &c->lists);
    else if (!strcmp(ks, "author_not_in")) rc = each_value(x, v, ks, add_list, &c->not_lists);
    else if (!strcmp(ks, "lang")) rc = each_value(x, v, ks, add_str, &(strlist){c->langs, &c->nlangs});
    else if (!strcmp(ks, "source")) rc = each_value(x, v, ks, add_str, &(strlist){c->sources, &c->nsources});
    else if (!strcmp(ks, "followers")) {
      double lo, hi;
      rc = parse_range(x, v, ks, 0, 9e18, &lo, &hi);
      c->fmin = (int64_t)lo;
      c->fmax = hi >= 9e18 ? INT64_MAX : (int64_t)hi;
    } else rc = es__yaml_unknown_key(x->y, k, "when", keys, x->d);
    if (rc) return ES_ECONFIG;
  }
  return 0;
}

static int load_sla(ctx *x, yaml_node_t *v, const char *key, int64_t *ms) {
  if (es__yaml_duration(x->y, v, key, ms, x->d)) return ES_ECONFIG;
  if (*ms <= 0) return bad(x, v, "'%s' must be a positive duration such as 15m, 1h or 2d%s", key, "");
  return 0;
}

static int load_tracks(ctx *x, yaml_node_t *m) {
  static const char *const keys[] = {"sla", "capacity", "overflow", "hours", NULL};
  if (need(x, m, YAML_MAPPING_NODE, "tracks")) return ES_ECONFIG;
  /* names first: overflow may name a later track */
  FOR_PAIRS(m, k, v) {
    const char *ks = es__yaml_scalar(k);
    (void)v;
    if (!ks || !*ks || strlen(ks) > 63) return bad(x, k, "a track name is 1-63 characters%s%s", "", "");
    for (size_t i = 0; i < x->t->ntracks; i++)
      if (!strcmp(x->t->tracks[i].name, ks)) return bad(x, k, "track '%s' is defined twice%s", ks, "");
    if (x->t->ntracks == ES_TRIAGE_MAX_TRACKS) return bad(x, k, "at most 32 tracks%s%s", "", "");
    track *tr = &x->t->tracks[x->t->ntracks++];
    tr->overflow = -1;
    tr->keeps_hours = true;
    if (!(tr->name = es_strdup(ks))) return es_diag_set(x->d, ES_ENOMEM, "out of memory");
  }
  size_t i = 0;
  FOR_PAIRS(m, k, v) {
    track *tr = &x->t->tracks[i++];
    if (need(x, v, YAML_MAPPING_NODE, tr->name)) return ES_ECONFIG;
    FOR_PAIRS(v, k2, v2) {
      const char *ks = es__yaml_scalar(k2);
      int rc;
      if (!ks) rc = es__yaml_unknown_key(x->y, k2, "a track", keys, x->d);
      else if (!strcmp(ks, "sla")) rc = load_sla(x, v2, ks, &tr->sla_ms);
      else if (!strcmp(ks, "capacity")) rc = es__yaml_int(x->y, v2, "capacity (mentions per hour)", 1, INT32_MAX,
                                                          &tr->capacity, x->d);
      else if (!strcmp(ks, "hours")) rc = es__yaml_bool(x->y, v2, ks, &tr->keeps_hours, x->d);
      else if (!strcmp(ks, "overflow")) {
        const char *s = es__yaml_scalar(v2);
        rc = s ? track_index(x, v2, s, &tr->overflow) : bad(x, v2, "'overflow' names a track%s%s", "", "");
        if (!rc && tr->overflow == (int32_t)(i - 1)) rc = bad(x, v2, "track '%s' cannot overflow into itself%s", s, "");
      } else rc = es__yaml_unknown_key(x->y, k2, "a track", keys, x->d);
      if (rc) return ES_ECONFIG;
    }
    if (!tr->sla_ms) return bad(x, k, "track '%s' needs an 'sla' (how soon its mentions must be answered: 1h)%s",
                                tr->name, "");
    (void)k;
  }
  for (size_t j = 0; j < x->t->ntracks; j++)
    if (x->t->tracks[j].overflow >= 0 && x->t->tracks[j].capacity == 0)
      return es_diag_set(x->d, ES_ECONFIG, "%s: track '%s' has an overflow track but no 'capacity' (per hour)",
                         x->y->path, x->t->tracks[j].name);
  return 0;
}

static int add_handle(es_triage *t, const char *h, size_t n, uint32_t bit) {
  if (t->nhandles * 2 >= t->handle_cap) {
    size_t cap = t->handle_cap ? t->handle_cap * 2 : 256;
    char **hs = es_calloc(cap, sizeof *hs);
    uint32_t *ms = es_calloc(cap, sizeof *ms);
    if (!hs || !ms) {
      es_free(hs);
      es_free(ms);
      return ES_ENOMEM;
    }
    for (size_t i = 0; i < t->handle_cap; i++) {
      if (!t->handles[i]) continue;
      size_t k = es_hash_bytes(t->handles[i], strlen(t->handles[i])) & (cap - 1);
      while (hs[k]) k = (k + 1) & (cap - 1);
      hs[k] = t->handles[i];
      ms[k] = t->handle_mask[i];
    }
    es_free(t->handles);
    es_free(t->handle_mask);
    t->handles = hs;
    t->handle_mask = ms;
    t->handle_cap = cap;
  }
  size_t k = es_hash_bytes(h, n) & (t->handle_cap - 1);
  for (; t->handles[k]; k = (k + 1) & (t->handle_cap - 1))
    if (strlen(t->handles[k]) == n && !memcmp(t->handles[k], h, n)) {
      t->handle_mask[k] |= bit;
      return 0;
    }
  if (!(t->handles[k] = es_strndup(h, n))) return ES_ENOMEM;
  t->handle_mask[k] = bit;
  t->nhandles++;
  return 0;
}

/* A handle as compared: without a leading @, ASCII lower case. */
static size_t norm_handle(const char *s, size_t n, char *out, size_t cap) {
  while (n && (*s == ' ' || *s == '\t')) s++, n--;
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) n--;
  if (n && *s == '@') s++, n--;
  if (n >= cap) n = cap - 1;
  for (size_t i = 0; i < n; i++) out[i] = (char)tolower((unsigned char)s[i]);
  return n;
}

static int load_lists(ctx *x, yaml_node_t *m) {
  if (need(x, m, YAML_MAPPING_NODE, "lists")) return ES_ECONFIG;
  FOR_PAIRS(m, k, v) {
    const char *name = es__yaml_scalar(k), *file = es__yaml_scalar(v);
    if (!name || !file) return bad(x, k, "'lists' maps a list name to a file of handles (vip: lists/vip.txt)%s%s", "", "");
    if (x->t->nlists == ES_TRIAGE_MAX_LISTS) return bad(x, k, "at most 32 author lists%s%s", "", "");
    uint32_t bit = 1u << x->t->nlists;
    if (!(x->t->lists[x->t->nlists++] = es_strdup(name))) return es_diag_set(x->d, ES_ENOMEM, "out of memory");
    char *path = rel_path(x, file);
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) {
      int rc = es_diag_set(x->d, ES_ECONFIG, "%s:%d: author list '%s': cannot open %s: %s", x->y->path,
                           es__yaml_line(v), name, path ? path : file, strerror(errno));
      es_free(path);
      return rc;
    }
    char line[1024], h[256];
    int rc = 0;
    while (!rc && fgets(line, sizeof line, f)) {
      size_t n = strcspn(line, "#\n");
      n = norm_handle(line, n, h, sizeof h);
      if (n) rc = add_handle(x->t, h, n, bit);
    }
    fclose(f);
    es_free(path);
    if (rc) return es_diag_set(x->d, ES_ENOMEM, "out of memory");
  }
  return 0;
}

/* The action keys of a route or crisis override. */
static int load_action(ctx *x, yaml_node_t *k, yaml_node_t *v, const char *ks, int32_t *trk, int *prio, int64_t *sla) {
  if (!strcmp(ks, "track")) {
    const char *s = es__yaml_scalar(v);
    return s ? track_index(x, v, s, trk) : bad(x, v, "'track' names a track%s%s", "", "");
  }
  if (!strcmp(ks, "priority")) {
    int64_t p;
    if (es__yaml_int(x->y, v, "priority (1 most urgent .. 5)", 1, 5, &p, x->d)) return ES_ECONFIG;
    *prio = (int)p;
    return 0;
  }
  if (!strcmp(ks, "sla")) return load_sla(x, v, ks, sla);
  (void)k;
  return 1; /* not an action key */
}

static int load_routes(ctx *x, yaml_node_t *s) {
  static const char *const keys[] = {"name", "when", "track", "priority", "sla", "ignore", NULL};
  if (need(x, s, YAML_SEQUENCE_NODE, "routes")) return ES_ECONFIG;
  FOR_ITEMS(s, m) {
    if (need(x, m, YAML_MAPPING_NODE, "a route")) return ES_ECONFIG;
    if (x->t->nroutes == ES_TRIAGE_MAX_ROUTES) return bad(x, m, "at most 64 routes%s%s", "", "");
    route *r = &x->t->routes[x->t->nroutes++];
    r->track = -1;
    r->priority = 3;
    r->sla_ms = -1;
    r->when.cmin = -1, r->when.cmax = 1, r->when.fmax = INT64_MAX;
    FOR_PAIRS(m, k, v) {
      const char *ks = es__yaml_scalar(k);
      int rc;
      if (!ks) rc = es__yaml_unknown_key(x->y, k, "a route", keys, x->d);
      else if (!strcmp(ks, "name")) {
        const char *n = es__yaml_scalar(v);
        rc = n && *n ? ((r->name = es_strdup(n)) ? 0 : ES_ENOMEM) : bad(x, v, "'name' must be a word%s%s", "", "");
      } else if (!strcmp(ks, "when")) rc = load_cond(x, v, &r->when);
      else if (!strcmp(ks, "ignore")) {
        const char *n = es__yaml_scalar(v);
        r->action = ES_TRIAGE_IGNORE;
        rc = n && *n ? ((r->reason = es_strdup(n)) ? 0 : ES_ENOMEM)
                     : bad(x, v, "'ignore' gives the reason not to respond (\"spam\")%s%s", "", "");
      } else if ((rc = load_action(x, k, v, ks, &r->track, &r->priority, &r->sla_ms)) == 1)
        rc = es__yaml_unknown_key(x->y, k, "a route", keys, x->d);
      if (rc) return rc == ES_ENOMEM ? es_diag_set(x->d, ES_ENOMEM, "out of memory") : ES_ECONFIG;
    }
    char auto_name[32];
    snprintf(auto_name, sizeof auto_name, "route%zu", x->t->nroutes);
    if (!r->name && !(r->name = es_strdup(auto_name))) return es_diag_set(x->d, ES_ENOMEM, "out of memory");
    if (r->action == ES_TRIAGE_IGNORE && r->track >= 0)
      return bad(x, m, "route '%s' has both 'ignore' and 'track': one action per route%s", r->name, "");
    if (r->action != ES_TRIAGE_IGNORE) {
      if (r->track < 0) return bad(x, m, "route '%s' needs a 'track' (or 'ignore: REASON')%s", r->name, "");
      r->action = ES_TRIAGE_ROUTE;
    }
  }
  return 0;
}

static int load_crisis(ctx *x, yaml_node_t *s) {
  static const char *const keys[] = {"query", "when", "track", "priority", "sla", NULL};
  if (need(x, s, YAML_SEQUENCE_NODE, "crisis")) return ES_ECONFIG;
  FOR_ITEMS(s, m) {
    if (need(x, m, YAML_MAPPING_NODE, "a crisis override")) return ES_ECONFIG;
    if (x->t->ncrises == ES_TRIAGE_MAX_CRISIS) return bad(x, m, "at most 32 crisis overrides%s%s", "", "");
    crisis *c = &x->t->crises[x->t->ncrises++];
    c->track = -1;
    c->priority = 1;
    c->sla_ms = -1;
    c->when.cmin = -1, c->when.cmax = 1, c->when.fmax = INT64_MAX;
    FOR_PAIRS(m, k, v) {
      const char *ks = es__yaml_scalar(k);
      int rc;
      if (!ks) rc = es__yaml_unknown_key(x->y, k, "a crisis override", keys, x->d);
      else if (!strcmp(ks, "query")) {
        const char *n = es__yaml_scalar(v);
        rc = n && *n ? ((c->query = es_strdup(n)) ? 0 : ES_ENOMEM)
                     : bad(x, v, "'query' is the id of the query whose open alert starts the crisis%s%s", "", "");
      } else if (!strcmp(ks, "when")) rc = load_cond(x, v, &c->when);
      else if ((rc = load_action(x, k, v, ks, &c->track, &c->priority, &c->sla_ms)) == 1)
        rc = es__yaml_unknown_key(x->y, k, "a crisis override", keys, x->d);
      if (rc) return rc == ES_ENOMEM ? es_diag_set(x->d, ES_ENOMEM, "out of memory") : ES_ECONFIG;
    }
    if (!c->query || c->track < 0)
      return bad(x, m, "a crisis override needs a 'query' (whose open alert starts it) and a 'track'%s%s", "", "");
    char name[160];
    snprintf(name, sizeof name, "crisis:%s", c->query);
    if (!(c->name = es_strdup(name))) return es_diag_set(x->d, ES_ENOMEM, "out of memory");
  }
  return 0;
}

/* ---- office hours ---- */

static const char *const day_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static int day_of(const char *s, size_t n) {
  for (int i = 0; i < 7; i++)
    if (n == 3 && !strncmp(s, day_names[i], 3)) return i;
  return -1;
}

/* "HH:MM" into quarter hours (0..96); false when not on a quarter hour. */
static bool quarter(const char *s, int *q) {
  int h, m;
  char tail;
  if (sscanf(s, "%d:%d%c", &h, &m, &tail) < 2 || h < 0 || h > 24 || m < 0 || m > 59 || m % 15 || (h == 24 && m))
    return false;
  *q = h * 4 + m / 15;
  return true;
}

/* "mon-fri" or "sat" or "mon,wed": the weekdays (bit 0 Monday). */
static bool days(const char *s, unsigned *mask) {
  *mask = 0;
  char buf[64];
  snprintf(buf, sizeof buf, "%s", s);
  for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    char *dash = strchr(t, '-');
    int a = day_of(t, dash ? (size_t)(dash - t) : strlen(t)), b = dash ? day_of(dash + 1, strlen(dash + 1)) : a;
    if (a < 0 || b < 0) return false;
    for (int d = a;; d = (d + 1) % 7) {
      *mask |= 1u << d;
      if (d == b) break;
    }
  }
  return *mask != 0;
}

/* The zone's offsets, from libc (tzdata) with TZ set for the moment: the
 * offset each day from 1970 to 2100, and the minute of each change. Main
 * thread, before other threads start. "UTC" and "+HH:MM" need no data. */
static int load_zone(ctx *x, yaml_node_t *v, const char *name) {
  zone *z = &x->t->tz;
  int sign = name[0] == '-' ? -1 : 1, hh, mm;
  char tail;
  if (!strcmp(name, "UTC") || !strcmp(name, "Z")) hh = mm = 0, sign = 1;
  else if ((name[0] == '+' || name[0] == '-') && sscanf(name + 1, "%d:%d%c", &hh, &mm, &tail) == 2 && hh <= 14 && mm < 60)
    ;
  else {
    const char *dir = getenv("TZDIR") ? getenv("TZDIR") : "/usr/share/zoneinfo";
    char path[512];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (strstr(name, "..") || stat(path, &sb) || !S_ISREG(sb.st_mode))
      return bad(x, v, "time zone '%s' is unknown (an IANA name such as Europe/London, found in %s; or UTC, or +HH:MM)",
                 name, dir);
    char *old = getenv("TZ") ? es_strdup(getenv("TZ")) : NULL;
    setenv("TZ", name, 1);
    tzset();
    size_t cap = 512;
    z->at = es_malloc(cap * sizeof *z->at);
    z->off = es_malloc(cap * sizeof *z->off);
    int rc = z->at && z->off ? 0 : ES_ENOMEM;
    int32_t prev = INT32_MIN;
    for (int64_t day = 0; !rc && day < 47482; day++) { /* 1970 .. 2100 */
      time_t t = (time_t)(day * 86400);
      struct tm tm;
      localtime_r(&t, &tm);
      int32_t off = (int32_t)tm.tm_gmtoff;
      if (off == prev) continue;
      int64_t at = day * 86400;
      if (prev != INT32_MIN) { /* the change happened within the previous day: find its minute */
        int64_t lo = at - 86400, hi = at;
        while (hi - lo > 60) {
          int64_t mid = lo + (hi - lo) / 2;
          time_t tm2 = (time_t)mid;
          struct tm r;
          localtime_r(&tm2, &r);
          if ((int32_t)r.tm_gmtoff == prev) lo = mid;
          else hi = mid;
        }
        at = hi / 60 * 60;
      } else at = INT64_MIN;
      if (z->n == cap) {
        cap *= 2;
        int64_t *a = es_realloc(z->at, cap * sizeof *a);
        if (a) z->at = a;
        int32_t *o = a ? es_realloc(z->off, cap * sizeof *o) : NULL;
        if (o) z->off = o;
        if (!a || !o) {
          rc = ES_ENOMEM;
          break;
        }
      }
      z->at[z->n] = at;
      z->off[z->n++] = off;
      prev = off;
    }
    if (old) setenv("TZ", old, 1);
    else unsetenv("TZ");
    tzset();
    es_free(old);
    if (rc) return es_diag_set(x->d, ES_ENOMEM, "out of memory");
    return (x->t->tz_name = es_strdup(name)) ? 0 : es_diag_set(x->d, ES_ENOMEM, "out of memory");
  }
  z->at = es_malloc(sizeof *z->at);
  z->off = es_malloc(sizeof *z->off);
  if (!z->at || !z->off) return es_diag_set(x->d, ES_ENOMEM, "out of memory");
  z->at[0] = INT64_MIN;
  z->off[0] = sign * (hh * 3600 + mm * 60);
  z->n = 1;
  return (x->t->tz_name = es_strdup(name)) ? 0 : es_diag_set(x->d, ES_ENOMEM, "out of memory");
}

static int load_hours(ctx *x, yaml_node_t *m) {
  static const char *const keys[] = {"timezone", "open", "off_hours", NULL};
  if (need(x, m, YAML_MAPPING_NODE, "hours")) return ES_ECONFIG;
  x->t->has_hours = true;
  bool have_open = false;
  FOR_PAIRS(m, k, v) {
    const char *ks = es__yaml_scalar(k);
    int rc = 0;
    if (!ks) rc = es__yaml_unknown_key(x->y, k, "hours", keys, x->d);
    else if (!strcmp(ks, "timezone")) {
      const char *s = es__yaml_scalar(v);
      rc = s ? load_zone(x, v, s) : bad(x, v, "'timezone' is a name such as Europe/London%s%s", "", "");
    } else if (!strcmp(ks, "off_hours")) {
      const char *s = es__yaml_scalar(v);
      rc = s ? track_index(x, v, s, &x->t->off_hours) : bad(x, v, "'off_hours' names a track%s%s", "", "");
    } else if (!strcmp(ks, "open")) {
      if (need(x, v, YAML_MAPPING_NODE, "open")) return ES_ECONFIG;
      have_open = true;
      FOR_PAIRS(v, k2, v2) {
        const char *ds = es__yaml_scalar(k2), *span = es__yaml_scalar(v2);
        unsigned mask;
        if (!ds || !days(ds, &mask))
          return bad(x, k2, "'%s' is not a set of weekdays (mon-fri, sat, mon,wed)%s", ds ? ds : "", "");
        /* "08:00-20:00" or "08:00-12:00,13:00-17:00" or "closed" */
        char buf[128];
        snprintf(buf, sizeof buf, "%s", span ? span : "");
        if (!strcmp(buf, "closed")) continue;
        bool ok = span != NULL;
        for (char *save, *t = strtok_r(buf, ",", &save); ok && t; t = strtok_r(NULL, ",", &save)) {
          char *dash = strchr(t, '-');
          int a, b;
          ok = dash && (*dash = 0, quarter(t, &a)) && quarter(dash + 1, &b) && a < b;
          for (int d = 0; ok && d < 7; d++)
            if (mask >> d & 1)
              for (int q = a; q < b; q++) x->t->open[d][q] = 1;
        }
        if (!ok) return bad(x, v2, "'%s' must be HH:MM-HH:MM on quarter hours (or several, comma-separated, or closed)%s",
                            span ? span : "", "");
      }
    } else rc = es__yaml_unknown_key(x->y, k, "hours", keys, x->d);
    if (rc) return ES_ECONFIG;
  }
  if (!x->t->tz_name) return bad(x, m, "'hours' needs a 'timezone' (Europe/London, UTC, +01:00)%s%s", "", "");
  if (!have_open) return bad(x, m, "'hours' needs 'open' (mon-fri: 08:00-20:00)%s%s", "", "");
  if (x->t->off_hours < 0) return bad(x, m, "'hours' needs an 'off_hours' track%s%s", "", "");
  return 0;
}

es_triage *es_triage_load(const char *path, int *err, es_diag *d) {
  static const char *const keys[] = {"situations", "lists", "tracks", "routes", "crisis", "hours", NULL};
  es_yaml y;
  es_triage *t = NULL;
  char *pcopy = es_strdup(path);
  int rc = pcopy ? es__yaml_load(&y, path, d) : es_diag_set(d, ES_ENOMEM, "out of memory");
  if (rc) goto done;
  t = es_calloc(1, sizeof *t);
  if (!t) {
    rc = es_diag_set(d, ES_ENOMEM, "out of memory");
    goto done;
  }
  t->off_hours = -1;
  ctx cx = {&y, t, d, dirname(pcopy)}, *x = &cx;
  yaml_node_t *root = es__yaml_root(&y);
  if (root->type != YAML_MAPPING_NODE) {
    rc = es_diag_set(d, ES_ECONFIG, "%s: a triage file is a map (situations:, lists:, tracks:, routes: ...)", path);
    goto done;
  }
  /* In dependency order whatever the file's order: situations and lists,
   * tracks, then what names them. */
  static const char *const order[] = {"situations", "lists", "tracks", "hours", "routes", "crisis"};
  FOR_PAIRS(root, k, v) {
    const char *ks = es__yaml_scalar(k);
    bool known = false;
    for (int i = 0; ks && i < 6; i++) known |= !strcmp(ks, keys[i]);
    if (!known) {
      rc = es__yaml_unknown_key(&y, k, "the triage file", keys, d);
      goto done;
    }
    (void)v;
  }
  for (int step = 0; step < 6 && !rc; step++) {
    yaml_node_t *val = NULL;
    FOR_PAIRS(root, k, v)
    if (!strcmp(es__yaml_scalar(k), order[step])) val = v;
    if (step == 0) {
      const char *paths[16];
      char *owned[16];
      size_t n = 0;
      if (!val) paths[n++] = "builtin:en";
      else if (val->type == YAML_SCALAR_NODE) {
        owned[0] = rel_path(x, es__yaml_scalar(val));
        paths[n++] = owned[0];
      } else if (val->type == YAML_SEQUENCE_NODE) {
        FOR_ITEMS(val, it) {
          const char *s = es__yaml_scalar(it);
          if (!s || n == 16) {
            rc = bad(x, it, "'situations' is a list of at most 16 rule files or directories (builtin:en: the shipped "
                     "ones)%s%s", "", "");
            break;
          }
          owned[n] = rel_path(x, s);
          paths[n] = owned[n];
          n++;
        }
      } else rc = bad(x, val, "'situations' is a list of rule files or directories%s%s", "", "");
      bool oom = false;
      for (size_t i = 0; i < n; i++) oom |= !paths[i];
      if (!rc && oom) rc = es_diag_set(d, ES_ENOMEM, "out of memory");
      int e = 0;
      if (!rc && !(t->sit = es_situations_load(paths, n, &e, d))) rc = e;
      for (size_t i = 0; val && val->type != YAML_MAPPING_NODE && i < n; i++) es_free(owned[i]);
      continue;
    }
    if (!val) continue;
    if (step == 1) rc = load_lists(x, val);
    else if (step == 2) rc = load_tracks(x, val);
    else if (step == 3) rc = load_hours(x, val);
    else if (step == 4) rc = load_routes(x, val);
    else rc = load_crisis(x, val);
  }
  if (!rc && !t->nroutes && !t->ncrises)
    rc = es_diag_set(d, ES_ECONFIG, "%s: no 'routes': a triage file routes mentions to tracks (see the README, Triage)",
                     path);
done:
  if (pcopy) es__yaml_free(&y);
  es_free(pcopy);
  if (rc) {
    es_triage_destroy(t);
    t = NULL;
  }
  *err = rc;
  return t;
}

static void cond_free(cond *c) {
  for (int i = 0; i < c->nqueries; i++) es_free(c->queries[i]);
  for (int i = 0; i < c->nlangs; i++) es_free(c->langs[i]);
  for (int i = 0; i < c->nsources; i++) es_free(c->sources[i]);
}

void es_triage_destroy(es_triage *t) {
  if (!t) return;
  es_situations_destroy(t->sit);
  for (size_t i = 0; i < t->ntracks; i++) es_free(t->tracks[i].name);
  for (size_t i = 0; i < t->nroutes; i++) {
    es_free(t->routes[i].name);
    es_free(t->routes[i].reason);
    cond_free(&t->routes[i].when);
  }
  for (size_t i = 0; i < t->ncrises; i++) {
    es_free(t->crises[i].query);
    es_free(t->crises[i].name);
    cond_free(&t->crises[i].when);
  }
  for (size_t i = 0; i < t->nlists; i++) es_free(t->lists[i]);
  for (size_t i = 0; i < t->handle_cap; i++) es_free(t->handles[i]);
  es_free(t->handles);
  es_free(t->handle_mask);
  es_free(t->tz.at);
  es_free(t->tz.off);
  es_free(t->tz_name);
  es_free(t);
}

const es_situations *es_triage_situations(const es_triage *t) { return t->sit; }
size_t es_triage_track_count(const es_triage *t) { return t->ntracks; }
const char *es_triage_track_name(const es_triage *t, size_t i) { return t->tracks[i].name; }
size_t es_triage_crisis_count(const es_triage *t) { return t->ncrises; }

/* ------------------------------------------------------------ decide */

struct es_triage_bound {
  const es_triage *t;
  const es_queryset *qs;
  uint64_t *route_q;  /* per query: routes whose query list has it */
  uint32_t *crisis_q; /* per query: crisis overrides of it */
  uint64_t noq;       /* routes without a query condition */
  int64_t crisis_query[ES_TRIAGE_MAX_CRISIS];
};

es_triage_bound *es_triage_bind(const es_triage *t, const es_queryset *qs) {
  es_triage_bound *b = es_calloc(1, sizeof *b);
  size_t nq = es_queryset_count(qs);
  if (!b) return NULL;
  b->route_q = es_calloc(nq ? nq : 1, sizeof *b->route_q);
  b->crisis_q = es_calloc(nq ? nq : 1, sizeof *b->crisis_q);
  if (!b->route_q || !b->crisis_q) {
    es_triage_unbind(b);
    return NULL;
  }
  b->t = t;
  b->qs = qs;
  for (size_t r = 0; r < t->nroutes; r++) {
    const cond *c = &t->routes[r].when;
    if (!c->nqueries) b->noq |= 1ull << r;
    for (int i = 0; i < c->nqueries; i++) {
      int64_t q = es_queryset_find(qs, c->queries[i], strlen(c->queries[i]));
      if (q >= 0) b->route_q[q] |= 1ull << r;
    }
  }
  for (size_t k = 0; k < t->ncrises; k++) {
    int64_t q = es_queryset_find(qs, t->crises[k].query, strlen(t->crises[k].query));
    b->crisis_query[k] = q;
    if (q >= 0) b->crisis_q[q] |= 1u << k;
  }
  return b;
}

void es_triage_unbind(es_triage_bound *b) {
  if (!b) return;
  es_free(b->route_q);
  es_free(b->crisis_q);
  es_free(b);
}

int64_t es_triage_bound_crisis_query(const es_triage_bound *b, size_t k) { return b->crisis_query[k]; }

uint32_t es_triage_author_lists(const es_triage *t, const char *a, size_t n) {
  if (!n || !t->nhandles) return 0;
  char h[256];
  n = norm_handle(a, n, h, sizeof h);
  for (size_t k = es_hash_bytes(h, n) & (t->handle_cap - 1); t->handles[k]; k = (k + 1) & (t->handle_cap - 1))
    if (strlen(t->handles[k]) == n && !memcmp(t->handles[k], h, n)) return t->handle_mask[k];
  return 0;
}

static bool str_in(char *const *list, int n, const char *s, size_t sn) {
  for (int i = 0; i < n; i++)
    if (strlen(list[i]) == sn && !strncasecmp(list[i], s, sn)) return true;
  return false;
}

/* Whether the condition holds, queries aside (checked through the bound masks). */
static bool cond_holds(const cond *c, const es_triage_in *in, uint32_t lists) {
  if (c->situations && !(c->situations & in->situations)) return false;
  if (c->not_situations & in->situations) return false;
  if (c->labels && (in->label < 0 || in->label > ES_LABEL_NEGATIVE || !(c->labels >> in->label & 1))) return false;
  if (in->compound < c->cmin || in->compound > c->cmax) return false;
  if (c->lists && !(c->lists & lists)) return false;
  if (c->not_lists & lists) return false;
  if ((int64_t)in->followers < c->fmin || (in->followers > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)in->followers) > c->fmax)
    return false;
  if (c->nlangs && !str_in(c->langs, c->nlangs, in->lang ? in->lang : "und", in->lang ? in->lang_n : 3)) return false;
  if (c->nsources && !str_in(c->sources, c->nsources, in->source ? in->source : "unknown", in->source ? in->source_n : 7))
    return false;
  return true;
}

void es_triage_pre_eval(const es_triage *t, const es_triage_bound *b, const es_triage_in *in, es_triage_pre *out) {
  uint64_t rmask = b->noq;
  uint32_t cmask = 0;
  for (size_t i = 0; i < in->nqueries; i++) {
    rmask |= b->route_q[in->queries[i]];
    cmask |= b->crisis_q[in->queries[i]];
  }
  uint32_t lists = es_triage_author_lists(t, in->author, in->author_n);
  out->route = -1;
  for (size_t r = 0; r < t->nroutes; r++)
    if ((rmask >> r & 1) && cond_holds(&t->routes[r].when, in, lists)) {
      out->route = (int32_t)r;
      break;
    }
  out->crisis = 0;
  for (size_t k = 0; k < t->ncrises; k++)
    if ((cmask >> k & 1) && cond_holds(&t->crises[k].when, in, lists)) out->crisis |= 1u << k;
}

/* The zone's offset (seconds east) at UTC ms. */
static int32_t zone_offset(const zone *z, int64_t ms) {
  int64_t s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  size_t lo = 0, hi = z->n;
  while (hi - lo > 1) {
    size_t mid = (lo + hi) / 2;
    if (z->at[mid] <= s) lo = mid;
    else hi = mid;
  }
  return z->n ? z->off[lo] : 0;
}

bool es_triage_in_hours(const es_triage *t, int64_t ts_ms) {
  if (!t->has_hours) return true;
  int64_t local = ts_ms / 1000 + zone_offset(&t->tz, ts_ms);
  int64_t day = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
  int64_t sec = local - day * 86400;
  int wd = (int)(((day % 7) + 7 + 3) % 7); /* 1970-01-01 was a Thursday (3 with Monday 0) */
  return t->open[wd][sec / 900] != 0;
}

#define HOUR_SLOTS 8
#define HOUR_MS 3600000
#define AWAIT_MAX (1u << 20)     /* routed mentions awaiting an answer, at most (about 100 MB); more are not tracked */
#define AWAIT_KEEP_MS 86400000LL /* an unanswered mention is forgotten a day after its respond-by */
#define SAMPLE_MAX 65536          /* response times kept per track and hour (p90) */

/* A routed mention awaiting its answer. */
typedef struct await {
  char *id;
  uint32_t idn;
  int32_t track;
  int64_t ts, due;  /* due: when the heap next looks at it */
  int64_t due_first; /* its respond-by */
  bool late; /* its respond-by passed unanswered (counted) */
} await;

/* Per track and event-time hour: the response times collected (the event
 * time of the answer, or of a respond-by passed unanswered: +infinity), in
 * a ring of hours so that the next hour fills while the watermark has not
 * closed the last. */
#define SLA_HOURS 4
typedef struct sla_hour {
  int64_t hour;        /* INT64_MIN: empty */
  uint32_t *times;     /* seconds; UINT32_MAX: unanswered */
  uint32_t n, cap, answered, late, unanswered;
} sla_hour;
typedef struct track_sla {
  sla_hour h[SLA_HOURS];
  bool breach_open;
} track_sla;

struct es_triage_state {
  size_t ntracks;
  int64_t hour[ES_TRIAGE_MAX_TRACKS][HOUR_SLOTS]; /* event-time hour of each slot */
  uint64_t in_hour[ES_TRIAGE_MAX_TRACKS][HOUR_SLOTS];
  uint64_t routed_to[ES_TRIAGE_MAX_TRACKS];
  es_triage_counts c;
  es_triage_sla_counts sla[ES_TRIAGE_MAX_TRACKS];
  /* awaiting answers: open addressing by id (index + 1 into aw; 0 empty,
   * UINT32_MAX a removed slot) and a min-heap of indices by respond-by */
  await *aw;
  uint32_t naw, capaw, *freeaw, nfree;
  uint32_t *slots;
  size_t mask, used;
  uint32_t *heap;
  size_t nheap;
  track_sla ts[ES_TRIAGE_MAX_TRACKS];
};

es_triage_state *es_triage_state_create(const es_triage *t) {
  es_triage_state *s = es_calloc(1, sizeof *s);
  if (!s) return NULL;
  s->ntracks = t->ntracks;
  for (size_t i = 0; i < ES_TRIAGE_MAX_TRACKS; i++) {
    for (int k = 0; k < HOUR_SLOTS; k++) s->hour[i][k] = INT64_MIN;
    for (int k = 0; k < SLA_HOURS; k++) s->ts[i].h[k].hour = INT64_MIN;
  }
  return s;
}
void es_triage_state_destroy(es_triage_state *s) {
  if (!s) return;
  for (uint32_t i = 0; i < s->naw; i++) es_free(s->aw[i].id);
  es_free(s->aw);
  es_free(s->freeaw);
  es_free(s->slots);
  es_free(s->heap);
  for (size_t i = 0; i < ES_TRIAGE_MAX_TRACKS; i++)
    for (int k = 0; k < SLA_HOURS; k++) es_free(s->ts[i].h[k].times);
  es_free(s);
}
void es_triage_counts_get(const es_triage_state *s, es_triage_counts *c) { *c = s->c; }
uint64_t es_triage_track_routed(const es_triage_state *s, size_t i) { return s->routed_to[i]; }

/* Counts a mention into track i's hour; false when that hour was full. An
 * event older than the hours kept is counted without a limit. */
static bool take(const es_triage *t, es_triage_state *s, int32_t i, int64_t ts_ms) {
  int64_t h = ts_ms >= 0 ? ts_ms / 3600000 : -((-ts_ms + 3599999) / 3600000);
  size_t k = (size_t)(((h % HOUR_SLOTS) + HOUR_SLOTS) % HOUR_SLOTS);
  if (s->hour[i][k] > h) return true;
  if (s->hour[i][k] != h) {
    s->hour[i][k] = h;
    s->in_hour[i][k] = 0;
  }
  if (t->tracks[i].capacity && s->in_hour[i][k] >= (uint64_t)t->tracks[i].capacity) return false;
  s->in_hour[i][k]++;
  return true;
}

void es_triage_decide(const es_triage *t, es_triage_state *s, const es_triage_pre *pre, int64_t ts_ms,
                      bool (*alert_open)(void *ctx, size_t crisis), void *ctx, es_triage_out *o) {
  memset(o, 0, sizeof *o);
  o->rule = -1;
  o->track = o->asked_track = -1;
  for (size_t k = 0; k < t->ncrises; k++)
    if ((pre->crisis >> k & 1) && alert_open(ctx, k)) {
      const crisis *c = &t->crises[k];
      o->action = ES_TRIAGE_ROUTE;
      o->via = ES_VIA_CRISIS;
      o->rule = (int32_t)k;
      o->track = o->asked_track = c->track;
      o->priority = c->priority;
      o->sla_ms = c->sla_ms > 0 ? c->sla_ms : t->tracks[c->track].sla_ms;
      break;
    }
  if (o->action == ES_TRIAGE_NONE) {
    if (pre->route < 0) {
      s->c.unrouted++;
      return;
    }
    const route *r = &t->routes[pre->route];
    o->rule = pre->route;
    o->action = r->action;
    if (r->action == ES_TRIAGE_IGNORE) {
      o->reason = r->reason;
      s->c.ignored++;
      return;
    }
    o->via = ES_VIA_ROUTE;
    o->track = o->asked_track = r->track;
    o->priority = r->priority;
    o->sla_ms = r->sla_ms > 0 ? r->sla_ms : t->tracks[r->track].sla_ms;
    /* Outside office hours the off-hours track, with its SLA (a crisis
     * goes where it is sent at any hour). */
    if (t->has_hours && t->tracks[o->track].keeps_hours && o->track != t->off_hours && !es_triage_in_hours(t, ts_ms)) {
      o->via = ES_VIA_OFF_HOURS;
      o->track = t->off_hours;
      o->sla_ms = t->tracks[o->track].sla_ms;
      s->c.off_hours++;
    }
  } else s->c.crisis++;
  /* Past its capacity in this hour, the track's overflow track. */
  if (!take(t, s, o->track, ts_ms) && t->tracks[o->track].overflow >= 0) {
    o->via = ES_VIA_OVERFLOW;
    o->track = t->tracks[o->track].overflow;
    o->sla_ms = t->tracks[o->track].sla_ms;
    take(t, s, o->track, ts_ms);
    s->c.overflowed++;
  }
  o->respond_by_ms = ts_ms + o->sla_ms;
  s->routed_to[o->track]++;
  s->c.routed++;
}

/* ---- time to respond ---- */

#define SLOT_GONE UINT32_MAX

static size_t id_hash(const char *id, size_t n) { return (size_t)es_hash_bytes(id, n); }

/* The slot of id (its entry index + 1 there), or of where it would go. */
static size_t slot_of(const es_triage_state *s, const char *id, size_t n, bool *found) {
  size_t h = id_hash(id, n) & s->mask, gone = SIZE_MAX;
  for (; s->slots[h]; h = (h + 1) & s->mask) {
    if (s->slots[h] == SLOT_GONE) {
      if (gone == SIZE_MAX) gone = h;
      continue;
    }
    const await *a = &s->aw[s->slots[h] - 1];
    if (a->idn == n && !memcmp(a->id, id, n)) {
      *found = true;
      return h;
    }
  }
  *found = false;
  return gone != SIZE_MAX ? gone : h;
}

static bool heap_less(const es_triage_state *s, uint32_t a, uint32_t b) { return s->aw[a].due < s->aw[b].due; }

static void heap_push(es_triage_state *s, uint32_t i) {
  size_t k = s->nheap++;
  while (k && heap_less(s, i, s->heap[(k - 1) / 2])) {
    s->heap[k] = s->heap[(k - 1) / 2];
    k = (k - 1) / 2;
  }
  s->heap[k] = i;
}

static void heap_pop(es_triage_state *s) {
  uint32_t last = s->heap[--s->nheap];
  size_t k = 0, n = s->nheap;
  for (;;) {
    size_t c = 2 * k + 1;
    if (c >= n) break;
    if (c + 1 < n && heap_less(s, s->heap[c + 1], s->heap[c])) c++;
    if (!heap_less(s, s->heap[c], last)) break;
    s->heap[k] = s->heap[c];
    k = c;
  }
  if (n) s->heap[k] = last;
}

static int grow_slots(es_triage_state *s) {
  size_t cap = s->mask ? (s->mask + 1) * 2 : 1024;
  uint32_t *n = es_calloc(cap, sizeof *n);
  if (!n) return ES_ENOMEM;
  uint32_t *old = s->slots;
  size_t oldcap = s->mask ? s->mask + 1 : 0;
  s->slots = n;
  s->mask = cap - 1;
  s->used = 0;
  for (size_t i = 0; i < oldcap; i++) {
    if (!old[i] || old[i] == SLOT_GONE) continue;
    const await *a = &s->aw[old[i] - 1];
    bool f;
    n[slot_of(s, a->id, a->idn, &f)] = old[i];
    s->used++;
  }
  es_free(old);
  return 0;
}

/* Removes entry i from the id table (answered, or forgotten); its index
 * is reused once the heap has let go of it (`popped`). */
static void await_drop(es_triage_state *s, uint32_t i, bool popped) {
  await *a = &s->aw[i];
  if (a->id) {
    bool f;
    size_t h = slot_of(s, a->id, a->idn, &f);
    if (f) s->slots[h] = SLOT_GONE;
    es_free(a->id);
    a->id = NULL;
  }
  if (popped) s->freeaw[s->nfree++] = i;
}

enum { S_ON_TIME, S_LATE, S_UNANSWERED };

/* A response time (or an unanswered respond-by) into its track's hour. */
static void sample(es_triage_state *s, int32_t track, int64_t at, uint32_t secs, int kind) {
  int64_t h = at >= 0 ? at / HOUR_MS : -((-at + HOUR_MS - 1) / HOUR_MS);
  sla_hour *b = &s->ts[track].h[((h % SLA_HOURS) + SLA_HOURS) % SLA_HOURS];
  if (b->hour != h) {
    if (b->hour > h) return; /* older than the hours kept: counted in the totals only */
    b->hour = h;             /* (a stale hour here was closed, or is SLA_HOURS older) */
    b->n = b->answered = b->late = b->unanswered = 0;
  }
  if (b->n == b->cap && b->cap < SAMPLE_MAX) {
    uint32_t cap = b->cap ? b->cap * 2 : 64;
    uint32_t *x = es_realloc(b->times, cap * sizeof *x);
    if (x) b->times = x, b->cap = cap;
  }
  if (b->n < b->cap) b->times[b->n++] = secs;
  b->answered += kind != S_UNANSWERED;
  b->late += kind == S_LATE;
  b->unanswered += kind == S_UNANSWERED;
}

void es_triage_await(es_triage_state *s, const char *id, size_t n, const es_triage_out *o, int64_t ts) {
  if (!n || o->action != ES_TRIAGE_ROUTE) return;
  if (s->naw - s->nfree >= AWAIT_MAX) {
    s->c.untracked++;
    return;
  }
  if ((s->used + 1) * 2 > (s->mask ? s->mask + 1 : 0) && grow_slots(s)) return;
  bool f;
  size_t h = slot_of(s, id, n, &f);
  if (f) return; /* the same id twice: the first one counts */
  uint32_t i;
  if (s->nfree) i = s->freeaw[--s->nfree];
  else {
    if (s->naw == s->capaw) {
      uint32_t cap = s->capaw ? s->capaw * 2 : 1024;
      await *x = es_realloc(s->aw, cap * sizeof *x);
      uint32_t *fr = x ? es_realloc(s->freeaw, cap * sizeof *fr) : NULL;
      uint32_t *hp = fr ? es_realloc(s->heap, cap * sizeof *hp) : NULL;
      if (x) s->aw = x;
      if (fr) s->freeaw = fr;
      if (hp) s->heap = hp;
      if (!hp) return;
      s->capaw = cap;
    }
    i = s->naw++;
  }
  char *copy = es_strndup(id, n);
  if (!copy) {
    s->freeaw[s->nfree++] = i;
    return;
  }
  s->aw[i] = (await){.id = copy, .idn = (uint32_t)n, .track = o->track, .ts = ts, .due = o->respond_by_ms,
                     .due_first = o->respond_by_ms};
  if (s->slots[h] != SLOT_GONE) s->used++;
  s->slots[h] = i + 1;
  heap_push(s, i);
}

bool es_triage_response(es_triage_state *s, const char *id, size_t n, int64_t ts) {
  if (!n || !s->slots) return false;
  bool f;
  size_t h = slot_of(s, id, n, &f);
  if (!f) {
    s->c.responses_unknown++;
    return false;
  }
  uint32_t i = s->slots[h] - 1;
  await *a = &s->aw[i];
  int64_t took = ts > a->ts ? ts - a->ts : 0;
  es_triage_sla_counts *c = &s->sla[a->track];
  c->answered++;
  c->respond_ms_sum += took;
  bool late = a->late || ts > a->due_first;
  if (late && !a->late) c->late++; /* answered after its respond-by (an unanswered one is counted already) */
  s->c.responses++;
  sample(s, a->track, ts, took / 1000 > UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)(took / 1000),
         late ? S_LATE : S_ON_TIME);
  await_drop(s, i, false); /* the heap skips it when it comes up */
  return true;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* Closes one hour of track k: its p90 against the SLA, and the breach's state. */
static void close_hour(const es_triage *t, es_triage_state *s, size_t k, sla_hour *b,
                       void (*emit)(void *ctx, const es_sla_event *e), void *ctx) {
  track_sla *ts = &s->ts[k];
  if (!b->n) {
    b->hour = INT64_MIN;
    return;
  }
  qsort(b->times, b->n, sizeof *b->times, cmp_u32);
  uint32_t p90 = b->times[(b->n * 9 + 9) / 10 - 1]; /* the nearest-rank 90th percentile */
  int64_t sla_s = t->tracks[k].sla_ms / 1000;
  bool breach = p90 == UINT32_MAX || (int64_t)p90 > sla_s;
  es_sla_event e = {.track = t->tracks[k].name, .hour_start_ms = b->hour * HOUR_MS, .sla_s = sla_s,
                    .p90_s = p90 == UINT32_MAX ? -1 : (int64_t)p90, .answered = b->answered, .late = b->late,
                    .unanswered = b->unanswered};
  if (breach) e.state = ts->breach_open ? ES_SLA_UPDATED : ES_SLA_OPENED;
  else e.state = ts->breach_open ? ES_SLA_RESOLVED : ES_SLA_MET;
  ts->breach_open = breach;
  if (breach) s->sla[k].breach_hours++;
  emit(ctx, &e);
  b->n = b->answered = b->late = b->unanswered = 0;
  b->hour = INT64_MIN;
}

void es_triage_sla_advance(const es_triage *t, es_triage_state *s, int64_t watermark, bool all,
                           void (*emit)(void *ctx, const es_sla_event *e), void *ctx) {
  /* respond-bys passed unanswered, in order */
  while (s->nheap) {
    uint32_t i = s->heap[0];
    await *a = &s->aw[i];
    if (!a->id) { /* answered: its index is free now */
      heap_pop(s);
      s->freeaw[s->nfree++] = i;
      continue;
    }
    if (a->due > watermark) break;
    heap_pop(s);
    if (!a->late) {
      a->late = true;
      s->sla[a->track].unanswered++;
      s->sla[a->track].late++;
      sample(s, a->track, a->due, UINT32_MAX, S_UNANSWERED);
      a->due += AWAIT_KEEP_MS; /* kept for a late answer, until a day past its respond-by */
      heap_push(s, i);
      continue;
    }
    await_drop(s, i, true);
  }
  /* hours the watermark has left behind, oldest first */
  int64_t wh = watermark >= 0 ? watermark / HOUR_MS : -((-watermark + HOUR_MS - 1) / HOUR_MS);
  for (size_t k = 0; k < t->ntracks; k++)
    for (;;) {
      sla_hour *old = NULL;
      for (int j = 0; j < SLA_HOURS; j++) {
        sla_hour *b = &s->ts[k].h[j];
        if (b->hour != INT64_MIN && (all || b->hour < wh) && (!old || b->hour < old->hour)) old = b;
      }
      if (!old) break;
      close_hour(t, s, k, old, emit, ctx);
    }
}

const es_triage_sla_counts *es_triage_sla_counts_get(const es_triage_state *s, size_t track) { return &s->sla[track]; }

void es_sla_event_json(es_buf *b, const es_sla_event *e) {
  static const char *const states[] = {"met", "opened", "updated", "resolved"};
  char hs[32], he[32];
  es_time_format_rfc3339(e->hour_start_ms, hs);
  es_time_format_rfc3339(e->hour_start_ms + HOUR_MS, he);
  es_buf_puts(b, "{\"type\":\"sla_breach\",\"track\":");
  es_buf_json_str(b, e->track, strlen(e->track));
  es_buf_printf(b, ",\"state\":\"%s\",\"window_start\":\"%s\",\"window_end\":\"%s\",\"sla_s\":%lld,\"p90_s\":",
                states[e->state], hs, he, (long long)e->sla_s);
  if (e->p90_s < 0) es_buf_puts(b, "null");
  else es_buf_printf(b, "%lld", (long long)e->p90_s);
  es_buf_printf(b, ",\"answered\":%u,\"late\":%u,\"unanswered\":%u}\n", e->answered, e->late, e->unanswered);
}

const char *es_triage_rule_name(const es_triage *t, const es_triage_out *o) {
  if (o->rule < 0) return "";
  return o->via == ES_VIA_CRISIS ? t->crises[o->rule].name : t->routes[o->rule].name;
}

static void add_why(char *out, size_t cap, size_t *at, const char *fmt, const char *a, const char *b) {
  if (*at >= cap) return;
  int n = snprintf(out + *at, cap - *at, "%s", *at ? "; " : "");
  if (n > 0) *at += (size_t)n;
  if (*at >= cap) return;
  n = snprintf(out + *at, cap - *at, fmt, a, b);
  if (n > 0) *at += (size_t)n;
  if (*at >= cap) *at = cap - 1;
}

void es_triage_explain_cond(const es_triage *t, int which, int32_t idx, const es_triage_in *in, char *out, size_t cap) {
  size_t at = 0;
  out[0] = 0;
  if (idx < 0) return;
  const cond *c = which ? &t->crises[idx].when : &t->routes[idx].when;
  if (which) add_why(out, cap, &at, "query %s has an open alert%s", t->crises[idx].query, "");
  for (int i = 0; i < c->nqueries; i++)
    for (size_t k = 0; k < in->nqueries; k++) {
      const char *id = es_queryset_get(in->qs, in->queries[k])->id;
      if (!strcmp(id, c->queries[i])) add_why(out, cap, &at, "query %s%s", id, "");
    }
  for (size_t k = 0; k < es_situations_count(t->sit); k++)
    if (c->situations >> k & 1 && in->situations >> k & 1)
      add_why(out, cap, &at, "situation %s%s", es_situation_name(t->sit, k), "");
  for (size_t k = 0; k < es_situations_count(t->sit); k++)
    if (c->not_situations >> k & 1) add_why(out, cap, &at, "not %s%s", es_situation_name(t->sit, k), "");
  if (c->labels) add_why(out, cap, &at, "sentiment %s%s", es_label_name(in->label), "");
  if (c->cmin > -1 || c->cmax < 1) {
    char v[32];
    snprintf(v, sizeof v, "%.3f", in->compound);
    add_why(out, cap, &at, "compound %s in range%s", v, "");
  }
  uint32_t lists = es_triage_author_lists(t, in->author, in->author_n);
  for (size_t k = 0; k < t->nlists; k++)
    if (c->lists >> k & 1 && lists >> k & 1) add_why(out, cap, &at, "author in %s%s", t->lists[k], "");
  for (size_t k = 0; k < t->nlists; k++)
    if (c->not_lists >> k & 1) add_why(out, cap, &at, "author not in %s%s", t->lists[k], "");
  if (c->fmin > 0 || c->fmax < INT64_MAX) {
    char v[32];
    snprintf(v, sizeof v, "%llu", (unsigned long long)in->followers);
    add_why(out, cap, &at, "followers %s in range%s", v, "");
  }
  if (c->nlangs) add_why(out, cap, &at, "lang %s%s", in->lang_n ? in->lang : "und", "");
  if (c->nsources) add_why(out, cap, &at, "source %s%s", in->source_n ? in->source : "unknown", "");
  if (!at) snprintf(out, cap, "%s", "every mention (no condition)");
}

void es_triage_route_json(es_buf *b, const es_triage *t, const es_triage_out *o, const char *why) {
  es_buf_puts(b, "\"route\":");
  if (o->action == ES_TRIAGE_NONE) {
    es_buf_puts(b, "null,\"respond_by\":null");
    return;
  }
  static const char *const via[] = {"route", "crisis", "off_hours", "overflow"};
  es_buf_puts(b, "{\"action\":");
  es_buf_puts(b, o->action == ES_TRIAGE_IGNORE ? "\"ignore\"" : "\"route\"");
  es_buf_puts(b, ",\"rule\":");
  const char *rn = es_triage_rule_name(t, o);
  es_buf_json_str(b, rn, strlen(rn));
  if (o->action == ES_TRIAGE_IGNORE) {
    es_buf_puts(b, ",\"reason\":");
    es_buf_json_str(b, o->reason, strlen(o->reason));
  } else {
    es_buf_puts(b, ",\"track\":");
    es_buf_json_str(b, t->tracks[o->track].name, strlen(t->tracks[o->track].name));
    es_buf_printf(b, ",\"priority\":%d,\"sla_s\":%lld,\"via\":\"%s\"", o->priority, (long long)(o->sla_ms / 1000),
                  via[o->via]);
    if (o->track != o->asked_track) {
      es_buf_puts(b, ",\"asked_track\":");
      es_buf_json_str(b, t->tracks[o->asked_track].name, strlen(t->tracks[o->asked_track].name));
    }
  }
  if (why) {
    es_buf_puts(b, ",\"why\":");
    es_buf_json_str(b, why, strlen(why));
  }
  es_buf_puts(b, "},\"respond_by\":");
  if (o->action == ES_TRIAGE_IGNORE) {
    es_buf_puts(b, "null");
    return;
  }
  char ts[32];
  size_t n = es_time_format_rfc3339(o->respond_by_ms, ts);
  es_buf_json_str(b, ts, n);
}

const char *es_triage_off_hours_track(const es_triage *t) { return t->off_hours >= 0 ? t->tracks[t->off_hours].name : NULL; }
const char *es_triage_timezone(const es_triage *t) { return t->tz_name; }
