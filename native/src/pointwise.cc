// Element-wise kernels, reductions, transpose, softmax and training batch norm: plain loops split
// over the OpenMP threads. They are memory-bound (a few flops per element loaded), so they are
// built for the x86-64 baseline and run on any machine the addon is copied to; the compute-bound
// work (convolutions, matrix products) is oneDNN's, which picks AVX2/AVX-512/AMX at run time.
#include "pointwise.h"
#include "common.h"
#include <omp.h>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace selfsup {

// below this many elements a loop runs on one thread (a parallel region costs a few microseconds)
static constexpr int64_t kParallelMin = 1 << 15;

template <typename F>
static inline void unaryLoop(const float* x, float* y, int64_t n, F f) {
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; i++) y[i] = f(x[i]);
}

// exp and erf as straight-line arithmetic the compiler vectorises (std::exp and std::erf are
// scalar library calls: GELU and its gradient were 16% of an MAE step). exp: 2^i by the exponent
// bits times a degree-6 polynomial on [-ln2/2, ln2/2] (relative error 2e-7); erf: Abramowitz and
// Stegun 7.1.26 (absolute error 1.5e-7). NaN in, NaN out.
static inline float expApprox(float x) {
  x = std::min(std::max(x, -87.f), 88.f);
  const float z = x * 1.44269504088896341f;
  const int i = static_cast<int>(z + (z >= 0.f ? 0.5f : -0.5f));
  const float g = (z - static_cast<float>(i)) * 0.693147180559945309f;
  const float p = 1.f + g * (1.f + g * (0.5f + g * (1.f / 6 + g * (1.f / 24 + g * (1.f / 120 + g * (1.f / 720))))));
  const int32_t bits = (i + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}
static inline float erfApprox(float v) {
  const float a = std::fabs(v);
  const float t = 1.f / (1.f + 0.3275911f * a);
  const float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  const float r = 1.f - poly * expApprox(-a * a);
  return std::isnan(v) ? v : std::copysign(r, v);
}

// GELU and its gradient are compute-bound (an exp and a division per element): their loops are
// built for AVX-512, AVX2 and the baseline, the machine's best chosen at load (target_clones), and
// called per thread on a chunk (an OpenMP region's outlined body would not be cloned).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SELFSUP_ISA_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SELFSUP_ISA_CLONES
#endif

SELFSUP_ISA_CLONES static void geluChunk(const float* __restrict x, float* __restrict y, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.f + erfApprox(x[i] * 0.70710678118654752f));
}

static inline float geluGrad(float dy, float x) {
  const float cdf = 0.5f * (1.f + erfApprox(x * 0.70710678118654752f));
  const float pdf = expApprox(-0.5f * x * x) * 0.39894228040143268f;
  return dy * (cdf + x * pdf);
}

SELFSUP_ISA_CLONES static void geluGradChunk(const float* __restrict dy, const float* __restrict x, float* __restrict dx, int64_t n) {
  for (int64_t i = 0; i < n; i++) dx[i] = geluGrad(dy[i], x[i]);
}

/** fn(lo, hi) over [0, n) split among the threads. */
template <typename F>
static void chunked(int64_t n, F fn) {
  const int nth = n >= kParallelMin ? threads() : 1;
#pragma omp parallel num_threads(nth)
  {
    const int t = omp_get_thread_num(), k = omp_get_num_threads();
    const int64_t lo = n * t / k, hi = n * (t + 1) / k;
    if (hi > lo) fn(lo, hi);
  }
}

