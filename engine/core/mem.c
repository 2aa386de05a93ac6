/* Allocation helpers: strdup variants, the bump arena, and the allocator
 * report that proves jemalloc is the malloc in use.
 *
 * The arena hands out 8-byte aligned slices of large blocks; reset moves all
 * blocks to a free state without returning them to malloc, so a per-batch
 * arena stops allocating once it has grown to the largest batch. Arenas are
 * owned by one thread. */
#include "earshot/mem.h"

#include <stdio.h>
#include <string.h>

#ifndef ES_NO_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

char *es_strdup(const char *s) { return s ? es_strndup(s, strlen(s)) : NULL; }

char *es_strndup(const char *s, size_t n) {
  char *p = es_malloc(n + 1);
  if (!p) return NULL;
  memcpy(p, s, n);
  p[n] = 0;
  return p;
}

const char *es_mem_allocator(void) {
  static char report[128];
#ifndef ES_NO_JEMALLOC
  const char *version = NULL;
  size_t sz = sizeof version;
  if (mallctl("version", &version, &sz, NULL, 0) != 0 || !version) {
    snprintf(report, sizeof report, "jemalloc (version unavailable)");
    return report;
  }
  /* Prove that plain malloc is served by jemalloc: an allocation through
   * malloc must move jemalloc's per-thread allocation counter. */
  uint64_t before = es_mem_thread_allocated();
  void *volatile probe = malloc(4096);
  uint64_t after = es_mem_thread_allocated();
  free(probe);
  snprintf(report, sizeof report, "jemalloc %s (%s)", version,
           after > before ? "in use" : "linked but NOT serving malloc");
#else
  snprintf(report, sizeof report, "system/sanitizer allocator (jemalloc disabled in this build)");
#endif
  return report;
}

uint64_t es_mem_thread_allocated(void) {
#ifndef ES_NO_JEMALLOC
  uint64_t v = 0;
  size_t sz = sizeof v;
  if (mallctl("thread.allocated", &v, &sz, NULL, 0) == 0) return v;
#endif
  return 0;
}

struct es_arena_block {
  es_arena_block *next;
  size_t cap, used;
  _Alignas(16) unsigned char data[];
};

void es_arena_init(es_arena *a, size_t block_size) {
  a->head = NULL;
  a->full = NULL;
  a->block_size = block_size ? block_size : 65536;
}

void *es_arena_alloc(es_arena *a, size_t n) {
  n = (n + 7) & ~(size_t)7;
  es_arena_block *b = a->head;
  if (b && b->cap - b->used >= n) {
    void *p = b->data + b->used;
    b->used += n;
    return p;
  }
  /* Current block exhausted: take a kept block that fits, else allocate. */
  es_arena_block **pp = &a->full, *reuse = NULL;
  for (; *pp; pp = &(*pp)->next) {
    if ((*pp)->used == 0 && (*pp)->cap >= n) {
      reuse = *pp;
      *pp = reuse->next;
      break;
    }
  }
  if (!reuse) {
    size_t cap = n > a->block_size ? n : a->block_size;
    reuse = es_malloc(sizeof *reuse + cap);
    if (!reuse) return NULL;
    reuse->cap = cap;
  }
  reuse->used = n;
  if (b) {
    b->next = a->full;
    a->full = b;
  }
  reuse->next = NULL;
  a->head = reuse;
  return reuse->data;
}

char *es_arena_strndup(es_arena *a, const char *s, size_t n) {
  char *p = es_arena_alloc(a, n + 1);
  if (!p) return NULL;
  memcpy(p, s, n);
  p[n] = 0;
  return p;
}

void es_arena_reset(es_arena *a) {
  if (a->head) {
    a->head->used = 0;
  }
  for (es_arena_block *b = a->full; b; b = b->next) b->used = 0;
}

void es_arena_destroy(es_arena *a) {
  if (!a) return;
  es_free(a->head);
  for (es_arena_block *b = a->full, *n; b; b = n) {
    n = b->next;
    es_free(b);
  }
  a->head = a->full = NULL;
}
