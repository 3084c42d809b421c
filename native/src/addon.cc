// The Node-API surface of selfsup's native kernels. Every function is synchronous and works on
// the caller's typed arrays in place (no copies): inputs are read, outputs (allocated by the
// caller at their final size) are written. Errors become JS exceptions.
#include <malloc.h>
#include <node_api.h>
#include <omp.h>
#include <cstdlib>
#include <oneapi/dnnl/dnnl.hpp>
#include <cstring>
#include <exception>
#include <string>
#include <vector>
#include "common.h"
#include "conv.h"
#include "pointwise.h"

namespace selfsup {

static int gThreads = 1;
int threads() { return gThreads; }
void setThreads(int n) {
  gThreads = n < 1 ? 1 : n;
  omp_set_num_threads(gThreads);
}

template <typename T>
static Span<T> typedArg(napi_env env, napi_value v, napi_typedarray_type want, const char* what) {
  bool is = false;
  napi_is_typedarray(env, v, &is);
  if (!is) throw JsError(std::string(what) + ": a typed array expected");
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, &buffer, &offset) != napi_ok) throw JsError(std::string(what) + ": unreadable typed array");
  if (type != want) throw JsError(std::string(what) + (want == napi_float32_array ? ": a Float32Array expected" : ": an Int32Array expected"));
  return Span<T>{static_cast<T*>(data), length};
}
Span<float> f32Arg(napi_env env, napi_value v, const char* what) { return typedArg<float>(env, v, napi_float32_array, what); }
Span<int32_t> i32Arg(napi_env env, napi_value v, const char* what) { return typedArg<int32_t>(env, v, napi_int32_array, what); }
double numArg(napi_env env, napi_value v, const char* what) {
  // booleans (flags) count as 0/1
  napi_value n;
  double d;
  if (napi_coerce_to_number(env, v, &n) != napi_ok || napi_get_value_double(env, n, &d) != napi_ok) throw JsError(std::string(what) + ": a number expected");
  return d;
}

struct Args {
  napi_env env;
  std::vector<napi_value> v;
  Args(napi_env e, napi_callback_info info, size_t n) : env(e), v(n) {
    size_t got = n;
    napi_get_cb_info(e, info, &got, v.data(), nullptr, nullptr);
    if (got < n) throw JsError(std::to_string(n) + " arguments expected, got " + std::to_string(got));
  }
  float* f(size_t i, size_t atLeast, const char* what) const {
    auto s = f32Arg(env, v[i], what);
    if (s.length < atLeast) throw JsError(std::string(what) + ": " + std::to_string(atLeast) + " elements expected, got " + std::to_string(s.length));
    return s.data;
  }
  int64_t i(size_t k, const char* what) const { return static_cast<int64_t>(numArg(env, v[k], what)); }
  double d(size_t k, const char* what) const { return numArg(env, v[k], what); }
};

template <typename F>
static napi_value guarded(napi_env env, F body) {
  try {
    return body();
  } catch (const dnnl::error& e) {
    napi_throw_error(env, nullptr, (std::string("oneDNN: ") + e.what()).c_str());
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, e.what());
  }
  return nullptr;
}

static napi_value undef(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

// conv2d(kind 0|1|2, a, b, out, shape Int32Array[17]): 0 forward (x, w -> y), 1 input gradient
// (dy, w -> dx), 2 filter gradient (x, dy -> dw)
static napi_value Conv2d(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 5);
    auto p = i32Arg(env, a.v[4], "shape");
    ConvShape s = convShapeFrom(p.data, p.length);
    const size_t x = s.b * s.h * s.w * s.ci, y = s.b * s.oh * s.ow * s.co, w = s.kh * s.kw * s.ci * s.co;
    switch (a.i(0, "kind")) {
      case 0: conv2dForward(s, a.f(1, x, "x"), a.f(2, w, "filter"), a.f(3, y, "y")); break;
      case 1: conv2dBackwardData(s, a.f(1, y, "dy"), a.f(2, w, "filter"), a.f(3, x, "dx")); break;
      case 2: conv2dBackwardWeights(s, a.f(1, x, "x"), a.f(2, y, "dy"), a.f(3, w, "dw")); break;
      default: throw JsError("conv2d: kind 0, 1 or 2");
    }
    return undef(env);
  });
}

