/* The entry points addon.c registers (each lives in the file named beside it), and what their files share. */
#ifndef VPCFLOW_ADDON_H
#define VPCFLOW_ADDON_H
#include <node_api.h>
#include <stddef.h>

/* The data and element count of a typed array argument; 0 when it is not one. */
static inline int typed(napi_env env, napi_value v, void **data, size_t *length) {
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  return napi_get_typedarray_info(env, v, &type, length, data, &buffer, &offset) == napi_ok;
}

/* decode_lines.c: `decodeLines`, the C decoder. */
napi_value decode_lines(napi_env env, napi_callback_info info);
/* write_rows.c: `rowWriter`, the C NDJSON and CSV writer. */
napi_value create_row_writer(napi_env env, napi_callback_info info);
/* gunzip.c: `gunzip` and `gunzipChunk`, gzip decompression on the calling thread. */
napi_value create_gunzip(napi_env env, napi_callback_info info);
napi_value gunzip_chunk(napi_env env, napi_callback_info info);
#ifdef __linux__
/* send_file.c: `sendFile`, a spill file copied to stdout in the kernel. */
napi_value send_file(napi_env env, napi_callback_info info);
#endif

#endif
