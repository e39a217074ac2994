/*
 * The one-pass decode of FlowDecoder.decodeInOnePass (src/decode/flow-decoder.ts), in C, for many lines per call.
 * Registered by addon.c as `decodeLines`.
 *
 * Why native: the JavaScript decoder spends ~2.3 ns per input byte (about 270 ms per 1M default-format lines) in
 * per-byte loops; this file finds token ends 16 bytes at a time and parses up to 8 digits at once, and takes about
 * a third of that (bench/PROFILE.md). WebAssembly was tried first and was no faster than the JavaScript.
 *
 * It only decodes what the JavaScript one-pass path would accept, with the same result: a line that does not fit
 * the layout exactly (a header, a reject, a blank or over-long line, a line without its newline yet) stops the
 * batch, and the caller hands that line to the JavaScript decoder, which decides what it is. So the two agree by
 * construction on everything this file declines; test/native-decoder.test.ts checks they agree on what it takes.
 */
#include "addon.h"
#include <stdint.h>
#include <string.h>
/* SSE2 is part of every x86-64 CPU; other CPUs (and compilers without __builtin_ctz) take the byte loop. */
#if defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__)) && !defined(VPCFLOW_NO_SIMD)
#include <emmintrin.h>
#define HAVE_SSE2 1
#endif

/* Field types, as FlowDecoder's plan numbers them. */
enum { T_INT = 0, T_COUNT = 1, T_IP = 2, T_ENUM = 3, T_STRING = 4 };
/* Slot kinds, as src/decode/record.ts numbers them. */
enum { K_NULL = 0, K_NUMBER = 1, K_TEXT = 2, K_IPV4 = 3, K_IPV6 = 4 };

static inline int is_sep(uint8_t c) { return c == ' ' || c == '\t'; }

/* End of the token starting at i: the first space, tab or newline at or after i, or `to` when there is none. */
static inline int32_t token_end(const uint8_t *b, int32_t i, int32_t to) {
#ifdef HAVE_SSE2
  const __m128i sp = _mm_set1_epi8(' '), tab = _mm_set1_epi8('\t'), nl = _mm_set1_epi8('\n');
  while (i + 16 <= to) {
    __m128i v = _mm_loadu_si128((const __m128i *)(b + i));
    unsigned m = (unsigned)_mm_movemask_epi8(
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, sp), _mm_cmpeq_epi8(v, tab)), _mm_cmpeq_epi8(v, nl)));
    if (m) return i + __builtin_ctz(m);
    i += 16;
  }
#endif
  while (i < to && !is_sep(b[i]) && b[i] != '\n') i++;
  return i;
}