// matmul(a, b, c, batchA, batchB, m, k, n, transA, transB)
static napi_value Matmul(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 10);
    const int64_t ba = a.i(3, "batchA"), bb = a.i(4, "batchB"), m = a.i(5, "m"), k = a.i(6, "k"), n = a.i(7, "n");
    if (ba != bb && ba != 1 && bb != 1) throw JsError("matmul: batch sizes must match or one be 1");
    matmul(a.f(0, ba * m * k, "a"), a.f(1, bb * k * n, "b"), a.f(2, std::max(ba, bb) * m * n, "c"), ba, bb, m, k, n, a.d(8, "transA") != 0,
           a.d(9, "transB") != 0);
    return undef(env);
  });
}

// unary(op, x, y, alpha)
static napi_value UnaryOp(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 4);
    auto x = f32Arg(env, a.v[1], "x");
    unary(static_cast<Unary>(a.i(0, "op")), x.data, a.f(2, x.length, "y"), static_cast<int64_t>(x.length), static_cast<float>(a.d(3, "alpha")));
    return undef(env);
  });
}

// binary(op, mode, a, b, out, mid, inner)
static napi_value BinaryOp(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 7);
    auto out = f32Arg(env, a.v[4], "out");
    const auto mode = static_cast<Broadcast>(a.i(1, "mode"));
    const int64_t n = static_cast<int64_t>(out.length), mid = a.i(5, "mid"), inner = a.i(6, "inner");
    const bool block = mode == Broadcast::BlockA || mode == Broadcast::BlockB;
    if (block && (inner <= 0 || mid <= 0 || n % (mid * inner) != 0)) throw JsError("binary: mid * inner must divide the output size");
    const size_t small = block ? static_cast<size_t>(n / mid) : 1;
    const size_t na = mode == Broadcast::ScalarA ? 1 : mode == Broadcast::BlockA ? small : out.length;
    const size_t nb = mode == Broadcast::ScalarB ? 1 : mode == Broadcast::BlockB ? small : out.length;
    binary(static_cast<Binary>(a.i(0, "op")), mode, a.f(2, na, "a"), a.f(3, nb, "b"), out.data, n, mid, inner);
    return undef(env);
  });
}

// reduce(op, x, out, outer, mid, inner): x [outer, mid, inner] over mid -> out [outer, inner]
static napi_value ReduceOp(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 6);
    const int64_t outer = a.i(3, "outer"), mid = a.i(4, "mid"), inner = a.i(5, "inner");
    if (mid < 1) throw JsError("reduce: nothing to reduce");
    reduce(static_cast<Reduce>(a.i(0, "op")), a.f(1, outer * mid * inner, "x"), a.f(2, outer * inner, "out"), outer, mid, inner);
    return undef(env);
  });
}

// reverse(x, out, outer, mid, inner)
static napi_value Reverse(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 5);
    const int64_t outer = a.i(2, "outer"), mid = a.i(3, "mid"), inner = a.i(4, "inner");
    reverse(a.f(0, outer * mid * inner, "x"), a.f(1, outer * mid * inner, "out"), outer, mid, inner);
    return undef(env);
  });
}

/** Three Int32Array arguments from `first` on, of one rank 1..8, as int64. */
struct RankedArgs {
  int64_t d[3][8];
  int rank;
};
static RankedArgs rankedArgs(napi_env env, const Args& a, size_t first, const char* what) {
  RankedArgs r{};
  Span<int32_t> s[3];
  for (int k = 0; k < 3; k++) s[k] = i32Arg(env, a.v[first + k], what);
  const size_t rank = s[0].length;
  if (rank == 0 || rank > 8 || s[1].length != rank || s[2].length != rank) throw JsError(std::string(what) + ": three shapes of one rank, 1 to 8");
  for (int k = 0; k < 3; k++)
    for (size_t i = 0; i < rank; i++) r.d[k][i] = s[k].data[i];
  r.rank = static_cast<int>(rank);
  return r;
}
static int64_t sizeOf(const int64_t* shape, int rank) {
  int64_t n = 1;
  for (int i = 0; i < rank; i++) n *= shape[i];
  return n;
}

