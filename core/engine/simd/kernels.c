// selfsup's training kernels for tfjs-backend-wasm, in C with WebAssembly SIMD (wasm_simd128.h).
//
// The module is instantiated on tfjs-backend-wasm's own memory (imported, shared when tfjs runs its
// threaded build), so kernels read and write tfjs tensors in place: every pointer below is a byte
// offset into that memory. It owns no memory of its own: no data, no stack, no globals (build.sh
// checks), so nothing it does can clobber tfjs's heap. Scratch space comes from tfjs's malloc.
//
// Every exported kernel takes (tid, nth) first and does share `tid` of `nth` of the work; the
// JavaScript side (simd-kernels.ts) calls it once per thread, on the main thread and on workers that
// instantiate this same module on the same memory, and returns when all shares are done.
// Build: bash core/engine/simd/build.sh (clang + wasm-ld with the wasm32 target).

#include <wasm_simd128.h>

typedef float f32;

#define EXPORT(name) __attribute__((export_name(#name)))

static inline int share_begin(int n, int tid, int nth) { return (int)((long long)n * tid / nth); }

// ---------------------------------------------------------------------------------------------
// Conv2DBackpropFilter, NHWC:
//   dW[kh, kw, ci, co] = sum_{b, oh, ow} x[b, oh*SH + kh*DH - PT, ow*SW + kw*DW - PL, ci] * dy[b, oh, ow, co]
// = A^T D, with D = dy as [P, CO] (P = B*OH*OW output positions) and A = im2col(x) as [P, K],
// K = KH*KW*CI in (kh, kw, ci) order: the rows of dW in tfjs's [KH, KW, CI, CO] layout.
// Each thread takes a contiguous range of positions, im2cols `chunk` of them at a time into its
// own column buffer (cols + tid*chunk*K) and accumulates A^T D into its own partial dW
// (parts + tid*K*CO). conv_sum_parts then adds the partials into dW.
// ---------------------------------------------------------------------------------------------

typedef struct {
  int B, H, W, CI, OH, OW, CO, KH, KW, SH, SW, DH, DW, PT, PL;
} ConvShape;

// the convolution kernels' shape parameters (in ConvShape's order: conv-args.ts passes them so)
#define CONV_SHAPE_PARAMS int B, int H, int W, int CI, int OH, int OW, int CO, int KH, int KW, \
                          int SH, int SW, int DH, int DW, int PT, int PL
#define CONV_SHAPE {B, H, W, CI, OH, OW, CO, KH, KW, SH, SW, DH, DW, PT, PL}

// im2col rows for positions [p0, p0 + n) into A [n, K]; zero where the tap falls in the padding.
// Always inlined: the shape struct must stay in registers (the module has no stack of its own)
static inline __attribute__((always_inline)) void im2col(const f32 *x, f32 *A, int p0, int n, const ConvShape *s) {
  const int K = s->KH * s->KW * s->CI, CI = s->CI;
  int ow = p0 % s->OW, t = p0 / s->OW, oh = t % s->OH, b = t / s->OH;
  for (int q = 0; q < n; q++) {
    f32 *row = A + (long)q * K;
    for (int kh = 0; kh < s->KH; kh++) {
      const int ih = oh * s->SH + kh * s->DH - s->PT;
      for (int kw = 0; kw < s->KW; kw++) {
        const int iw = ow * s->SW + kw * s->DW - s->PL;
        f32 *dst = row + (kh * s->KW + kw) * CI;
        if (ih < 0 || ih >= s->H || iw < 0 || iw >= s->W) {
          for (int c = 0; c < CI; c++) dst[c] = 0.f;
        } else {
          const f32 *src = x + (((long)b * s->H + ih) * s->W + iw) * CI;
          int c = 0;
          for (; c + 4 <= CI; c += 4) wasm_v128_store(dst + c, wasm_v128_load(src + c));
          for (; c < CI; c++) dst[c] = src[c];
        }
      }
    }
    if (++ow == s->OW) {
      ow = 0;
      if (++oh == s->OH) { oh = 0; b++; }
    }
  }
}

