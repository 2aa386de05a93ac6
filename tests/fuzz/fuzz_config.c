/* libFuzzer target: arbitrary bytes as the YAML config file. Loading either
 * succeeds or fails with a message; never a crash or a leak. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "earshot/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
  char path[] = "/tmp/earshot-fuzz-config-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return 0;
  if (write(fd, data, n) != (ssize_t)n) {
    close(fd);
    unlink(path);
    return 0;
  }
  close(fd);
  es_config c;
  es_config_default(&c);
  es_diag d = {{0}};
  if (es_config_load(&c, path, &d) && !d.msg[0]) abort(); /* a refused config always says why */
  es_config_free(&c);
  unlink(path);
  return 0;
}