// slice(x, out, shape Int32Array, begin Int32Array, size Int32Array)
static napi_value Slice(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 5);
    auto r = rankedArgs(env, a, 2, "slice");
    const int64_t *shape = r.d[0], *begin = r.d[1], *size = r.d[2];
    for (int i = 0; i < r.rank; i++)
      if (begin[i] < 0 || size[i] < 0 || begin[i] + size[i] > shape[i]) throw JsError("slice: out of bounds");
    slice(a.f(0, sizeOf(shape, r.rank), "x"), a.f(1, sizeOf(size, r.rank), "out"), shape, begin, size, r.rank);
    return undef(env);
  });
}

// pad(x, out, shape Int32Array, before Int32Array, outShape Int32Array, value)
static napi_value Pad(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 6);
    auto r = rankedArgs(env, a, 2, "pad");
    const int64_t *shape = r.d[0], *before = r.d[1], *outShape = r.d[2];
    for (int i = 0; i < r.rank; i++)
      if (before[i] < 0 || before[i] + shape[i] > outShape[i]) throw JsError("pad: the input does not fit the output");
    pad(a.f(0, sizeOf(shape, r.rank), "x"), a.f(1, sizeOf(outShape, r.rank), "out"), shape, before, outShape, r.rank, static_cast<float>(a.d(5, "value")));
    return undef(env);
  });
}

// transpose(x, out, shape Int32Array, perm Int32Array)
static napi_value Transpose(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 4);
    auto shape = i32Arg(env, a.v[2], "shape");
    auto perm = i32Arg(env, a.v[3], "perm");
    if (shape.length != perm.length || shape.length == 0 || shape.length > 8) throw JsError("transpose: shape and perm of rank 1..8");
    int64_t s[8], p[8], n = 1;
    for (size_t d = 0; d < shape.length; d++) {
      s[d] = shape.data[d];
      p[d] = perm.data[d];
      n *= s[d];
    }
    transpose(a.f(0, n, "x"), a.f(1, n, "out"), s, p, static_cast<int>(shape.length));
    return undef(env);
  });
}

// softmax(x, y, rows, cols)
static napi_value Softmax(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 4);
    const int64_t rows = a.i(2, "rows"), cols = a.i(3, "cols");
    softmax(a.f(0, rows * cols, "x"), a.f(1, rows * cols, "y"), rows, cols);
    return undef(env);
  });
}

// adamStep(p, g, m, v, pOut, mOut, vOut, h, decoupled); h: lr, beta1, 1 - beta1, beta2, 1 - beta2, eps, weightDecay, lr * weightDecay, c1, c2
static napi_value AdamStepOp(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 9);
    auto p = f32Arg(env, a.v[0], "p");
    const int64_t n = static_cast<int64_t>(p.length);
    adamStep(p.data, a.f(1, n, "g"), a.f(2, n, "m"), a.f(3, n, "v"), a.f(4, n, "pOut"), a.f(5, n, "mOut"), a.f(6, n, "vOut"), n, a.f(7, 10, "h"),
             a.d(8, "decoupled") != 0);
    return undef(env);
  });
}

// layerNorm(x, w, b, y, mean, rstd, m, d, eps)
static napi_value LayerNormOp(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 9);
    const int64_t m = a.i(6, "m"), d = a.i(7, "d");
    if (m < 1 || d < 1) throw JsError("layerNorm: m and d must be positive");
    layerNorm(a.f(0, m * d, "x"), a.f(1, d, "w"), a.f(2, d, "b"), a.f(3, m * d, "y"), a.f(4, m, "mean"), a.f(5, m, "rstd"), m, d,
              static_cast<float>(a.d(8, "eps")));
    return undef(env);
  });
}

// layerNormGrad(dy, x, mean, rstd, w, dx, dw, db, m, d)
static napi_value LayerNormGradOp(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 10);
    const int64_t m = a.i(8, "m"), d = a.i(9, "d");
    if (m < 1 || d < 1) throw JsError("layerNormGrad: m and d must be positive");
    layerNormGrad(a.f(0, m * d, "dy"), a.f(1, m * d, "x"), a.f(2, m, "mean"), a.f(3, m, "rstd"), a.f(4, d, "w"), a.f(5, m * d, "dx"), a.f(6, d, "dw"),
                  a.f(7, d, "db"), m, d);
    return undef(env);
  });
}