void unary(Unary op, const float* x, float* y, int64_t n, float alpha) {
  switch (op) {
    case Unary::Relu: return unaryLoop(x, y, n, [](float v) { return v < 0.f ? 0.f : v; });  // NaN stays NaN, as on cpu
    case Unary::Relu6: return unaryLoop(x, y, n, [](float v) { return std::min(std::max(v, 0.f), 6.f); });
    case Unary::Exp: return unaryLoop(x, y, n, [](float v) { return std::exp(v); });
    case Unary::Log: return unaryLoop(x, y, n, [](float v) { return std::log(v); });
    case Unary::Neg: return unaryLoop(x, y, n, [](float v) { return -v; });
    case Unary::Sqrt: return unaryLoop(x, y, n, [](float v) { return std::sqrt(v); });
    case Unary::Rsqrt: return unaryLoop(x, y, n, [](float v) { return 1.f / std::sqrt(v); });
    case Unary::Square: return unaryLoop(x, y, n, [](float v) { return v * v; });
    case Unary::Abs: return unaryLoop(x, y, n, [](float v) { return std::fabs(v); });
    case Unary::Step: return unaryLoop(x, y, n, [alpha](float v) { return std::isnan(v) ? v : v > 0.f ? 1.f : alpha; });
    case Unary::Sigmoid: return unaryLoop(x, y, n, [](float v) { return 1.f / (1.f + std::exp(-v)); });
    case Unary::Tanh: return unaryLoop(x, y, n, [](float v) { return std::tanh(v); });
    case Unary::Reciprocal: return unaryLoop(x, y, n, [](float v) { return 1.f / v; });
    case Unary::Elu: return unaryLoop(x, y, n, [](float v) { return v >= 0.f ? v : std::exp(v) - 1.f; });
    case Unary::Gelu: return chunked(n, [&](int64_t lo, int64_t hi) { geluChunk(x + lo, y + lo, hi - lo); });
  }
  throw JsError("unknown unary op");
}

template <typename F>
static inline void binaryLoop(Broadcast mode, const float* a, const float* b, float* out, int64_t n, int64_t mid, int64_t inner, F f) {
  const bool par = n >= kParallelMin;
  switch (mode) {
    case Broadcast::Same:
#pragma omp parallel for schedule(static) if (par)
      for (int64_t i = 0; i < n; i++) out[i] = f(a[i], b[i]);
      return;
    case Broadcast::ScalarB: {
      const float s = b[0];
#pragma omp parallel for schedule(static) if (par)
      for (int64_t i = 0; i < n; i++) out[i] = f(a[i], s);
      return;
    }
    case Broadcast::ScalarA: {
      const float s = a[0];
#pragma omp parallel for schedule(static) if (par)
      for (int64_t i = 0; i < n; i++) out[i] = f(s, b[i]);
      return;
    }
    case Broadcast::BlockB:
    case Broadcast::BlockA: {
      const bool smallB = mode == Broadcast::BlockB;
      const float* big = smallB ? a : b;
      const float* small = smallB ? b : a;
      const int64_t rows = n / inner;  // outer * mid
#pragma omp parallel for schedule(static) if (par)
      for (int64_t r = 0; r < rows; r++) {
        const float* s = small + (r / mid) * inner;
        const float* x = big + r * inner;
        float* o = out + r * inner;
        if (inner == 1)
          o[0] = smallB ? f(x[0], s[0]) : f(s[0], x[0]);
        else if (smallB)
          for (int64_t j = 0; j < inner; j++) o[j] = f(x[j], s[j]);
        else
          for (int64_t j = 0; j < inner; j++) o[j] = f(s[j], x[j]);
      }
      return;
    }
  }
  throw JsError("unknown broadcast mode");
}


void binary(Binary op, Broadcast mode, const float* a, const float* b, float* out, int64_t n, int64_t mid, int64_t inner) {
  switch (op) {
    case Binary::Add: return binaryLoop(mode, a, b, out, n, mid, inner, [](float u, float v) { return u + v; });
    case Binary::Sub: return binaryLoop(mode, a, b, out, n, mid, inner, [](float u, float v) { return u - v; });
    case Binary::Mul: return binaryLoop(mode, a, b, out, n, mid, inner, [](float u, float v) { return u * v; });
    case Binary::Div: return binaryLoop(mode, a, b, out, n, mid, inner, [](float u, float v) { return u / v; });
    // NaN propagates, as in tfjs's cpu kernels
    case Binary::Maximum:
      return binaryLoop(mode, a, b, out, n, mid, inner, [](float u, float v) { return std::isnan(u) || std::isnan(v) ? NAN : u > v ? u : v; });
    case Binary::Minimum:
      return binaryLoop(mode, a, b, out, n, mid, inner, [](float u, float v) { return std::isnan(u) || std::isnan(v) ? NAN : u < v ? u : v; });
    case Binary::SquaredDifference: return binaryLoop(mode, a, b, out, n, mid, inner, [](float u, float v) { return (u - v) * (u - v); });
    // a = dy, b = the ReLU's input (or output): dy where it was positive
    case Binary::ReluGrad: return binaryLoop(mode, a, b, out, n, mid, inner, [](float u, float v) { return v > 0.f ? u : 0.f; });
    // a = dy, b = x, the same shape
    case Binary::GeluGrad:
      if (mode != Broadcast::Same) throw JsError("GELU gradient: dy and x of one shape");
      return chunked(n, [&](int64_t lo, int64_t hi) { geluGradChunk(a + lo, b + lo, out + lo, hi - lo); });
  }
  throw JsError("unknown binary op");
}

