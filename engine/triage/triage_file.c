/* The triage file (YAML): situations, author lists, tracks, office hours,
 * routes and crisis overrides, loaded into an es_triage (README "Triage").
 * Main thread, before the pipeline's threads start (office hours read the
 * time zone through libc once, see load_zone). */
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
#include "earshot/triage.h"
#include "triage_internal.h"

/* ---------------------------------------------------------------- load */

typedef struct ctx {
  es_yaml *y;
  es_triage *t;
  es_diag *d;
  char *dir; /* the file's directory */
  const es_triage *running; /* a reload: the triage in force (its time zone is reused) */
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
  if (!(*lo >= lo_lim) || !(*hi <= hi_lim) || !(*lo <= *hi)) goto fail; /* (NaN fails too) */
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
      if (!rc) {
        c->fmin = (int64_t)lo;
        c->fmax = hi >= 9e18 ? INT64_MAX : (int64_t)hi;
      }
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
size_t es__norm_handle(const char *s, size_t n, char *out, size_t cap) {
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
    if (path) es__triage_note_file(x->t, path);
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
      n = es__norm_handle(line, n, h, sizeof h);
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
        es_free(r->name); /* (a key given twice: the last one) */
        r->name = NULL;
        rc = n && *n ? ((r->name = es_strdup(n)) ? 0 : ES_ENOMEM) : bad(x, v, "'name' must be a word%s%s", "", "");
      } else if (!strcmp(ks, "when")) rc = load_cond(x, v, &r->when);
      else if (!strcmp(ks, "ignore")) {
        const char *n = es__yaml_scalar(v);
        r->action = ES_TRIAGE_IGNORE;
        es_free(r->reason);
        r->reason = NULL;
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
        es_free(c->query);
        c->query = NULL;
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
  es_free(z->at), es_free(z->off), es_free(x->t->tz_name); /* (a key given twice: the last one) */
  z->at = NULL, z->off = NULL, z->n = 0, x->t->tz_name = NULL;
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
    if (x->running) {
      /* A reload runs beside other threads: TZ cannot be set then. The
       * running file's zone is reused; another one needs a restart. */
      const es_triage *r = x->running;
      if (!r->tz_name || strcmp(r->tz_name, name))
        return bad(x, v, "time zone '%s': the running triage file has %s; a time zone is read at start, restart to "
                   "change it", name, r->tz_name ? r->tz_name : "none");
      if (!(z->at = es_malloc(r->tz.n * sizeof *z->at)) || !(z->off = es_malloc(r->tz.n * sizeof *z->off)))
        return es_diag_set(x->d, ES_ENOMEM, "out of memory");
      memcpy(z->at, r->tz.at, r->tz.n * sizeof *z->at);
      memcpy(z->off, r->tz.off, r->tz.n * sizeof *z->off);
      z->n = r->tz.n;
      return (x->t->tz_name = es_strdup(name)) ? 0 : es_diag_set(x->d, ES_ENOMEM, "out of memory");
    }
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

es_triage *es_triage_load(const char *path, int *err, es_diag *d) { return es_triage_reload(path, NULL, err, d); }

es_triage *es_triage_reload(const char *path, const es_triage *running, int *err, es_diag *d) {
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
  es__triage_note_file(t, path);
  ctx cx = {&y, t, d, dirname(pcopy), running}, *x = &cx;
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
      for (size_t i = 0; !rc && i < n; i++)
        if (strncmp(paths[i], "builtin:", 8)) es__triage_note_file(t, paths[i]);
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
  for (size_t i = 0; i < t->nfiles; i++) es_free(t->files[i]);
  es_free(t);
}

void es__triage_note_file(es_triage *t, const char *path) {
  if (t->nfiles < ES_TRIAGE_MAX_FILES && (t->files[t->nfiles] = es_strdup(path))) t->nfiles++;
}
size_t es_triage_files(const es_triage *t, const char *const **files) {
  *files = (const char *const *)t->files;
  return t->nfiles;
}
const char *es_triage_crisis_query(const es_triage *t, size_t k) { return t->crises[k].query; }

const es_situations *es_triage_situations(const es_triage *t) { return t->sit; }
size_t es_triage_track_count(const es_triage *t) { return t->ntracks; }
const char *es_triage_track_name(const es_triage *t, size_t i) { return t->tracks[i].name; }
size_t es_triage_crisis_count(const es_triage *t) { return t->ncrises; }

