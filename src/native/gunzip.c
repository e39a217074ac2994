/*
 * `gunzip` and `gunzipChunk`: gzip decompression on the calling thread, into the caller's buffer. Worker threads use
 * it for .gz objects: Node's zlib streams inflate on libuv's threads and hand back a fresh buffer per chunk, and with
 * as many workers as cores each round trip preempts a worker and each fresh buffer is page-faulted in.
 * zlib itself is Node's own (the binary exports it; node-gyp puts its zlib.h on the include path).
 */
#include "addon.h"
#include <stdlib.h>
#include <zlib.h>

typedef struct {
  z_stream zs;
  /* At the end of a gzip member: what follows is another member, zero padding, or nothing. */
  int ended;
} gunzip_state;

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  gunzip_state *s = data;
  inflateEnd(&s->zs);
  free(s);
}

napi_value create_gunzip(napi_env env, napi_callback_info info) {
  (void)info;
  gunzip_state *s = calloc(1, sizeof *s);
  if (!s || inflateInit2(&s->zs, 16 + MAX_WBITS) != Z_OK) {
    free(s);
    napi_throw_error(env, NULL, "cannot start gzip decompression");
    return NULL;
  }
  napi_value external;
  napi_create_external(env, s, finalize, NULL, &external);
  return external;
}

static napi_value zlib_error(napi_env env, const char *code, const char *message) {
  napi_value c, m, err;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, c, m, &err);
  napi_throw(env, err);
  return NULL;
}

/*
 * gunzipChunk(state, input, output, io): inflates input[io[0]..] into output[io[1]..] until the input is used up or
 * the output is full, and moves io[0] and io[1] on. Returns 1 when the gzip data is at its end (so far), else 0.
 * Members one after another are read as one stream (as gzip -dc and Node's gunzip do); zero bytes after a member are
 * padding and skipped. Corrupt data throws an Error with zlib's message and code Z_DATA_ERROR, as Node's zlib does.
 */
napi_value gunzip_chunk(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  gunzip_state *s;
  unsigned char *in, *out;
  int32_t *io;
  size_t in_len, out_len, io_len;
  if (argc < 4 || napi_get_value_external(env, argv[0], (void **)&s) != napi_ok || !typed(env, argv[1], (void **)&in, &in_len) ||
      !typed(env, argv[2], (void **)&out, &out_len) || !typed(env, argv[3], (void **)&io, &io_len) || io_len < 2 || io[0] < 0 ||
      (size_t)io[0] > in_len || io[1] < 0 || (size_t)io[1] > out_len) {
    napi_throw_type_error(env, NULL, "gunzipChunk(state, input, output, io)");
    return NULL;
  }
  s->zs.next_in = in + io[0];
  s->zs.avail_in = (uInt)(in_len - (size_t)io[0]);
  s->zs.next_out = out + io[1];
  s->zs.avail_out = (uInt)(out_len - (size_t)io[1]);
  while (s->zs.avail_in > 0 && s->zs.avail_out > 0) {
    if (s->ended) {
      if (s->zs.next_in[0] == 0) {
        s->zs.next_in += s->zs.avail_in;
        s->zs.avail_in = 0;
        break;
      }
      inflateReset(&s->zs);
      s->ended = 0;
    }
    int ret = inflate(&s->zs, Z_NO_FLUSH);
    if (ret == Z_STREAM_END) s->ended = 1;
    else if (ret == Z_BUF_ERROR) break;
    else if (ret != Z_OK) return zlib_error(env, ret == Z_MEM_ERROR ? "Z_MEM_ERROR" : "Z_DATA_ERROR", s->zs.msg ? s->zs.msg : "invalid gzip data");
  }
  io[0] = (int32_t)(in_len - s->zs.avail_in);
  io[1] = (int32_t)(out_len - s->zs.avail_out);
  napi_value result;
  napi_get_boolean(env, s->ended, &result);
  return result;
}