static void reduceInner(Reduce op, const float* x, float* out, int64_t outer, int64_t inner) {
  const bool par = outer * inner >= kParallelMin && outer > 1;
#pragma omp parallel for schedule(static) if (par)
  for (int64_t r = 0; r < outer; r++) {
    const float* row = x + r * inner;
    if (op == Reduce::Sum || op == Reduce::Mean) {
      double s = 0;
      for (int64_t j = 0; j < inner; j++) s += row[j];
      out[r] = static_cast<float>(op == Reduce::Mean ? s / static_cast<double>(inner) : s);
    } else {
      float m = row[0];
      bool nan = false;
      for (int64_t j = 0; j < inner; j++) {
        nan |= std::isnan(row[j]);
        m = op == Reduce::Max ? (row[j] > m ? row[j] : m) : (row[j] < m ? row[j] : m);
      }
      out[r] = nan ? NAN : m;
    }
  }
}

static void reduceOuter(Reduce op, const float* x, float* out, int64_t outer, int64_t inner, int nthWanted) {
  const int nth = (outer * inner >= kParallelMin && outer > 1) ? nthWanted : 1;
  const bool sum = op == Reduce::Sum || op == Reduce::Mean;
  std::vector<double> parts(static_cast<size_t>(nth) * inner);
  std::vector<char> nans(static_cast<size_t>(nth) * inner, 0);
#pragma omp parallel num_threads(nth)
  {
    const int t = omp_get_thread_num();
    const int64_t lo = outer * t / nth, hi = outer * (t + 1) / nth;
    double* p = parts.data() + static_cast<size_t>(t) * inner;
    char* nn = nans.data() + static_cast<size_t>(t) * inner;
    for (int64_t j = 0; j < inner; j++) p[j] = sum ? 0.0 : (lo < hi ? x[lo * inner + j] : (op == Reduce::Max ? -INFINITY : INFINITY));
    for (int64_t r = lo; r < hi; r++) {
      const float* row = x + r * inner;
      if (sum)
        for (int64_t j = 0; j < inner; j++) p[j] += row[j];
      else
        for (int64_t j = 0; j < inner; j++) {
          nn[j] |= std::isnan(row[j]);
          p[j] = op == Reduce::Max ? (row[j] > p[j] ? row[j] : p[j]) : (row[j] < p[j] ? row[j] : p[j]);
        }
    }
  }
  for (int64_t j = 0; j < inner; j++) {
    double v = parts[j];
    bool nan = nans[j];
    for (int t = 1; t < nth; t++) {
      const double u = parts[static_cast<size_t>(t) * inner + j];
      nan |= nans[static_cast<size_t>(t) * inner + j];
      v = sum ? v + u : op == Reduce::Max ? std::max(v, u) : std::min(v, u);
    }
    out[j] = nan ? NAN : static_cast<float>(op == Reduce::Mean ? v / static_cast<double>(outer) : v);
  }
}

void reduce(Reduce op, const float* x, float* out, int64_t outer, int64_t mid, int64_t inner) {
  if (inner == 1) return reduceInner(op, x, out, outer, mid);
  if (outer == 1) return reduceOuter(op, x, out, mid, inner, threads());
  // several [mid, inner] blocks: one block per thread at a time
  const bool par = outer * mid * inner >= kParallelMin;
#pragma omp parallel for schedule(static) if (par)
  for (int64_t o = 0; o < outer; o++) reduceOuter(op, x + o * mid * inner, out + o * inner, mid, inner, 1);
}

void reverse(const float* x, float* out, int64_t outer, int64_t mid, int64_t inner) {
  const int64_t rows = outer * mid;
#pragma omp parallel for schedule(static) if (rows * inner >= kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    const int64_t o = r / mid, m = r % mid;
    const float* src = x + (o * mid + (mid - 1 - m)) * inner;
    float* dst = out + r * inner;
    for (int64_t j = 0; j < inner; j++) dst[j] = src[j];
  }
}

