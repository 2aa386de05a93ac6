/* earshot allocation: every allocation in the engine goes through here.
 *
 * The engine links jemalloc (Debian's libjemalloc, which replaces malloc for
 * the whole process), and es_mem_allocator() proves at startup that it is the
 * allocator actually in use: it asks jemalloc for its version and checks that
 * an allocation made through malloc moves jemalloc's per-thread counter. In a
 * sanitizer build (ES_NO_JEMALLOC) the sanitizer's allocator is used instead
 * and the report says so.
 *
 * The es_* wrappers never return NULL on success paths callers cannot handle:
 * they return NULL and callers propagate ES_ENOMEM. */
#ifndef EARSHOT_MEM_H
#define EARSHOT_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

static inline void *es_malloc(size_t n) { return malloc(n); }
static inline void *es_calloc(size_t k, size_t n) { return calloc(k, n); }
static inline void *es_realloc(void *p, size_t n) { return realloc(p, n); }
static inline void es_free(void *p) { free(p); }
char *es_strdup(const char *s);
char *es_strndup(const char *s, size_t n);

/* Which allocator serves malloc, e.g. "jemalloc 5.3.0-0-g54eaed1d (in use)".
 * Static storage. Any thread. */
const char *es_mem_allocator(void);

/* Bytes allocated so far by the calling thread (jemalloc's
 * thread.allocated), or 0 when jemalloc is not linked. Used by benches to
 * show that the hot path does not allocate. */
uint64_t es_mem_thread_allocated(void);

/* Bump arena: many small allocations, released together by reset.
 * One owner thread; not thread-safe. Blocks are kept across resets. */
typedef struct es_arena_block es_arena_block;
typedef struct es_arena {
  es_arena_block *head;  /* current block */
  es_arena_block *full;  /* blocks filled since the last reset */
  size_t block_size;
} es_arena;

void es_arena_init(es_arena *a, size_t block_size);
void *es_arena_alloc(es_arena *a, size_t n); /* 8-byte aligned; NULL on OOM */
char *es_arena_strndup(es_arena *a, const char *s, size_t n);
void es_arena_reset(es_arena *a);
void es_arena_destroy(es_arena *a); /* NULL-safe */

#endif