// batchNormTrain(x, gamma, beta, y, mean, variance, m, c, eps, relu)
static napi_value BatchNormTrain(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 10);
    const int64_t m = a.i(6, "m"), c = a.i(7, "c");
    batchNormTrain(a.f(0, m * c, "x"), a.f(1, c, "gamma"), a.f(2, c, "beta"), a.f(3, m * c, "y"), a.f(4, c, "mean"), a.f(5, c, "variance"), m, c,
                   static_cast<float>(a.d(8, "eps")), a.d(9, "relu") != 0);
    return undef(env);
  });
}

// batchNormTrainGrad(dy, x, y, mean, variance, gamma, dx, dgamma, dbeta, m, c, eps, relu)
static napi_value BatchNormTrainGrad(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 13);
    const int64_t m = a.i(9, "m"), c = a.i(10, "c");
    batchNormTrainGrad(a.f(0, m * c, "dy"), a.f(1, m * c, "x"), a.f(2, m * c, "y"), a.f(3, c, "mean"), a.f(4, c, "variance"), a.f(5, c, "gamma"),
                       a.f(6, m * c, "dx"), a.f(7, c, "dgamma"), a.f(8, c, "dbeta"), m, c, static_cast<float>(a.d(11, "eps")), a.d(12, "relu") != 0);
    return undef(env);
  });
}

static napi_value SetThreads(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 1);
    setThreads(static_cast<int>(a.i(0, "threads")));
    return undef(env);
  });
}

static napi_value str(napi_env env, const std::string& s) {
  napi_value v;
  napi_create_string_utf8(env, s.c_str(), s.size(), &v);
  return v;
}

static const char* isaName(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "other";
  }
}

// info(): { threads, onednn, isa, implementations }
static napi_value Info(napi_env env, napi_callback_info) {
  return guarded(env, [&] {
    napi_value o, t;
    napi_create_object(env, &o);
    napi_create_int32(env, gThreads, &t);
    napi_set_named_property(env, o, "threads", t);
    const dnnl_version_t* v = dnnl_version();
    napi_set_named_property(env, o, "onednn", str(env, std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch)));
    napi_set_named_property(env, o, "isa", str(env, isaName(dnnl::get_effective_cpu_isa())));
    napi_set_named_property(env, o, "implementations", str(env, convImplementations()));
    return o;
  });
}

// Tensors of a training step are tens of MB each and short-lived. glibc serves blocks over 32 MB
// with fresh mmap()s and returns them at free, so every such tensor page-faults its whole size in
// again (measured, SimCLR small CNN at batch 256: 376 -> 305 ms per step without that). Large
// blocks come from the heap instead and the heap keeps what it grew to: the RSS stays at the
// step's peak after warm-up. SELFSUP_NATIVE_MALLOC=0 keeps glibc's defaults.
static void keepLargeBlocks() {
  const char* env = std::getenv("SELFSUP_NATIVE_MALLOC");
  if (env && std::strcmp(env, "0") == 0) return;
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

static napi_value Init(napi_env env, napi_value exports) {
  keepLargeBlocks();
  const napi_property_descriptor props[] = {
      {"conv2d", nullptr, Conv2d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"matmul", nullptr, Matmul, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"unary", nullptr, UnaryOp, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"binary", nullptr, BinaryOp, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"reduce", nullptr, ReduceOp, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"reverse", nullptr, Reverse, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"pad", nullptr, Pad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"slice", nullptr, Slice, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"transpose", nullptr, Transpose, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"softmax", nullptr, Softmax, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adamStep", nullptr, AdamStepOp, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"layerNorm", nullptr, LayerNormOp, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"layerNormGrad", nullptr, LayerNormGradOp, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormTrain", nullptr, BatchNormTrain, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormTrainGrad", nullptr, BatchNormTrainGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace selfsup

NAPI_MODULE(NODE_GYP_MODULE_NAME, selfsup::Init)
