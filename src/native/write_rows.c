/*
 * The common case of NdjsonWriter and CsvWriter (src/sinks/ndjson.ts, csv.ts), in C: one JSON object or CSV row per
 * decoded record, written from the record's slots and the bytes they point into, with the serialised enrichment
 * and derived values (protocol and tcp-flags names) as pieces the JavaScript side hands over once.
 *
 * Why native: with the C decoder, writing NDJSON became the larger half of an enrich + NDJSON run (~450 ns per
 * record of ~500 bytes in JavaScript, bench/PROFILE.md), and its byte copies are what C does best. CSV in
 * JavaScript made a string per cell and took ~5 us per row.
 *
 * It declines (returns -1) whatever the JavaScript writer would write differently from a plain copy: text that needs
 * escaping or quoting or is not ASCII, a number JavaScript would print otherwise than its digits, a protocol or
 * tcp-flags value past 255 where the JavaScript writer names it. The JavaScript writer then writes that record, so
 * the two agree by construction on those; test/native-writer.test.ts checks they agree on the rest.
 *
 * State lives in a Writer per JavaScript writer (src/sinks/native-writer.ts), reached through the data pointer of
 * functions made for it, so the per-record call takes no arguments: its inputs are in a shared Int32Array (`io`),
 * and the buffers it reads and writes are bound once and bound again only when they change.
 */
#include "addon.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Column operations and styles, as src/sinks/native-writer.ts numbers them. */
enum { OP_FIELD = 0, OP_PROTOCOL = 1, OP_FLAGS = 2, OP_ENDPOINT = 3, OP_DIRECTION = 4, OP_NULL = 5, OP_ENDPOINT_RUN = 6 };
enum { STYLE_JSON = 0, STYLE_CSV = 1 };
/* Slot kinds, as src/decode/record.ts numbers them. */
enum { K_NULL = 0, K_NUMBER = 1, K_TEXT = 2, K_IPV4 = 3, K_IPV6 = 4 };
/*
 * Pieces the JavaScript side registers on request: protocol and tcp-flags names by value, an endpoint's JSON by id,
 * and (CSV) the cells of run r of an endpoint's values, kind PIECE_RUNS + r, by id + 1 (0: no endpoint).
 */
enum { PIECE_PROTOCOL = 0, PIECE_FLAGS = 1, PIECE_ENDPOINT = 2, PIECE_RUNS = 3, MAX_RUNS = 8, PIECE_KINDS = PIECE_RUNS + MAX_RUNS };
/* Slots of `io`. */
enum { IO_ROW = 0, IO_POS = 1, IO_DIRECTION = 2, IO_NEED_KIND = 3, IO_NEED_INDEX = 4, IO_ENDPOINTS = 5, IO_LEN = 16 };
/* Results other than the new output position. */
enum { DECLINED = -1, NEED_ROOM = -2, NEED_PIECE = -3 };

typedef struct {
  uint8_t *bytes;
  uint32_t len;
} Piece;

typedef struct {
  Piece *items;
  size_t len;
} Pieces;

typedef struct {
  int32_t *io;
  const uint8_t *in;
  size_t in_len;
  const uint8_t *kinds;
  const int32_t *starts;
  const int32_t *ends;
  const double *numbers;
  size_t slots;
  uint8_t *out;
  size_t out_len;
  /* The layout: every column's `{"key":` or `,"key":` one after the other, where each starts, and its operation. */
  uint8_t *prefix;
  int32_t *prefix_start;
  int32_t *ops;
  int32_t cols;
  int32_t fields;
  int32_t style;
  Pieces pieces[PIECE_KINDS];
} Writer;

static const uint8_t NULL_JSON[] = "null";
static const uint8_t INGRESS_JSON[] = "\"ingress\"";
static const uint8_t EGRESS_JSON[] = "\"egress\"";

static void free_layout(Writer *w) {
  free(w->prefix);
  free(w->prefix_start);
  free(w->ops);
  w->prefix = NULL;
  w->prefix_start = NULL;
  w->ops = NULL;
  w->cols = -1;
}

static void finalize_writer(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Writer *w = data;
  free_layout(w);
  for (int k = 0; k < PIECE_KINDS; k++) {
    for (size_t i = 0; i < w->pieces[k].len; i++) free(w->pieces[k].items[i].bytes);
    free(w->pieces[k].items);
  }
  free(w);
}