/* 1 to 8 ASCII digits at p as a number, or -1; `room` says whether 8 bytes may be read at p. */
static inline int64_t parse_digits8(const uint8_t *p, int32_t len, int room) {
  uint64_t x = 0;
  if (room) memcpy(&x, p, 8);
  else memcpy(&x, p, (size_t)len);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  x = __builtin_bswap64(x);
#endif
  uint64_t t = x ^ 0x3030303030303030ULL;
  uint64_t valid = len == 8 ? ~0ULL : ((1ULL << (8 * len)) - 1);
  /* Every byte of the token must be 0-9: no high nibble, and no carry into it when 6 is added. */
  if ((((t & 0xF0F0F0F0F0F0F0F0ULL) | ((t + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL)) & valid) != 0) return -1;
  /* Shifted so the missing leading digits are zeros, then combined in pairs, fours and eights. */
  t = (t & valid) << (8 * (8 - len));
  t = ((t * 10) + (t >> 8)) & 0x00FF00FF00FF00FFULL;
  t = ((t * 100) + (t >> 16)) & 0x0000FFFF0000FFFFULL;
  t = ((t * 10000) + (t >> 32)) & 0xFFFFFFFFULL;
  return (int64_t)t;
}

/* As parseIPv4 in src/decode/bytes.ts. */
static double parse_ipv4(const uint8_t *b, int32_t s, int32_t e) {
  double acc = 0;
  int part = 0, digits = 0, dots = 0;
  for (int32_t i = s; i < e; i++) {
    uint8_t c = b[i];
    if (c >= '0' && c <= '9') {
      part = part * 10 + (c - '0');
      if (++digits > 3 || part > 255) return -1;
    } else if (c == '.') {
      if (digits == 0 || ++dots > 3) return -1;
      acc = acc * 256 + part;
      part = 0;
      digits = 0;
    } else {
      return -1;
    }
  }
  if (dots != 3 || digits == 0) return -1;
  return acc * 256 + part;
}

#ifdef HAVE_SSE2
/* One octet of 1 to 3 digits at p (checked by the caller); reads p[0..2] whatever its length. */
static inline uint32_t octet(const uint8_t *p, int32_t len) {
  const uint32_t c0 = p[0] - '0', c1 = p[1] - '0', c2 = p[2] - '0';
  const uint32_t two = c0 * 10 + c1, three = c0 * 100 + c1 * 10 + c2;
  return len == 1 ? c0 : len == 2 ? two : three;
}

/*
 * As parse_ipv4, for a token of at most 15 bytes with 16 bytes readable at s: its dots and digits found in one
 * 16-byte compare, then each octet read whole. The loop of parse_ipv4 branches on every character, and octets of
 * 1, 2 or 3 digits made those branches mispredict several times an address (bench/PROFILE.md).
 */
static inline double parse_ipv4_16(const uint8_t *b, int32_t s, int32_t e) {
  const int32_t len = e - s;
  if (len < 7) return -1;
  const __m128i v = _mm_loadu_si128((const __m128i *)(b + s));
  const unsigned in = (1u << len) - 1;
  unsigned dots = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('.'))) & in;
  /* A digit is a byte whose distance above '0' is at most 9 (unsigned). */
  const __m128i above = _mm_sub_epi8(v, _mm_set1_epi8('0'));
  const __m128i nine = _mm_set1_epi8(9);
  const unsigned digits = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(above, nine), nine)) & in;
  if ((dots | digits) != in || __builtin_popcount(dots) != 3) return -1;
  const int32_t d1 = __builtin_ctz(dots);
  dots &= dots - 1;
  const int32_t d2 = __builtin_ctz(dots);
  dots &= dots - 1;
  const int32_t d3 = __builtin_ctz(dots);
  const int32_t l0 = d1, l1 = d2 - d1 - 1, l2 = d3 - d2 - 1, l3 = len - d3 - 1;
  if ((unsigned)(l0 - 1) > 2 || (unsigned)(l1 - 1) > 2 || (unsigned)(l2 - 1) > 2 || (unsigned)(l3 - 1) > 2) return -1;
  const uint8_t *p = b + s;
  const uint32_t o0 = octet(p, l0), o1 = octet(p + d1 + 1, l1), o2 = octet(p + d2 + 1, l2), o3 = octet(p + d3 + 1, l3);
  /* Each is below 1000 (10 bits): one above 255 sets a bit from 8 up in the OR. */
  if ((o0 | o1 | o2 | o3) > 255) return -1;
  return (double)((o0 << 24) | (o1 << 16) | (o2 << 8) | o3);
}
#endif

static inline int is_hex(uint8_t c) { return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }

/* As isIPv6 in src/decode/bytes.ts. */
static int is_ipv6(const uint8_t *b, int32_t start, int32_t end) {
  int32_t len = end - start;
  if (len < 2 || len > 45) return 0;
  int32_t i = start;
  int groups = 0, compressed = 0;
  if (b[i] == ':') {
    if (b[i + 1] != ':') return 0;
    compressed = 1;
    i += 2;
    if (i == end) return 1;
  }
  for (;;) {
    int32_t group_start = i;
    while (i < end && is_hex(b[i])) i++;
    if (i < end && b[i] == '.') {
      if (parse_ipv4(b, group_start, end) < 0) return 0;
      groups += 2;
      break;
    }
    int32_t group_len = i - group_start;
    if (group_len == 0 || group_len > 4) return 0;
    groups++;
    if (i == end) break;
    if (b[i] != ':') return 0;
    i++;
    if (i == end) return 0;
    if (b[i] == ':') {
      if (compressed) return 0;
      compressed = 1;
      i++;
      if (i == end) break;
    }
  }
  return compressed ? groups <= 7 : groups == 8;
}

typedef struct {
  const uint8_t *types;
  int32_t n;
  /* Per field: where its known values start in `enum_bytes` ([count, (length, bytes)...]), or -1. */
  const int32_t *enum_at;
  const uint8_t *enum_bytes;
} Plan;

/* The index of the known value equal to b[s, e), or -1. */
static double enum_index(const Plan *plan, int32_t f, const uint8_t *b, int32_t s, int32_t e) {
  int32_t at = plan->enum_at[f];
  if (at < 0) return -1;
  const uint8_t *p = plan->enum_bytes + at;
  int count = *p++;
  for (int k = 0; k < count; k++) {
    int len = *p++;
    if (len == e - s && memcmp(p, b + s, (size_t)len) == 0) return k;
    p += len;
  }
  return -1;
}