void pad(const float* x, float* out, const int64_t* shape, const int64_t* before, const int64_t* outShape, int rank, float value) {
  if (rank > 8) throw JsError("pad: rank over 8");
  int64_t n = 1, nx = 1, ostride[8];
  ostride[rank - 1] = 1;
  for (int d = rank - 2; d >= 0; d--) ostride[d] = ostride[d + 1] * outShape[d + 1];
  for (int d = 0; d < rank; d++) {
    n *= outShape[d];
    nx *= shape[d];
  }
  const bool par = n >= kParallelMin;
#pragma omp parallel for schedule(static) if (par)
  for (int64_t i = 0; i < n; i++) out[i] = value;
  if (nx == 0) return;
  const int64_t last = shape[rank - 1], rows = nx / last;
#pragma omp parallel for schedule(static) if (par)
  for (int64_t r = 0; r < rows; r++) {
    int64_t rem = r, dst = before[rank - 1];
    for (int d = rank - 2; d >= 0; d--) {
      dst += (before[d] + rem % shape[d]) * ostride[d];
      rem /= shape[d];
    }
    const float* s = x + r * last;
    float* o = out + dst;
    for (int64_t j = 0; j < last; j++) o[j] = s[j];
  }
}

void slice(const float* x, float* out, const int64_t* shape, const int64_t* begin, const int64_t* size, int rank) {
  if (rank > 8) throw JsError("slice: rank over 8");
  int64_t stride[8];
  stride[rank - 1] = 1;
  for (int d = rank - 2; d >= 0; d--) stride[d] = stride[d + 1] * shape[d + 1];
  int64_t n = 1;
  for (int d = 0; d < rank; d++) n *= size[d];
  if (n == 0) return;
  const int64_t last = size[rank - 1], rows = n / last;
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    int64_t rem = r, src = begin[rank - 1];
    for (int d = rank - 2; d >= 0; d--) {
      src += (begin[d] + rem % size[d]) * stride[d];
      rem /= size[d];
    }
    const float* s = x + src;
    float* o = out + r * last;
    for (int64_t j = 0; j < last; j++) o[j] = s[j];
  }
}

void transpose(const float* x, float* out, const int64_t* shape, const int64_t* perm, int rank) {
  if (rank > 8) throw JsError("transpose: rank over 8");
  int64_t inStride[8], outShape[8], srcStride[8];
  inStride[rank - 1] = 1;
  for (int d = rank - 2; d >= 0; d--) inStride[d] = inStride[d + 1] * shape[d + 1];
  int64_t n = 1;
  for (int d = 0; d < rank; d++) {
    outShape[d] = shape[perm[d]];
    srcStride[d] = inStride[perm[d]];
    n *= outShape[d];
  }
  if (n == 0) return;
  const int64_t last = outShape[rank - 1], lastStride = srcStride[rank - 1];
  const int64_t rows = n / last;
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    // the source offset of output row r (all output dims but the last)
    int64_t rem = r, src = 0;
    for (int d = rank - 2; d >= 0; d--) {
      src += (rem % outShape[d]) * srcStride[d];
      rem /= outShape[d];
    }
    float* o = out + r * last;
    for (int64_t j = 0; j < last; j++) o[j] = x[src + j * lastStride];
  }
}

// rows [r0, r1) of a row-wise softmax; exp as expApprox (vectorised: std::exp is a scalar call, and
// the attention softmax of an MAE decoder block is 2.2 million of them at batch 128)
SELFSUP_ISA_CLONES static void softmaxRows(const float* __restrict x, float* __restrict y, int64_t r0, int64_t r1, int64_t cols) {
  for (int64_t r = r0; r < r1; r++) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    float m = -INFINITY;
    for (int64_t j = 0; j < cols; j++) m = xr[j] > m ? xr[j] : m;
    float s = 0.f;
    for (int64_t j = 0; j < cols; j++) {
      yr[j] = expApprox(xr[j] - m);
      s += yr[j];
    }
    const float inv = 1.f / s;
    for (int64_t j = 0; j < cols; j++) yr[j] *= inv;
  }
}

void softmax(const float* x, float* y, int64_t rows, int64_t cols) {
  chunked(rows * cols, [&](int64_t lo, int64_t hi) {
    // the element range of this thread, in whole rows
    const int64_t r0 = (lo + cols - 1) / cols, r1 = hi == rows * cols ? rows : (hi + cols - 1) / cols;
    if (r1 > r0) softmaxRows(x, y, r0, r1, cols);
  });
}

