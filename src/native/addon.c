/*
 * vpcflow's optional native code: the hot paths of decoding (decode_lines.c) and of writing NDJSON and CSV
 * (write_rows.c), each with a JavaScript twin that gives the same output where this is not built, and gzip
 * decompression on the calling thread (gunzip.c) for worker threads, which otherwise use Node's zlib streams, and
 * spill files copied to stdout in the kernel (send_file.c).
 * src/native/addon.ts loads it.
 */
#include "addon.h"

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "decodeLines", NAPI_AUTO_LENGTH, decode_lines, NULL, &fn);
  napi_set_named_property(env, exports, "decodeLines", fn);
  napi_create_function(env, "rowWriter", NAPI_AUTO_LENGTH, create_row_writer, NULL, &fn);
  napi_set_named_property(env, exports, "rowWriter", fn);
  napi_create_function(env, "gunzip", NAPI_AUTO_LENGTH, create_gunzip, NULL, &fn);
  napi_set_named_property(env, exports, "gunzip", fn);
  napi_create_function(env, "gunzipChunk", NAPI_AUTO_LENGTH, gunzip_chunk, NULL, &fn);
  napi_set_named_property(env, exports, "gunzipChunk", fn);
#ifdef __linux__
  napi_create_function(env, "sendFile", NAPI_AUTO_LENGTH, send_file, NULL, &fn);
  napi_set_named_property(env, exports, "sendFile", fn);
#endif
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