/* The value of field f, the token b[start, e), into its slots; 0, or -1 when this file does not take it. */
static inline int decode_field(const Plan *plan, int32_t f, const uint8_t *b, int32_t start, int32_t e, int32_t to,
                               uint8_t *kinds, double *numbers) {
  const int32_t len = e - start;
  if (len == 1 && b[start] == '-') {
    kinds[f] = K_NULL;
    return 0;
  }
  switch (plan->types[f]) {
    case T_INT:
    case T_COUNT: {
      double v;
      if (len <= 8) {
        int64_t x = parse_digits8(b + start, len, start + 8 <= to);
        if (x < 0) return -1;
        v = (double)x;
      } else if (len <= 15) {
        int32_t head = len - 8;
        int64_t hi = parse_digits8(b + start, head, start + 8 <= to);
        int64_t lo = parse_digits8(b + start + head, 8, start + head + 8 <= to);
        if (hi < 0 || lo < 0) return -1;
        v = (double)hi * 1e8 + (double)lo;
      } else {
        return -1;
      }
      if (plan->types[f] == T_INT && v > 2147483647.0) return -1;
      kinds[f] = K_NUMBER;
      numbers[f] = v;
      return 0;
    }
    case T_IP: {
#ifdef HAVE_SSE2
      /* The last octet of a 13-15 byte address ends at most 2 bytes before the 16 read; see octet(). */
      double v = len <= 15 && start + 16 <= to ? parse_ipv4_16(b, start, e) : parse_ipv4(b, start, e);
#else
      double v = parse_ipv4(b, start, e);
#endif
      if (v >= 0) {
        kinds[f] = K_IPV4;
        numbers[f] = v;
      } else if (is_ipv6(b, start, e)) {
        kinds[f] = K_IPV6;
      } else {
        return -1;
      }
      return 0;
    }
    case T_ENUM:
      kinds[f] = K_TEXT;
      numbers[f] = enum_index(plan, f, b, start, e);
      return 0;
    default:
      kinds[f] = K_TEXT;
      return 0;
  }
}

/* A line whose first token starts so is blank (CR LF) or a header line, maybe: the JavaScript decoder decides. */
static inline int not_a_record_start(uint8_t c) { return c == '\r' || (c >= 'a' && c <= 'z'); }

/*
 * Decodes the line starting at `ls` into row slots. Returns the position of its newline, or -1 when the line is
 * not one this file takes (the caller stops there).
 */
static int32_t decode_line(const Plan *plan, const uint8_t *b, int32_t ls, int32_t to, uint8_t *kinds, int32_t *starts,
                           int32_t *ends, double *numbers) {
  const int32_t n = plan->n;
  int32_t i = ls;
  while (i < to && is_sep(b[i])) i++;
  if (i >= to || b[i] == '\n' || not_a_record_start(b[i])) return -1;
  for (int32_t f = 0; f < n; f++) {
    while (i < to && is_sep(b[i])) i++;
    if (i >= to || b[i] == '\n') return -1;
    const int32_t start = i;
    int32_t e = token_end(b, i, to);
    if (e >= to) return -1;
    i = e;
    /* A carriage return ending the line is not part of its last token. */
    if (b[e] == '\n' && b[e - 1] == '\r') e--;
    if (e == start) return -1;
    starts[f] = start;
    ends[f] = e;
    if (decode_field(plan, f, b, start, e, to, kinds, numbers) < 0) return -1;
  }
  while (i < to && is_sep(b[i])) i++;
  if (i < to && b[i] == '\r') i++;
  if (i >= to || b[i] != '\n') return -1;
  return i;
}

#ifdef HAVE_SSE2
/* Bytes of a line decode_line_128 takes: the usual flow-log line is 80-160 bytes. */
#define SHORT_LINE 128

/* The first set bit of the 128-bit mask (lo, hi) at or after bit i (0 <= i <= 128), or 128. */
static inline int32_t next_bit(uint64_t lo, uint64_t hi, int32_t i) {
  if (i < 64) {
    const uint64_t x = lo >> i;
    if (x) return i + __builtin_ctzll(x);
    i = 64;
  }
  if (i >= 128) return 128;
  const uint64_t x = hi >> (i - 64);
  return x ? i + __builtin_ctzll(x) : 128;
}

/*
 * As decode_line, for a line whose newline is among the SHORT_LINE bytes at ls (all readable): its separators and
 * newlines are found for the whole line at once, 16 bytes per compare, and each token's ends are the next bits of
 * those masks, instead of a 16-byte search and a skip loop per token. With parse_ipv4_16: decoding 1M lines held in
 * memory, 164 -> 154 ms (medians, 6 interleaved runs).
 * Returns the newline's position, -1 when the line is not one this file takes, or -2 when its newline is further
 * (decode_line then decides).
 */