// G[K, CO] += A[n, K]^T D[n, CO] (D's rows CO apart): 4 rows of G x 8 columns in 8 registers;
// called per block of positions, whose sum is formed from zero and then added to G
static void gemm_tn_acc(const f32 *A, int K, const f32 *D, int CO, int n, f32 *G) {
  int k = 0;
  for (; k + 4 <= K; k += 4) {
    int c = 0;
    for (; c + 8 <= CO; c += 8) {
      f32 *g0 = G + (long)k * CO + c, *g1 = g0 + CO, *g2 = g1 + CO, *g3 = g2 + CO;
      // the block's sum starts at zero and is added to G at the end (blocked float32 summation)
      v128_t a00 = wasm_f32x4_splat(0.f), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
      const f32 *a = A + k, *d = D + c;
      for (int p = 0; p < n; p++, a += K, d += CO) {
        const v128_t d0 = wasm_v128_load(d), d1 = wasm_v128_load(d + 4);
        v128_t s = wasm_v128_load32_splat(a);
        a00 = wasm_f32x4_add(a00, wasm_f32x4_mul(s, d0));
        a01 = wasm_f32x4_add(a01, wasm_f32x4_mul(s, d1));
        s = wasm_v128_load32_splat(a + 1);
        a10 = wasm_f32x4_add(a10, wasm_f32x4_mul(s, d0));
        a11 = wasm_f32x4_add(a11, wasm_f32x4_mul(s, d1));
        s = wasm_v128_load32_splat(a + 2);
        a20 = wasm_f32x4_add(a20, wasm_f32x4_mul(s, d0));
        a21 = wasm_f32x4_add(a21, wasm_f32x4_mul(s, d1));
        s = wasm_v128_load32_splat(a + 3);
        a30 = wasm_f32x4_add(a30, wasm_f32x4_mul(s, d0));
        a31 = wasm_f32x4_add(a31, wasm_f32x4_mul(s, d1));
      }
#define ADD_STORE(g, a) wasm_v128_store(g, wasm_f32x4_add(wasm_v128_load(g), a))
      ADD_STORE(g0, a00); ADD_STORE(g0 + 4, a01);
      ADD_STORE(g1, a10); ADD_STORE(g1 + 4, a11);
      ADD_STORE(g2, a20); ADD_STORE(g2 + 4, a21);
      ADD_STORE(g3, a30); ADD_STORE(g3 + 4, a31);
#undef ADD_STORE
    }
    for (; c < CO; c++) {
      f32 s0 = 0.f, s1 = 0.f, s2 = 0.f, s3 = 0.f;
      const f32 *a = A + k;
      for (int p = 0; p < n; p++, a += K) {
        const f32 dv = D[(long)p * CO + c];
        s0 += a[0] * dv; s1 += a[1] * dv; s2 += a[2] * dv; s3 += a[3] * dv;
      }
      G[(long)k * CO + c] += s0; G[(long)(k + 1) * CO + c] += s1;
      G[(long)(k + 2) * CO + c] += s2; G[(long)(k + 3) * CO + c] += s3;
    }
  }
  for (; k < K; k++) {
    int c = 0;
    f32 *g = G + (long)k * CO;
    for (; c + 4 <= CO; c += 4) {
      v128_t acc = wasm_f32x4_splat(0.f);
      const f32 *a = A + k, *d = D + c;
      for (int p = 0; p < n; p++, a += K, d += CO) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load32_splat(a), wasm_v128_load(d)));
      wasm_v128_store(g + c, wasm_f32x4_add(wasm_v128_load(g + c), acc));
    }
    for (; c < CO; c++) {
      f32 acc = 0.f;
      for (int p = 0; p < n; p++) acc += A[(long)p * K + k] * D[(long)p * CO + c];
      g[c] += acc;
    }
  }
}

EXPORT(conv_filter_grad_part)
void conv_filter_grad_part(int tid, int nth, const f32 *x, const f32 *dy, f32 *parts, f32 *cols, int chunk, CONV_SHAPE_PARAMS) {
  const ConvShape s = CONV_SHAPE;
  const int K = KH * KW * CI, P = B * OH * OW;
  f32 *G = parts + (long)tid * K * CO;
  f32 *A = cols + (long)tid * chunk * K;
  for (long i = 0; i < (long)K * CO; i++) G[i] = 0.f;
  const int p1 = share_begin(P, tid + 1, nth);
  for (int p = share_begin(P, tid, nth); p < p1; p += chunk) {
    const int n = p1 - p < chunk ? p1 - p : chunk;
    im2col(x, A, p, n, &s);
    gemm_tn_acc(A, K, dy + (long)p * CO, CO, n, G);
  }
}