/** Per-channel sums over rows of f(row) split over threads, in double. */
template <typename F>
static void channelSums(int64_t m, int64_t c, std::vector<double>& out, F add) {
  const int nth = m * c >= kParallelMin ? threads() : 1;
  std::vector<double> parts(static_cast<size_t>(nth) * c * 2, 0.0);
#pragma omp parallel num_threads(nth)
  {
    const int t = omp_get_thread_num();
    const int64_t lo = m * t / nth, hi = m * (t + 1) / nth;
    add(lo, hi, parts.data() + static_cast<size_t>(t) * c * 2);
  }
  out.assign(static_cast<size_t>(c) * 2, 0.0);
  for (int t = 0; t < nth; t++)
    for (int64_t j = 0; j < 2 * c; j++) out[j] += parts[static_cast<size_t>(t) * c * 2 + j];
}

static void bnSums(const float* x, const float* shift, int64_t lo, int64_t hi, int64_t c, double* p) {
  // p[0..c): sum of (x - shift); p[c..2c): sum of (x - shift)^2
  for (int64_t r = lo; r < hi; r++) {
    const float* row = x + r * c;
    for (int64_t j = 0; j < c; j++) {
      const double d = static_cast<double>(row[j]) - shift[j];
      p[j] += d;
      p[c + j] += d * d;
    }
  }
}

void batchNormTrain(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* var, int64_t m, int64_t c,
                                   float eps, bool relu) {
  // shifted sums (shift = the first row) keep the one-pass variance accurate
  std::vector<float> shift(x, x + c);
  std::vector<double> s;
  channelSums(m, c, s, [&](int64_t lo, int64_t hi, double* p) { bnSums(x, shift.data(), lo, hi, c, p); });
  std::vector<float> scale(c), offset(c);
  for (int64_t j = 0; j < c; j++) {
    const double mu = s[j] / m;
    const double v = std::max(0.0, s[c + j] / m - mu * mu);
    mean[j] = static_cast<float>(mu + shift[j]);
    var[j] = static_cast<float>(v);
    const double sc = gamma[j] / std::sqrt(v + eps);
    scale[j] = static_cast<float>(sc);
    offset[j] = static_cast<float>(beta[j] - sc * (mu + shift[j]));
  }
  const float* sc = scale.data();
  const float* of = offset.data();
#pragma omp parallel for schedule(static) if (m * c >= kParallelMin)
  for (int64_t r = 0; r < m; r++) {
    const float* xr = x + r * c;
    float* yr = y + r * c;
    if (relu)
      for (int64_t j = 0; j < c; j++) {
        const float v = xr[j] * sc[j] + of[j];
        yr[j] = v > 0.f ? v : 0.f;
      }
    else
      for (int64_t j = 0; j < c; j++) yr[j] = xr[j] * sc[j] + of[j];
  }
}

static void bnGradSums(const float* dy, const float* x, const float* y, const float* mean, int64_t lo, int64_t hi, int64_t c, bool relu,
                                      double* p) {
  // p[0..c): sum of dy'; p[c..2c): sum of dy' * (x - mean), dy' = dy masked by the ReLU
  for (int64_t r = lo; r < hi; r++) {
    const float* d = dy + r * c;
    const float* xr = x + r * c;
    const float* yr = y + r * c;
    for (int64_t j = 0; j < c; j++) {
      const float g = relu && !(yr[j] > 0.f) ? 0.f : d[j];
      p[j] += g;
      p[c + j] += static_cast<double>(g) * (xr[j] - mean[j]);
    }
  }
}

void batchNormTrainGrad(const float* dy, const float* x, const float* y, const float* mean, const float* var, const float* gamma, float* dx,
                                       float* dgamma, float* dbeta, int64_t m, int64_t c, float eps, bool relu) {
  std::vector<double> s;
  channelSums(m, c, s, [&](int64_t lo, int64_t hi, double* p) { bnGradSums(dy, x, y, mean, lo, hi, c, relu, p); });
  // dx = gamma * invstd * (dy' - dbeta / m - (x - mean) * invstd^2 * sum(dy' (x - mean)) / m)
  std::vector<float> a(c), b(c), k(c);
  for (int64_t j = 0; j < c; j++) {
    const double invstd = 1.0 / std::sqrt(static_cast<double>(var[j]) + eps);
    dbeta[j] = static_cast<float>(s[j]);
    dgamma[j] = static_cast<float>(s[c + j] * invstd);
    a[j] = static_cast<float>(gamma[j] * invstd);
    b[j] = static_cast<float>(s[j] / m);
    k[j] = static_cast<float>(s[c + j] * invstd * invstd / m);
  }
  const float *pa = a.data(), *pb = b.data(), *pk = k.data();
#pragma omp parallel for schedule(static) if (m * c >= kParallelMin)
  for (int64_t r = 0; r < m; r++) {
    const float* d = dy + r * c;
    const float* xr = x + r * c;
    const float* yr = y + r * c;
    float* o = dx + r * c;
    for (int64_t j = 0; j < c; j++) {
      const float g = relu && !(yr[j] > 0.f) ? 0.f : d[j];
      o[j] = pa[j] * (g - pb[j] - (xr[j] - mean[j]) * pk[j]);
    }
  }
}