static int32_t decode_line_128(const Plan *plan, const uint8_t *b, int32_t ls, int32_t to, uint8_t *kinds,
                               int32_t *starts, int32_t *ends, double *numbers) {
  const __m128i sp = _mm_set1_epi8(' '), tab = _mm_set1_epi8('\t'), lf = _mm_set1_epi8('\n');
  /* Bit k: byte ls + k. `stops` are separators and newlines, `words` every other byte. */
  uint64_t stops[2] = { 0, 0 }, nl[2] = { 0, 0 };
  for (int w = 0; w < 2; w++) {
    for (int k = 0; k < 4; k++) {
      const __m128i v = _mm_loadu_si128((const __m128i *)(b + ls + 64 * w + 16 * k));
      const __m128i lfs = _mm_cmpeq_epi8(v, lf);
      stops[w] |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, sp), _mm_cmpeq_epi8(v, tab)), lfs)) << (16 * k);
      nl[w] |= (uint64_t)(unsigned)_mm_movemask_epi8(lfs) << (16 * k);
    }
  }
  const int32_t end = next_bit(nl[0], nl[1], 0);
  if (end >= SHORT_LINE) return -2;
  const uint64_t stops0 = stops[0], stops1 = stops[1], words0 = ~stops0, words1 = ~stops1;
  int32_t i = next_bit(words0, words1, 0);
  if (i >= end || not_a_record_start(b[ls + i])) return -1;
  const int32_t n = plan->n;
  for (int32_t f = 0; f < n; f++) {
    i = next_bit(words0, words1, i);
    if (i >= end) return -1;
    int32_t e = next_bit(stops0, stops1, i);
    const int32_t start = ls + i;
    i = e;
    e += ls;
    /* A carriage return ending the line is not part of its last token. */
    if (i == end && b[e - 1] == '\r') e--;
    if (e == start) return -1;
    starts[f] = start;
    ends[f] = e;
    if (decode_field(plan, f, b, start, e, to, kinds, numbers) < 0) return -1;
  }
  /* Nothing but separators up to the newline, and a carriage return just before it. */
  i = next_bit(words0, words1, i);
  if (i < end && b[ls + i] == '\r') i++;
  if (i < end) return -1;
  return ls + end;
}
#endif

/*
 * decodeLines(chunk, from, maxLineBytes, types, enumAt, enumBytes, kinds, starts, ends, numbers, next)
 *   -> rows decoded; next[0] is the position after the last decoded line's newline.
 * Row r of a layout of n fields is slots [r*n, r*n+n) of kinds/starts/ends/numbers; as many rows as fit in them.
 */
napi_value decode_lines(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 11) {
    napi_throw_type_error(env, NULL, "decodeLines: 11 arguments expected");
    return NULL;
  }
  uint8_t *chunk, *types, *enum_bytes, *kinds;
  int32_t *enum_at, *starts, *ends, *next;
  double *numbers;
  size_t chunk_len, n, enum_at_len, enum_bytes_len, kinds_len, starts_len, ends_len, numbers_len, next_len;
  int32_t from, max_line;
  if (!typed(env, argv[0], (void **)&chunk, &chunk_len) || napi_get_value_int32(env, argv[1], &from) != napi_ok ||
      napi_get_value_int32(env, argv[2], &max_line) != napi_ok || !typed(env, argv[3], (void **)&types, &n) ||
      !typed(env, argv[4], (void **)&enum_at, &enum_at_len) || !typed(env, argv[5], (void **)&enum_bytes, &enum_bytes_len) ||
      !typed(env, argv[6], (void **)&kinds, &kinds_len) || !typed(env, argv[7], (void **)&starts, &starts_len) ||
      !typed(env, argv[8], (void **)&ends, &ends_len) || !typed(env, argv[9], (void **)&numbers, &numbers_len) ||
      !typed(env, argv[10], (void **)&next, &next_len) || n == 0 || enum_at_len < n || next_len < 1 ||
      chunk_len > INT32_MAX || from < 0 || (size_t)from > chunk_len) {
    napi_throw_type_error(env, NULL, "decodeLines: bad arguments");
    return NULL;
  }
  size_t slots = kinds_len;
  if (starts_len < slots) slots = starts_len;
  if (ends_len < slots) slots = ends_len;
  if (numbers_len < slots) slots = numbers_len;
  const size_t max_rows = slots / n;
  const Plan plan = { types, (int32_t)n, enum_at, enum_bytes };
  const int32_t to = (int32_t)chunk_len;
  int32_t pos = from;
  size_t rows = 0;
  while (rows < max_rows) {
    size_t base = rows * n;
#ifdef HAVE_SSE2
    int32_t nl = pos + SHORT_LINE <= to ? decode_line_128(&plan, chunk, pos, to, kinds + base, starts + base, ends + base, numbers + base) : -2;
    if (nl == -2) nl = decode_line(&plan, chunk, pos, to, kinds + base, starts + base, ends + base, numbers + base);
#else
    int32_t nl = decode_line(&plan, chunk, pos, to, kinds + base, starts + base, ends + base, numbers + base);
#endif
    if (nl < 0 || nl - pos > max_line) break;
    pos = nl + 1;
    rows++;
  }
  next[0] = pos;
  napi_value result;
  napi_create_uint32(env, (uint32_t)rows, &result);
  return result;
}