// out[i] = sum_j parts[j*len + i], i split between threads
EXPORT(sum_parts)
void sum_parts(int tid, int nth, const f32 *parts, int nparts, int len, f32 *out) {
  int i = share_begin(len / 4, tid, nth) * 4, i1 = share_begin(len / 4, tid + 1, nth) * 4;
  if (tid == nth - 1) i1 = len;
  for (; i + 4 <= i1; i += 4) {
    v128_t acc = wasm_v128_load(parts + i);
    for (int j = 1; j < nparts; j++) acc = wasm_f32x4_add(acc, wasm_v128_load(parts + (long)j * len + i));
    wasm_v128_store(out + i, acc);
  }
  for (; i < i1; i++) {
    f32 acc = parts[i];
    for (int j = 1; j < nparts; j++) acc += parts[(long)j * len + i];
    out[i] = acc;
  }
}

// ---------------------------------------------------------------------------------------------
// Batch normalisation in training mode over x [M, C] (channels last, M = batch x pixels). Rows are
// split between threads; per-channel partial sums go to parts + tid*C (or tid*2C), summed by
// sum_parts; the per-channel vectors between passes (mean, scale, ...) are computed by the caller.
// ---------------------------------------------------------------------------------------------

static inline v128_t relu_mask(const f32 *y, int i) {
  return wasm_f32x4_gt(wasm_v128_load(y + i), wasm_f32x4_splat(0.f));
}

// Sums over many rows are taken in blocks of BN_BLOCK rows (a block sum, then added to the
// thread's total), so float32 rounding grows with BN_BLOCK + rows / BN_BLOCK, not with rows.
#define BN_BLOCK 128

// dst[c] += src[c], c < n
static void add_into(f32 *dst, f32 *src, int n) {
  int c = 0;
  for (; c + 4 <= n; c += 4) wasm_v128_store(dst + c, wasm_f32x4_add(wasm_v128_load(dst + c), wasm_v128_load(src + c)));
  for (; c < n; c++) dst[c] += src[c];
}

// parts[tid] (C) = sum over the thread's rows of x, or of (x - mean)^2 when mean != 0;
// blk + tid*C is the thread's block accumulator
EXPORT(bn_sum_part)
void bn_sum_part(int tid, int nth, const f32 *x, int M, int C, const f32 *mean, f32 *parts, f32 *blk) {
  f32 *acc = parts + (long)tid * C, *b = blk + (long)tid * C;
  for (int c = 0; c < C; c++) acc[c] = 0.f;
  const int r1 = share_begin(M, tid + 1, nth);
  for (int r0 = share_begin(M, tid, nth); r0 < r1; r0 += BN_BLOCK) {
    const int re = r1 - r0 < BN_BLOCK ? r1 : r0 + BN_BLOCK;
    for (int c = 0; c < C; c++) b[c] = 0.f;
    for (int r = r0; r < re; r++) {
      const f32 *row = x + (long)r * C;
      int c = 0;
      if (mean) {
        for (; c + 4 <= C; c += 4) {
          const v128_t d = wasm_f32x4_sub(wasm_v128_load(row + c), wasm_v128_load(mean + c));
          wasm_v128_store(b + c, wasm_f32x4_add(wasm_v128_load(b + c), wasm_f32x4_mul(d, d)));
        }
        for (; c < C; c++) { const f32 d = row[c] - mean[c]; b[c] += d * d; }
      } else {
        for (; c + 4 <= C; c += 4) wasm_v128_store(b + c, wasm_f32x4_add(wasm_v128_load(b + c), wasm_v128_load(row + c)));
        for (; c < C; c++) b[c] += row[c];
      }
    }
    add_into(acc, b, C);
  }
}

