/*
 * The producer's hot loop in WebAssembly: one MySQL text-protocol row packet
 * (length-coded values, 0xFB for NULL) to one LOAD DATA row (docs/format.md,
 * "Data pieces"). The same bytes as RowEncoder.addPacket in ../tsv.ts, which
 * stays the reference: test/format/tsv-wasm.test.ts compares the two.
 *
 * Why WebAssembly: every byte of the database passes through here, and a
 * value is copied 16 bytes at a time, with a 16-byte compare finding the few
 * bytes that need a backslash, instead of byte by byte in JavaScript.
 *
 * Memory contract (src/archive/tsv-wasm.ts keeps it): 16 bytes after the
 * packet may be read, and 16 bytes after the worst-case output may be
 * written, so that short values need no scalar tail.
 *
 * Build: npm run build:wasm (clang, wasm32, SIMD128); the result is checked
 * in as tsv-encode.wasm so that installing needs no compiler.
 */
#include <stdint.h>
#include <wasm_simd128.h>

typedef uint8_t u8;
typedef uint32_t u32;

/* What follows the backslash for each byte that needs one; 0 for the rest. */
static const u8 ESCAPE_AS[256] = {[0x5c] = 0x5c, [0x09] = 't', [0x0a] = 'n', [0x0d] = 'r', [0x00] = '0', [0x1a] = 'Z'};

/* Lanes that may need escaping: bytes up to 0x1A, and the backslash. */
static inline u32 candidates(v128_t v) {
  v128_t low = wasm_u8x16_le(v, wasm_u8x16_splat(0x1a));
  v128_t bs = wasm_i8x16_eq(v, wasm_i8x16_splat(0x5c));
  return (u32)wasm_i8x16_bitmask(wasm_v128_or(low, bs));
}

static inline u8 *copy_escaped(const u8 *s, u32 n, u8 *o) {
  while (n > 0) {
    v128_t v = wasm_v128_load(s);
    u32 take = n < 16 ? n : 16;
    u32 bits = candidates(v);
    if (take < 16) bits &= (1u << take) - 1;
    wasm_v128_store(o, v);
    if (bits == 0) {
      s += take;
      o += take;
      n -= take;
      continue;
    }
    u32 k = (u32)__builtin_ctz(bits);
    s += k;
    o += k;
    n -= k;
    u8 b = *s++;
    n--;
    u8 e = ESCAPE_AS[b];
    if (e) {
      o[0] = 0x5c;
      o[1] = e;
      o += 2;
    } else {
      *o++ = b;
    }
  }
  return o;
}

/*
 * Encodes the packet at src[0..len) to out; returns the bytes written, or -1
 * if the packet is shorter than its values say.
 */
__attribute__((export_name("encode_row"))) int32_t encode_row(const u8 *src, u32 len, u8 *out) {
  const u8 *p = src;
  const u8 *end = src + len;
  u8 *o = out;
  while (p < end) {
    if (p != src) *o++ = 0x09;
    u32 n = *p++;
    if (n == 0xfb) {
      o[0] = 0x5c;
      o[1] = 'N';
      o += 2;
      continue;
    }
    if (n >= 0xfc) {
      u32 width = n == 0xfc ? 2 : n == 0xfd ? 3 : 8;
      if ((u32)(end - p) < width) return -1;
      n = (u32)p[0] | ((u32)p[1] << 8);
      if (width >= 3) n |= (u32)p[2] << 16;
      if (width == 8) {
        /* 4 GiB or more cannot be in a packet held in 32-bit memory. */
        if (p[4] | p[5] | p[6] | p[7]) return -1;
        n |= (u32)p[3] << 24;
      }
      p += width;
    }
    if ((u32)(end - p) < n) return -1;
    o = copy_escaped(p, n, o);
    p += n;
  }
  *o++ = 0x0a;
  return (int32_t)(o - out);
}
