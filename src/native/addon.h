/* The entry points addon.c registers; each lives in the file named beside it. */
#ifndef VPCFLOW_ADDON_H
#define VPCFLOW_ADDON_H
#include <node_api.h>

/* decode_lines.c: `decodeLines`, the C decoder. */
napi_value decode_lines(napi_env env, napi_callback_info info);
/* write_rows.c: `rowWriter`, the C NDJSON and CSV writer. */
napi_value create_row_writer(napi_env env, napi_callback_info info);

#endif