// y = x * scale + shift, then max(y, 0) when relu
EXPORT(bn_apply)
void bn_apply(int tid, int nth, const f32 *x, int M, int C, const f32 *scale, const f32 *shift, int relu, f32 *y) {
  const int r1 = share_begin(M, tid + 1, nth);
  const v128_t zero = wasm_f32x4_splat(0.f);
  for (int r = share_begin(M, tid, nth); r < r1; r++) {
    const f32 *xr = x + (long)r * C;
    f32 *yr = y + (long)r * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      v128_t v = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(xr + c), wasm_v128_load(scale + c)), wasm_v128_load(shift + c));
      if (relu) v = wasm_f32x4_max(v, zero);
      wasm_v128_store(yr + c, v);
    }
    for (; c < C; c++) {
      const f32 v = xr[c] * scale[c] + shift[c];
      yr[c] = relu && v < 0.f ? 0.f : v;
    }
  }
}

// with d = dy (masked by y > 0 when y != 0) and xhat = (x - mean) * rstd:
// parts[tid] (2C) = [sum d, sum d * xhat] over the thread's rows; blk + tid*2C: block accumulator
EXPORT(bn_grad_part)
void bn_grad_part(int tid, int nth, const f32 *dy, const f32 *x, const f32 *y, int M, int C, const f32 *mean, const f32 *rstd, f32 *parts, f32 *blk) {
  f32 *acc = parts + (long)tid * 2 * C, *sd = blk + (long)tid * 2 * C, *sdx = sd + C;
  for (int c = 0; c < 2 * C; c++) acc[c] = 0.f;
  const int r1 = share_begin(M, tid + 1, nth);
  for (int r0 = share_begin(M, tid, nth); r0 < r1; r0 += BN_BLOCK) {
    const int re = r1 - r0 < BN_BLOCK ? r1 : r0 + BN_BLOCK;
    for (int c = 0; c < 2 * C; c++) sd[c] = 0.f;
    for (int r = r0; r < re; r++) {
      const long o = (long)r * C;
      int c = 0;
      for (; c + 4 <= C; c += 4) {
        v128_t d = wasm_v128_load(dy + o + c);
        if (y) d = wasm_v128_and(d, relu_mask(y + o, c));
        const v128_t xh = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(x + o + c), wasm_v128_load(mean + c)), wasm_v128_load(rstd + c));
        wasm_v128_store(sd + c, wasm_f32x4_add(wasm_v128_load(sd + c), d));
        wasm_v128_store(sdx + c, wasm_f32x4_add(wasm_v128_load(sdx + c), wasm_f32x4_mul(d, xh)));
      }
      for (; c < C; c++) {
        const f32 d = y && !(y[o + c] > 0.f) ? 0.f : dy[o + c];
        sd[c] += d;
        sdx[c] += d * (x[o + c] - mean[c]) * rstd[c];
      }
    }
    add_into(acc, sd, 2 * C);
  }
}