void layerNorm(const float* x, const float* w, const float* b, float* y, float* mean, float* rstd, int64_t m, int64_t d, float eps) {
#pragma omp parallel for schedule(static) if (m * d >= kParallelMin)
  for (int64_t r = 0; r < m; r++) {
    const float* xr = x + r * d;
    float* yr = y + r * d;
    float s = 0.f;
    for (int64_t j = 0; j < d; j++) s += xr[j];
    const float mu = s / static_cast<float>(d);
    float q = 0.f;
    for (int64_t j = 0; j < d; j++) {
      const float c = xr[j] - mu;
      q += c * c;
    }
    const float rs = 1.f / std::sqrt(q / static_cast<float>(d) + eps);
    for (int64_t j = 0; j < d; j++) yr[j] = (xr[j] - mu) * rs * w[j] + b[j];
    mean[r] = mu;
    rstd[r] = rs;
  }
}

void layerNormGrad(const float* dy, const float* x, const float* mean, const float* rstd, const float* w, float* dx, float* dw, float* db, int64_t m,
                   int64_t d) {
  std::vector<double> s;
  // one pass over the rows: dx row by row, and each thread's share of the column sums
  channelSums(m, d, s, [&](int64_t lo, int64_t hi, double* p) {
    std::vector<float> xh(static_cast<size_t>(d)), sw(static_cast<size_t>(d), 0.f), sb(static_cast<size_t>(d), 0.f);
    for (int64_t r = lo; r < hi; r++) {
      const float* g0 = dy + r * d;
      const float* xr = x + r * d;
      float* o = dx + r * d;
      const float mu = mean[r], rs = rstd[r];
      float a = 0.f, c = 0.f;
      for (int64_t j = 0; j < d; j++) {
        const float h = (xr[j] - mu) * rs;
        const float g = g0[j] * w[j];
        xh[j] = h;
        a += g;
        c += g * h;
        sw[j] += g0[j] * h;
        sb[j] += g0[j];
      }
      a /= static_cast<float>(d);
      c /= static_cast<float>(d);
      for (int64_t j = 0; j < d; j++) o[j] = rs * (g0[j] * w[j] - a - xh[j] * c);
      // float partials over at most 64 rows, then into double
      if ((r - lo) % 64 == 63 || r == hi - 1)
        for (int64_t j = 0; j < d; j++) {
          p[d + j] += sw[j];
          p[j] += sb[j];
          sw[j] = 0.f;
          sb[j] = 0.f;
        }
    }
  });
  for (int64_t j = 0; j < d; j++) {
    db[j] = static_cast<float>(s[j]);
    dw[j] = static_cast<float>(s[d + j]);
  }
}

void adamStep(const float* p, const float* g, const float* m, const float* v, float* po, float* mo, float* vo, int64_t n, const float* h, bool decoupled) {
  // float32 throughout, in the composed ops' order (plugins/optimizers/adam.ts), so both paths agree to rounding
  // 1 - beta and lr * wd come rounded from double, as the composed ops' scalars do (1.f - 0.999f is not float(0.001))
  const float lr = h[0], b1 = h[1], a1 = h[2], b2 = h[3], a2 = h[4], eps = h[5], wd = h[6], lrwd = h[7], c1 = h[8], c2 = h[9];
  const bool l2 = wd > 0.f && !decoupled, dec = wd > 0.f && decoupled;
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; i++) {
    const float gi = l2 ? g[i] + p[i] * wd : g[i];
    const float mi = m[i] * b1 + gi * a1;
    const float vi = v[i] * b2 + (gi * gi) * a2;
    const float upd = (mi / c1) / (std::sqrt(vi / c2) + eps);
    float pi = p[i] - upd * lr;
    if (dec) pi = pi - p[i] * lrwd;
    mo[i] = mi;
    vo[i] = vi;
    po[i] = pi;
  }
}

}  // namespace selfsup