static Writer *writer_of(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  void *data;
  napi_get_cb_info(env, info, argc, argv, NULL, &data);
  return data;
}

static napi_value undefined_value(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

static napi_value bad_arguments(napi_env env, const char *what) {
  napi_throw_type_error(env, NULL, what);
  return NULL;
}

/* One Uint8Array argument, for input() and output(); 0 (a TypeError thrown) when it is not one. */
static int bytes_argument(napi_env env, napi_callback_info info, Writer **w, uint8_t **data, size_t *len, const char *what) {
  size_t argc = 1;
  napi_value argv[1];
  *w = writer_of(env, info, &argc, argv);
  if (argc < 1 || !typed(env, argv[0], (void **)data, len)) {
    bad_arguments(env, what);
    return 0;
  }
  return 1;
}

/* input(chunk): the bytes the record's slots point into. */
static napi_value bind_input(napi_env env, napi_callback_info info) {
  Writer *w;
  uint8_t *data;
  size_t len;
  if (!bytes_argument(env, info, &w, &data, &len, "row writer input: a Uint8Array expected")) return NULL;
  w->in = data;
  w->in_len = len;
  return undefined_value(env);
}

/* rows(kinds, starts, ends, numbers): the whole slot arrays a record's slots are views of (io[IO_ROW]: its offset). */
static napi_value bind_rows(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  Writer *w = writer_of(env, info, &argc, argv);
  void *kinds, *starts, *ends, *numbers;
  size_t kinds_len, starts_len, ends_len, numbers_len;
  if (argc < 4 || !typed(env, argv[0], &kinds, &kinds_len) || !typed(env, argv[1], &starts, &starts_len) ||
      !typed(env, argv[2], &ends, &ends_len) || !typed(env, argv[3], &numbers, &numbers_len)) {
    return bad_arguments(env, "row writer rows: four typed arrays expected");
  }
  size_t slots = kinds_len;
  if (starts_len < slots) slots = starts_len;
  if (ends_len < slots) slots = ends_len;
  if (numbers_len < slots) slots = numbers_len;
  w->kinds = kinds;
  w->starts = starts;
  w->ends = ends;
  w->numbers = numbers;
  w->slots = slots;
  return undefined_value(env);
}

/* output(buffer): where records are written, from io[IO_POS]. */
static napi_value bind_output(napi_env env, napi_callback_info info) {
  Writer *w;
  uint8_t *data;
  size_t len;
  if (!bytes_argument(env, info, &w, &data, &len, "row writer output: a Uint8Array expected")) return NULL;
  w->out = data;
  w->out_len = len;
  return undefined_value(env);
}

/*
 * layout(prefixBytes, prefixStart, ops, fields, style): copied, so the JavaScript arrays may go. ops: [op, arg, arg2]
 * per column (OP_ENDPOINT_RUN: io slot, run).
 */
static napi_value bind_layout(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  Writer *w = writer_of(env, info, &argc, argv);
  void *prefix, *prefix_start, *ops;
  size_t prefix_len, starts_len, ops_len;
  int32_t fields, style;
  if (argc < 5 || !typed(env, argv[0], &prefix, &prefix_len) || !typed(env, argv[1], &prefix_start, &starts_len) ||
      !typed(env, argv[2], &ops, &ops_len) || napi_get_value_int32(env, argv[3], &fields) != napi_ok ||
      napi_get_value_int32(env, argv[4], &style) != napi_ok || starts_len < 1 || ops_len != 3 * (starts_len - 1) ||
      fields < 0 || (style != STYLE_JSON && style != STYLE_CSV)) {
    return bad_arguments(env, "row writer layout: bad arguments");
  }
  const int32_t cols = (int32_t)(starts_len - 1);
  const int32_t *ps = prefix_start;
  const int32_t *op = ops;
  for (int32_t c = 0; c < cols; c++) {
    const int32_t o = op[3 * c], arg = op[3 * c + 1], arg2 = op[3 * c + 2];
    if (ps[c] < 0 || ps[c] > ps[c + 1] || (size_t)ps[c + 1] > prefix_len) return bad_arguments(env, "row writer layout: bad prefixes");
    if ((o == OP_FIELD || o == OP_PROTOCOL || o == OP_FLAGS) && (arg < 0 || arg >= fields)) {
      return bad_arguments(env, "row writer layout: field out of range");
    }
    if ((o == OP_ENDPOINT || o == OP_ENDPOINT_RUN) && (arg < IO_ENDPOINTS || arg >= IO_LEN)) {
      return bad_arguments(env, "row writer layout: endpoint slot out of range");
    }
    if (o == OP_ENDPOINT_RUN && (arg2 < 0 || arg2 >= MAX_RUNS)) return bad_arguments(env, "row writer layout: run out of range");
  }
  free_layout(w);
  w->prefix = malloc(prefix_len ? prefix_len : 1);
  w->prefix_start = malloc(starts_len * sizeof(int32_t));
  w->ops = malloc(ops_len * sizeof(int32_t));
  if (!w->prefix || !w->prefix_start || !w->ops) {
    free_layout(w);
    return bad_arguments(env, "row writer layout: out of memory");
  }
  memcpy(w->prefix, prefix, prefix_len);
  memcpy(w->prefix_start, prefix_start, starts_len * sizeof(int32_t));
  memcpy(w->ops, ops, ops_len * sizeof(int32_t));
  w->cols = cols;
  w->fields = fields;
  w->style = style;
  return undefined_value(env);
}

/* piece(kind, index, bytes): a protocol name, tcp-flags names, an endpoint's JSON or cells, as asked for by NEED_PIECE. */
static napi_value bind_piece(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  Writer *w = writer_of(env, info, &argc, argv);
  int32_t kind, index;
  void *data;
  size_t len;
  if (argc < 3 || napi_get_value_int32(env, argv[0], &kind) != napi_ok || napi_get_value_int32(env, argv[1], &index) != napi_ok ||
      !typed(env, argv[2], &data, &len) || kind < 0 || kind >= PIECE_KINDS || index < 0 || len > UINT32_MAX) {
    return bad_arguments(env, "row writer piece: bad arguments");
  }
  Pieces *pieces = &w->pieces[kind];
  if ((size_t)index >= pieces->len) {
    size_t len2 = pieces->len ? pieces->len : 64;
    while (len2 <= (size_t)index) len2 *= 2;
    Piece *items = realloc(pieces->items, len2 * sizeof(Piece));
    if (!items) return bad_arguments(env, "row writer piece: out of memory");
    memset(items + pieces->len, 0, (len2 - pieces->len) * sizeof(Piece));
    pieces->items = items;
    pieces->len = len2;
  }
  uint8_t *copy = malloc(len ? len : 1);
  if (!copy) return bad_arguments(env, "row writer piece: out of memory");
  memcpy(copy, data, len);
  free(pieces->items[index].bytes);
  pieces->items[index].bytes = copy;
  pieces->items[index].len = (uint32_t)len;
  return undefined_value(env);
}

static inline const Piece *piece(const Writer *w, int kind, int64_t index) {
  const Pieces *pieces = &w->pieces[kind];
  if (index < 0 || (size_t)index >= pieces->len || pieces->items[index].bytes == NULL) return NULL;
  return &pieces->items[index];
}

/* Asks the JavaScript side for a piece; the call is then made again. */
static inline int32_t need(Writer *w, int kind, int32_t index) {
  w->io[IO_NEED_KIND] = kind;
  w->io[IO_NEED_INDEX] = index;
  return NEED_PIECE;
}

/*
 * Copies len bytes with fixed-size moves that may overlap: keys and tokens are 2-25 bytes, where a call to memcpy
 * (with its size dispatch) took most of this file's time (perf). Never reads or writes outside [0, len).
 */
static inline void copy_bytes(uint8_t *dst, const uint8_t *src, size_t len) {
  if (len >= 16) {
    if (len > 64) {
      memcpy(dst, src, len);
      return;
    }
    size_t k = 0;
    for (; k + 16 < len; k += 16) memcpy(dst + k, src + k, 16);
    memcpy(dst + len - 16, src + len - 16, 16);
  } else if (len >= 8) {
    uint64_t a, b;
    memcpy(&a, src, 8);
    memcpy(&b, src + len - 8, 8);
    memcpy(dst, &a, 8);
    memcpy(dst + len - 8, &b, 8);
  } else if (len >= 4) {
    uint32_t a, b;
    memcpy(&a, src, 4);
    memcpy(&b, src + len - 4, 4);
    memcpy(dst, &a, 4);
    memcpy(dst + len - 4, &b, 4);
  } else {
    for (size_t k = 0; k < len; k++) dst[k] = src[k];
  }
}

/*
 * Whether [s, e) is written as it is: printable ASCII other than `"` and, for JSON, `\` (escaped) or, for CSV, `,`
 * (quoted).
 */
static inline int plain_text(const uint8_t *b, int32_t s, int32_t e, uint8_t special) {
  for (int32_t k = s; k < e; k++) {
    uint8_t c = b[k];
    if (c < 0x20 || c > 0x7e || c == '"' || c == special) return 0;
  }
  return 1;
}

/* Writes one record; returns the position after its line end, or DECLINED, NEED_ROOM or NEED_PIECE. */
static int32_t write_record(Writer *w) {
  const int csv = w->style == STYLE_CSV;
  /* null: JSON's `null`, CSV's empty cell (no bytes of it). */
  const uint8_t *null_value = NULL_JSON;
  const size_t null_len = csv ? 0 : 4;
  const int32_t *io = w->io;
  const int32_t row = io[IO_ROW];
  const int32_t n = w->fields;
  if (w->cols < 0 || w->out == NULL || row < 0 || (size_t)row + (size_t)n > w->slots) return DECLINED;
  const uint8_t *kinds = w->kinds + row;
  const int32_t *starts = w->starts + row;
  const int32_t *ends = w->ends + row;
  const double *numbers = w->numbers + row;
  const uint8_t *b = w->in;
  uint8_t *out = w->out;
  const size_t cap = w->out_len;
  size_t p = (size_t)io[IO_POS];
  for (int32_t c = 0; c < w->cols; c++) {
    const int32_t ps = w->prefix_start[c], pe = w->prefix_start[c + 1];
    const int32_t op = w->ops[3 * c], arg = w->ops[3 * c + 1];
    const uint8_t *value = NULL;
    size_t value_len = 0;
    int32_t s = 0, e = 0, quote = 0;
    switch (op) {
      case OP_FIELD: {
        s = starts[arg];
        e = ends[arg];
        /* Decoded tokens are never empty; anything else here is not a row this file understands. */
        if (s < 0 || e <= s || (size_t)e > w->in_len) return DECLINED;
        switch (kinds[arg]) {
          case K_NULL:
            value = null_value;
            value_len = null_len;
            break;
          case K_NUMBER:
            /* CSV prints the number: the same as its digits up to 15 of them, and not for a sign (-0). */
            if (csv && (e - s > 15 || b[s] == '-')) return DECLINED;
            if (b[s] == '0' && e - s > 1) {
              /* Leading zeros are not JSON: JavaScript prints the number, the digits without them while exact. */
              if (e - s > 15) return DECLINED;
              while (s < e - 1 && b[s] == '0') s++;
            }
            value = b + s;
            value_len = (size_t)(e - s);
            break;
          case K_IPV4:
          case K_IPV6:
            value = b + s;
            value_len = (size_t)(e - s);
            quote = !csv;
            break;
          default:
            if (!plain_text(b, s, e, csv ? ',' : '\\')) return DECLINED;
            value = b + s;
            value_len = (size_t)(e - s);
            quote = !csv;
        }
        break;
      }
      case OP_PROTOCOL:
      case OP_FLAGS: {
        if (kinds[arg] != K_NUMBER) {
          value = null_value;
          value_len = null_len;
          break;
        }
        const double v = numbers[arg];
        if (v >= 0 && v < 256) {
          const int kind = op == OP_PROTOCOL ? PIECE_PROTOCOL : PIECE_FLAGS;
          const Piece *known = piece(w, kind, (int64_t)v);
          if (!known) return need(w, kind, (int32_t)v);
          value = known->bytes;
          value_len = known->len;
        } else if (op == OP_PROTOCOL) {
          /* No protocol has a name past 255; tcp-flags past 255 are named by JavaScript. */
          value = null_value;
          value_len = null_len;
        } else {
          return DECLINED;
        }
        break;
      }
      case OP_ENDPOINT: {
        const int32_t id = io[arg];
        if (id < 0) {
          value = NULL_JSON;
          value_len = 4;
        } else {
          const Piece *known = piece(w, PIECE_ENDPOINT, id);
          if (!known) return need(w, PIECE_ENDPOINT, id);
          value = known->bytes;
          value_len = known->len;
        }
        break;
      }
      case OP_ENDPOINT_RUN: {
        /* The run's cells of this endpoint's values, or of none (piece 0), with their commas. */
        const int kind = PIECE_RUNS + w->ops[3 * c + 2];
        const int32_t index = io[arg] < 0 ? 0 : io[arg] + 1;
        const Piece *known = piece(w, kind, index);
        if (!known) return need(w, kind, index);
        value = known->bytes;
        value_len = known->len;
        break;
      }
      case OP_DIRECTION:
        if (io[IO_DIRECTION] == 1 || io[IO_DIRECTION] == 2) {
          /* Quoted in JSON; CSV takes the same bytes without their quotes. */
          value = io[IO_DIRECTION] == 1 ? INGRESS_JSON : EGRESS_JSON;
          value_len = io[IO_DIRECTION] == 1 ? 9 : 8;
          if (csv) {
            value++;
            value_len -= 2;
          }
        } else {
          value = null_value;
          value_len = null_len;
        }
        break;
      default:
        value = null_value;
        value_len = null_len;
    }
    const size_t prefix_len = (size_t)(pe - ps);
    if (p + prefix_len + value_len + 4 > cap) return NEED_ROOM;
    copy_bytes(out + p, w->prefix + ps, prefix_len);
    p += prefix_len;
    if (quote) out[p++] = '"';
    copy_bytes(out + p, value, value_len);
    p += value_len;
    if (quote) out[p++] = '"';
  }
  if (p + 3 > cap || p + 3 > INT32_MAX) return NEED_ROOM;
  if (csv) {
    out[p++] = '\r';
  } else {
    if (w->cols == 0) out[p++] = '{';
    out[p++] = '}';
  }
  out[p++] = '\n';
  return (int32_t)p;
}

/* record(): writes the record in the bound rows at io[IO_ROW], from io[IO_POS]; see write_record. */
static napi_value write_one(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  Writer *w = writer_of(env, info, &argc, NULL);
  napi_value result;
  napi_create_int32(env, write_record(w), &result);
  return result;
}

/* Each method holds its object (`owner`), so the Writer it points to lives as long as any of them. */
static int add_method(napi_env env, napi_value obj, const char *name, napi_callback cb, Writer *w) {
  napi_value fn;
  return napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, w, &fn) == napi_ok &&
         napi_set_named_property(env, fn, "owner", obj) == napi_ok && napi_set_named_property(env, obj, name, fn) == napi_ok;
}