// dx = k1 * d + k3 * x + k0 (per-channel k's; d = dy masked by y > 0 when y != 0)
EXPORT(bn_grad_input)
void bn_grad_input(int tid, int nth, const f32 *dy, const f32 *x, const f32 *y, int M, int C, const f32 *k1, const f32 *k3, const f32 *k0, f32 *dx) {
  const int r1 = share_begin(M, tid + 1, nth);
  for (int r = share_begin(M, tid, nth); r < r1; r++) {
    const long o = (long)r * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      v128_t d = wasm_v128_load(dy + o + c);
      if (y) d = wasm_v128_and(d, relu_mask(y + o, c));
      const v128_t v = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(k1 + c), d), wasm_f32x4_mul(wasm_v128_load(k3 + c), wasm_v128_load(x + o + c))), wasm_v128_load(k0 + c));
      wasm_v128_store(dx + o + c, v);
    }
    for (; c < C; c++) {
      const f32 d = y && !(y[o + c] > 0.f) ? 0.f : dy[o + c];
      dx[o + c] = k1[c] * d + k3[c] * x[o + c] + k0[c];
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Conv2DBackpropInput, NHWC: dx = col2im(D Wt), with D = dy as [P, CO] and Wt the filter as
// [CO, K] (transposed by transpose_2d). Each thread takes whole images (their dx rows are its
// own), computes the columns of `chunk` positions at a time into its buffer (cols + tid*chunk*K),
// 4 positions x 8 columns in registers, and adds them into dx where each tap reads.
// ---------------------------------------------------------------------------------------------

// columns of A per pass of gemm_nn: the [CO, NN_BLOCK] panel of Wt it reads stays in L2 while
// every row of the block is formed (deep layers: Wt is MBs, and streaming it per 4 rows is slow)
#define NN_BLOCK 64

// A[n, K] = D[n, CO] Wt[CO, K] (D's rows CO apart), NN_BLOCK columns at a time
static void gemm_nn(const f32 *D, int CO, const f32 *Wt, int K, int n, f32 *A) {
  for (int k0 = 0; k0 < K; k0 += NN_BLOCK) {
    const int k1 = K - k0 < NN_BLOCK ? K : k0 + NN_BLOCK;
    int p = 0;
    for (; p + 4 <= n; p += 4) {
      const f32 *d0 = D + (long)p * CO, *d1 = d0 + CO, *d2 = d1 + CO, *d3 = d2 + CO;
      f32 *o0 = A + (long)p * K, *o1 = o0 + K, *o2 = o1 + K, *o3 = o2 + K;
      int k = k0;
      for (; k + 8 <= k1; k += 8) {
        v128_t a00 = wasm_f32x4_splat(0.f), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        const f32 *w = Wt + k;
        for (int c = 0; c < CO; c++, w += K) {
          const v128_t w0 = wasm_v128_load(w), w1 = wasm_v128_load(w + 4);
          v128_t s = wasm_v128_load32_splat(d0 + c);
          a00 = wasm_f32x4_add(a00, wasm_f32x4_mul(s, w0));
          a01 = wasm_f32x4_add(a01, wasm_f32x4_mul(s, w1));
          s = wasm_v128_load32_splat(d1 + c);
          a10 = wasm_f32x4_add(a10, wasm_f32x4_mul(s, w0));
          a11 = wasm_f32x4_add(a11, wasm_f32x4_mul(s, w1));
          s = wasm_v128_load32_splat(d2 + c);
          a20 = wasm_f32x4_add(a20, wasm_f32x4_mul(s, w0));
          a21 = wasm_f32x4_add(a21, wasm_f32x4_mul(s, w1));
          s = wasm_v128_load32_splat(d3 + c);
          a30 = wasm_f32x4_add(a30, wasm_f32x4_mul(s, w0));
          a31 = wasm_f32x4_add(a31, wasm_f32x4_mul(s, w1));
        }
        wasm_v128_store(o0 + k, a00); wasm_v128_store(o0 + k + 4, a01);
        wasm_v128_store(o1 + k, a10); wasm_v128_store(o1 + k + 4, a11);
        wasm_v128_store(o2 + k, a20); wasm_v128_store(o2 + k + 4, a21);
        wasm_v128_store(o3 + k, a30); wasm_v128_store(o3 + k + 4, a31);
      }
      for (; k < k1; k++) {
        f32 s0 = 0.f, s1 = 0.f, s2 = 0.f, s3 = 0.f;
        for (int c = 0; c < CO; c++) {
          const f32 wv = Wt[(long)c * K + k];
          s0 += d0[c] * wv; s1 += d1[c] * wv; s2 += d2[c] * wv; s3 += d3[c] * wv;
        }
        o0[k] = s0; o1[k] = s1; o2[k] = s2; o3[k] = s3;
      }
    }
    for (; p < n; p++) {
      const f32 *d = D + (long)p * CO;
      f32 *o = A + (long)p * K;
      int k = k0;
      for (; k + 4 <= k1; k += 4) {
        v128_t acc = wasm_f32x4_splat(0.f);
        for (int c = 0; c < CO; c++) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load32_splat(d + c), wasm_v128_load(Wt + (long)c * K + k)));
        wasm_v128_store(o + k, acc);
      }
      for (; k < k1; k++) {
        f32 acc = 0.f;
        for (int c = 0; c < CO; c++) acc += d[c] * Wt[(long)c * K + k];
        o[k] = acc;
      }
    }
  }
}

