/*
 * vpcflow's optional native code: the hot paths of decoding (decode_lines.c) and of writing NDJSON and CSV
 * (write_rows.c), each with a JavaScript twin that gives the same output where this is not built.
 * src/native/addon.ts loads it.
 */
#include "addon.h"

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "decodeLines", NAPI_AUTO_LENGTH, decode_lines, NULL, &fn);
  napi_set_named_property(env, exports, "decodeLines", fn);
  napi_create_function(env, "rowWriter", NAPI_AUTO_LENGTH, create_row_writer, NULL, &fn);
  napi_set_named_property(env, exports, "rowWriter", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