/* rowWriter(io: Int32Array(16)) -> { input, rows, output, layout, piece, record }, all bound to one new Writer. */
napi_value create_row_writer(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *io;
  size_t io_len;
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  if (argc < 1 || napi_get_typedarray_info(env, argv[0], &type, &io_len, &io, &buffer, &offset) != napi_ok ||
      type != napi_int32_array || io_len < IO_LEN) {
    return bad_arguments(env, "rowWriter: an Int32Array(16) expected");
  }
  Writer *w = calloc(1, sizeof(Writer));
  if (!w) return bad_arguments(env, "rowWriter: out of memory");
  w->io = io;
  w->cols = -1;
  napi_value obj;
  napi_create_object(env, &obj);
  if (napi_wrap(env, obj, w, finalize_writer, NULL, NULL) != napi_ok) {
    free(w);
    return bad_arguments(env, "rowWriter: cannot wrap");
  }
  /* The object keeps `io` alive as long as the Writer points into it. */
  napi_set_named_property(env, obj, "io", argv[0]);
  if (!add_method(env, obj, "input", bind_input, w) || !add_method(env, obj, "rows", bind_rows, w) ||
      !add_method(env, obj, "output", bind_output, w) || !add_method(env, obj, "layout", bind_layout, w) ||
      !add_method(env, obj, "piece", bind_piece, w) || !add_method(env, obj, "record", write_one, w)) {
    return bad_arguments(env, "rowWriter: cannot make its methods");
  }
  return obj;
}