// dx[b, ih, iw, :] += A[q, (kh, kw), :] for the n positions from p0 (the inverse of im2col)
static inline __attribute__((always_inline)) void col2im_add(const f32 *A, f32 *dx, int p0, int n, const ConvShape *s) {
  const int K = s->KH * s->KW * s->CI, CI = s->CI;
  int ow = p0 % s->OW, t = p0 / s->OW, oh = t % s->OH, b = t / s->OH;
  for (int q = 0; q < n; q++) {
    const f32 *row = A + (long)q * K;
    for (int kh = 0; kh < s->KH; kh++) {
      const int ih = oh * s->SH + kh * s->DH - s->PT;
      if (ih < 0 || ih >= s->H) continue;
      for (int kw = 0; kw < s->KW; kw++) {
        const int iw = ow * s->SW + kw * s->DW - s->PL;
        if (iw < 0 || iw >= s->W) continue;
        const f32 *src = row + (kh * s->KW + kw) * CI;
        f32 *dst = dx + (((long)b * s->H + ih) * s->W + iw) * CI;
        int c = 0;
        for (; c + 4 <= CI; c += 4) wasm_v128_store(dst + c, wasm_f32x4_add(wasm_v128_load(dst + c), wasm_v128_load(src + c)));
        for (; c < CI; c++) dst[c] += src[c];
      }
    }
    if (++ow == s->OW) {
      ow = 0;
      if (++oh == s->OH) { oh = 0; b++; }
    }
  }
}

EXPORT(conv_input_grad)
void conv_input_grad(int tid, int nth, const f32 *dy, const f32 *wt, f32 *dx, f32 *cols, int chunk, CONV_SHAPE_PARAMS) {
  const ConvShape s = CONV_SHAPE;
  const int K = KH * KW * CI;
  f32 *A = cols + (long)tid * chunk * K;
  const int b0 = share_begin(B, tid, nth), b1 = share_begin(B, tid + 1, nth);
  f32 *d = dx + (long)b0 * H * W * CI;
  for (long i = 0, e = (long)(b1 - b0) * H * W * CI; i < e; i++) d[i] = 0.f;
  const int p1 = b1 * OH * OW;
  for (int p = b0 * OH * OW; p < p1; p += chunk) {
    const int n = p1 - p < chunk ? p1 - p : chunk;
    gemm_nn(dy + (long)p * CO, CO, wt, K, n, A);
    col2im_add(A, dx, p, n, &s);
  }
}

// dst[cols, rows] = src[rows, cols]^T, rows split between threads
EXPORT(transpose_2d)
void transpose_2d(int tid, int nth, const f32 *src, int rows, int cols, f32 *dst) {
  const int r1 = share_begin(rows, tid + 1, nth);
  for (int r = share_begin(rows, tid, nth); r < r1; r++)
    for (int c = 0; c < cols; c++) dst[(long)c * rows + r] = src[(long)r * cols + c];
}

