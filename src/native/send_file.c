/*
 * `sendFile(outFd, inFd, offset, length)`: copies a spill file's bytes to stdout inside the kernel (sendfile(2)).
 * A worker's output that waited for its turn in a spill file otherwise came back through user space and went out
 * again: two copies of ~half of all output. Linux only; elsewhere it is not registered and the caller reads and writes.
 */
#include "addon.h"

#ifdef __linux__
#include <errno.h>
#include <sys/sendfile.h>
#include <sys/types.h>

/*
 * Writes inFd's bytes [offset, offset + length) to outFd at outFd's own file position (as write(2) does), and
 * returns how many were written: fewer only when inFd ends early. A failure with nothing written returns -errno
 * (the caller names it as Node does; -EINVAL when outFd cannot take sendfile, such as a file opened for appending).
 */
napi_value send_file(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t out_fd, in_fd;
  double offset_arg, length_arg;
  if (argc < 4 || napi_get_value_int32(env, argv[0], &out_fd) != napi_ok || napi_get_value_int32(env, argv[1], &in_fd) != napi_ok ||
      napi_get_value_double(env, argv[2], &offset_arg) != napi_ok || napi_get_value_double(env, argv[3], &length_arg) != napi_ok ||
      offset_arg < 0 || length_arg < 0) {
    napi_throw_type_error(env, NULL, "sendFile(outFd, inFd, offset, length)");
    return NULL;
  }
  off_t offset = (off_t)offset_arg;
  size_t left = (size_t)length_arg;
  double written = 0;
  while (left > 0) {
    /* Linux moves at most 0x7ffff000 bytes per call. */
    ssize_t n = sendfile(out_fd, in_fd, &offset, left > 0x7ffff000 ? 0x7ffff000 : left);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (written == 0) written = -errno;
      break;
    }
    if (n == 0) break;
    left -= (size_t)n;
    written += (double)n;
  }
  napi_value result;
  napi_create_double(env, written, &result);
  return result;
}
#endif
