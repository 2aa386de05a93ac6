/* es_strerror and es_diag: the one error vocabulary of the engine (see
 * include/earshot/error.h). Pure functions; any thread. */
#include "earshot/error.h"

#include <stdarg.h>
#include <stdio.h>

const char *es_strerror(int err) {
  switch (err) {
  case 0:
    return "success";
#define ES__X(name, msg) \
  case ES_E##name:       \
    return msg;
    ES_ERRNO_MAP(ES__X)
#undef ES__X
  default:
    return "unknown error";
  }
}

int es_diag_set(es_diag *d, int err, const char *fmt, ...) {
  if (d) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof d->msg, fmt, ap);
    va_end(ap);
  }
  return err;
}