// ---------------------------------------------------------------------------------------------
// Reverse of a [D0, D1, D2, D3] tensor along the axes whose flag is set; rows (i0, i1, i2) split
// between threads, each row copied (reversed when f3) from its mirrored source row.
// ---------------------------------------------------------------------------------------------
EXPORT(reverse_4d)
void reverse_4d(int tid, int nth, const f32 *x, int D0, int D1, int D2, int D3, int f0, int f1, int f2, int f3, f32 *y) {
  const int rows = D0 * D1 * D2, r1 = share_begin(rows, tid + 1, nth);
  for (int r = share_begin(rows, tid, nth); r < r1; r++) {
    const int i2 = r % D2, i1 = (r / D2) % D1, i0 = r / (D1 * D2);
    const int j0 = f0 ? D0 - 1 - i0 : i0, j1 = f1 ? D1 - 1 - i1 : i1, j2 = f2 ? D2 - 1 - i2 : i2;
    const f32 *src = x + (((long)j0 * D1 + j1) * D2 + j2) * D3;
    f32 *dst = y + (long)r * D3;
    if (f3) {
      for (int c = 0; c < D3; c++) dst[c] = src[D3 - 1 - c];
    } else {
      int c = 0;
      for (; c + 4 <= D3; c += 4) wasm_v128_store(dst + c, wasm_v128_load(src + c));
      for (; c < D3; c++) dst[c] = src[c];
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Slice of a [D0, D1, D2, D3] tensor: y[i] = x[b + i] for i < S; output rows (i0, i1, i2) split
// between threads, each a contiguous copy of S3 floats.
// ---------------------------------------------------------------------------------------------
EXPORT(slice_4d)
void slice_4d(int tid, int nth, const f32 *x, int D1, int D2, int D3, int b0, int b1, int b2, int b3,
              int S0, int S1, int S2, int S3, f32 *y) {
  const int rows = S0 * S1 * S2, r1 = share_begin(rows, tid + 1, nth);
  for (int r = share_begin(rows, tid, nth); r < r1; r++) {
    const int i2 = r % S2, i1 = (r / S2) % S1, i0 = r / (S1 * S2);
    const f32 *src = x + (((long)(b0 + i0) * D1 + b1 + i1) * D2 + b2 + i2) * D3 + b3;
    f32 *dst = y + (long)r * S3;
    int c = 0;
    for (; c + 4 <= S3; c += 4) wasm_v128_store(dst + c, wasm_v128_load(src + c));
    for (; c < S3; c++) dst[c] = src[c];
  }
}

// ---------------------------------------------------------------------------------------------
// Conv2D forward, NHWC: y = im2col(x) W, W as [K, CO] (tfjs's filter layout). Each thread takes a
// range of output positions and im2cols `chunk` of them at a time into its buffer
// (cols + tid*chunk*K), then multiplies straight into y's rows.
// ---------------------------------------------------------------------------------------------
EXPORT(conv_forward)
void conv_forward(int tid, int nth, const f32 *x, const f32 *w, f32 *y, f32 *cols, int chunk, CONV_SHAPE_PARAMS) {
  const ConvShape s = CONV_SHAPE;
  const int K = KH * KW * CI, P = B * OH * OW;
  f32 *A = cols + (long)tid * chunk * K;
  const int p1 = share_begin(P, tid + 1, nth);
  for (int p = share_begin(P, tid, nth); p < p1; p += chunk) {
    const int n = p1 - p < chunk ? p1 - p : chunk;
    im2col(x, A, p, n, &s);
    gemm_nn(A, K, w, CO, n, y + (long)p * CO);
  }
}

// ---------------------------------------------------------------------------------------------
// BatchMatMul, plain operands: C[i] = A[i] B[i] (or B[0] for every i when b_shared), i < batch,
// A [M, K], B [K, N], C [M, N] row-major. The batch x M rows are cut into blocks of 4 rows, the
// blocks split between threads, each run of one batch's rows through gemm_nn (4 rows x 8 columns
// in registers, B in 64-column panels).
// ---------------------------------------------------------------------------------------------
EXPORT(batch_matmul)
void batch_matmul(int tid, int nth, const f32 *a, const f32 *b, f32 *c, int batch, int M, int K, int N, int b_shared) {
  const int blocks = (M + 3) / 4;
  const int u1 = share_begin(batch * blocks, tid + 1, nth);
  int u = share_begin(batch * blocks, tid, nth);
  while (u < u1) {
    const int i = u / blocks;
    const int end = u1 < (i + 1) * blocks ? u1 : (i + 1) * blocks;
    const int r0 = (u - i * blocks) * 4;
    const int r1 = (end - i * blocks) * 4 < M ? (end - i * blocks) * 4 : M;
    gemm_nn(a + ((long)i * M + r0) * K, K, b + (b_shared ? 0 : (long)i * K * N), N, r1 - r0, c + ((long)i * M + r0) * N);
    u = end;
  }
}

// ---------------------------------------------------------------------------------------------
// GELU, the exact form y = x·Φ(x), Φ(x) = (1 + erf(x/√2)) / 2, and its gradient
// dx = dy·(Φ(x) + x·φ(x)), φ(x) = exp(-x²/2)/√(2π), 4 lanes at a time (n a multiple of 4, split
// between threads). erf is Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), as tfjs's cpu Erf;
// exp is Cephes' expf (range reduction by ln 2, a degree-5 polynomial, 2^n in the exponent bits).
// ---------------------------------------------------------------------------------------------
static inline v128_t exp4(v128_t x) {
  x = wasm_f32x4_max(wasm_f32x4_min(x, wasm_f32x4_splat(88.0f)), wasm_f32x4_splat(-87.0f));
  const v128_t n = wasm_f32x4_nearest(wasm_f32x4_mul(x, wasm_f32x4_splat(1.44269504088896341f)));
  v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(0.693359375f)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, wasm_f32x4_splat(-2.12194440e-4f)));
  v128_t p = wasm_f32x4_splat(1.9875691500e-4f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.3981999507e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(8.3334519073e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(4.1665795894e-2f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.6666665459e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(5.0000001201e-1f));
  const v128_t y = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(p, wasm_f32x4_mul(r, r)), r), wasm_f32x4_splat(1.0f));
  const v128_t scale = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(n), wasm_i32x4_splat(127)), 23);
  return wasm_f32x4_mul(y, scale);
}

// Φ(x) for 4 lanes, and exp(-x²/2) (the normal density without its constant) as a by-product
static inline v128_t normal_cdf4(v128_t x, v128_t *gauss) {
  const v128_t z = wasm_f32x4_mul(wasm_f32x4_abs(x), wasm_f32x4_splat(0.70710678118654752f));
  const v128_t t = wasm_f32x4_div(wasm_f32x4_splat(1.0f), wasm_f32x4_add(wasm_f32x4_splat(1.0f), wasm_f32x4_mul(z, wasm_f32x4_splat(0.3275911f))));
  v128_t q = wasm_f32x4_splat(1.061405429f);
  q = wasm_f32x4_add(wasm_f32x4_mul(q, t), wasm_f32x4_splat(-1.453152027f));
  q = wasm_f32x4_add(wasm_f32x4_mul(q, t), wasm_f32x4_splat(1.421413741f));
  q = wasm_f32x4_add(wasm_f32x4_mul(q, t), wasm_f32x4_splat(-0.284496736f));
  q = wasm_f32x4_add(wasm_f32x4_mul(q, t), wasm_f32x4_splat(0.254829592f));
  const v128_t e = exp4(wasm_f32x4_neg(wasm_f32x4_mul(z, z))); // exp(-x²/2)
  *gauss = e;
  const v128_t erf_abs = wasm_f32x4_sub(wasm_f32x4_splat(1.0f), wasm_f32x4_mul(wasm_f32x4_mul(q, t), e));
  // erf(x/√2) takes the sign of x
  const v128_t erf = wasm_v128_bitselect(wasm_f32x4_neg(erf_abs), erf_abs, wasm_f32x4_lt(x, wasm_f32x4_splat(0.0f)));
  return wasm_f32x4_mul(wasm_f32x4_add(erf, wasm_f32x4_splat(1.0f)), wasm_f32x4_splat(0.5f));
}

EXPORT(gelu_forward)
void gelu_forward(int tid, int nth, const f32 *x, f32 *y, int n4) {
  const int i1 = share_begin(n4, tid + 1, nth);
  for (int i = share_begin(n4, tid, nth); i < i1; i++) {
    v128_t g;
    const v128_t v = wasm_v128_load(x + 4 * (long)i);
    wasm_v128_store(y + 4 * (long)i, wasm_f32x4_mul(v, normal_cdf4(v, &g)));
  }
}

EXPORT(gelu_backward)
void gelu_backward(int tid, int nth, const f32 *x, const f32 *dy, f32 *dx, int n4) {
  const int i1 = share_begin(n4, tid + 1, nth);
  for (int i = share_begin(n4, tid, nth); i < i1; i++) {
    v128_t g;
    const v128_t v = wasm_v128_load(x + 4 * (long)i);
    const v128_t cdf = normal_cdf4(v, &g);
    const v128_t slope = wasm_f32x4_add(cdf, wasm_f32x4_mul(v, wasm_f32x4_mul(g, wasm_f32x4_splat(0.39894228040143268f))));
    wasm_v128_store(dx + 4 * (long)i, wasm_f32x4_mul(wasm_v128_load(dy + 4 * (long)i), slope));
  }
}
