// Convolutions and matrix products on oneDNN (the library PyTorch's CPU convolutions run on).
// tfjs's layouts are used as they are: activations NHWC, filters HWIO, matrices row-major with
// transposes expressed as strides. oneDNN picks the filter layout its fastest kernel wants
// (format `any`); the HWIO filter is reordered into it (forward, input gradient) or out of it
// (filter gradient) on each call, which costs a filter's size, not an activation's.
// Primitives are created once per shape and cached (creating one JIT-compiles its kernel).
#include "conv.h"
#include "common.h"
#include <oneapi/dnnl/dnnl.hpp>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace selfsup {
using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

static engine& cpu() {
  static engine e(engine::kind::cpu, 0);
  return e;
}
static stream& strm() {
  static stream s(cpu());
  return s;
}

ConvShape convShapeFrom(const int32_t* p, size_t n) {
  if (n != 17) throw JsError("convolution shape: 17 integers expected");
  return ConvShape{p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13], p[14], p[15], p[16]};
}

using Key = std::vector<int64_t>;
static Key keyOf(int kind, const ConvShape& s) {
  return {kind, s.b, s.h, s.w, s.ci, s.oh, s.ow, s.co, s.kh, s.kw, s.sh, s.sw, s.dh, s.dw, s.pt, s.pl, s.pb, s.pr};
}

struct ConvDescs {
  memory::desc src, dst, weightsAny, weightsUser;
  memory::dims strides, dilates, padL, padR;
};
static ConvDescs descsOf(const ConvShape& s) {
  return ConvDescs{
      memory::desc({s.b, s.ci, s.h, s.w}, dt::f32, tag::nhwc),
      memory::desc({s.b, s.co, s.oh, s.ow}, dt::f32, tag::nhwc),
      memory::desc({s.co, s.ci, s.kh, s.kw}, dt::f32, tag::any),
      memory::desc({s.co, s.ci, s.kh, s.kw}, dt::f32, tag::hwio),
      {s.sh, s.sw},
      {s.dh - 1, s.dw - 1},
      {s.pt, s.pl},
      {s.pb, s.pr},
  };
}

static convolution_forward::primitive_desc forwardPd(const ConvShape& s) {
  auto d = descsOf(s);
  convolution_forward::desc desc(prop_kind::forward_training, algorithm::convolution_direct, d.src, d.weightsAny, d.dst, d.strides, d.dilates,
                                 d.padL, d.padR);
  return convolution_forward::primitive_desc(desc, cpu());
}

/** One cached convolution: the primitive, its filter layout and the reorder to or from HWIO. */
struct ConvEntry {
  primitive prim;
  memory weights;  // in the primitive's layout, owned
  bool weightsPlain;
  reorder weightsReorder;
  std::string impl;
};
static std::map<Key, std::unique_ptr<ConvEntry>> convCache;
static std::string implSummary;

static void noteImpl(const char* kind, const std::string& impl) {
  std::string entry = std::string(kind) + ":" + impl;
  if (implSummary.find(entry) == std::string::npos) implSummary += (implSummary.empty() ? "" : ", ") + entry;
}
const char* convImplementations() { return implSummary.c_str(); }

static ConvEntry& convEntry(int kind, const ConvShape& s) {
  auto key = keyOf(kind, s);
  auto it = convCache.find(key);
  if (it != convCache.end()) return *it->second;
  auto d = descsOf(s);
  auto e = std::make_unique<ConvEntry>();
  auto fwd = forwardPd(s);
  memory::desc wdesc;
  if (kind == 0) {
    e->prim = convolution_forward(fwd);
    e->impl = fwd.impl_info_str();
    wdesc = fwd.weights_desc();
  } else if (kind == 1) {
    convolution_backward_data::desc desc(algorithm::convolution_direct, d.src, d.weightsAny, d.dst, d.strides, d.dilates, d.padL, d.padR);
    convolution_backward_data::primitive_desc pd(desc, cpu(), fwd);
    e->prim = convolution_backward_data(pd);
    e->impl = pd.impl_info_str();
    wdesc = pd.weights_desc();
  } else {
    convolution_backward_weights::desc desc(algorithm::convolution_direct, d.src, d.weightsAny, d.dst, d.strides, d.dilates, d.padL, d.padR);
    convolution_backward_weights::primitive_desc pd(desc, cpu(), fwd);
    e->prim = convolution_backward_weights(pd);
    e->impl = pd.impl_info_str();
    wdesc = pd.diff_weights_desc();
  }
  noteImpl(kind == 0 ? "fwd" : kind == 1 ? "bwd_data" : "bwd_weights", e->impl);
  e->weightsPlain = wdesc == d.weightsUser;
  if (!e->weightsPlain) {
    e->weights = memory(wdesc, cpu());
    memory user(d.weightsUser, cpu(), nullptr);
    e->weightsReorder = kind == 2 ? reorder(e->weights, user) : reorder(user, e->weights);
  }
  return *(convCache[key] = std::move(e));
}

void conv2dForward(const ConvShape& s, const float* x, const float* w, float* y) {
  auto d = descsOf(s);
  auto& e = convEntry(0, s);
  memory src(d.src, cpu(), const_cast<float*>(x)), dst(d.dst, cpu(), y), user(d.weightsUser, cpu(), const_cast<float*>(w));
  if (!e.weightsPlain) e.weightsReorder.execute(strm(), user, e.weights);
  e.prim.execute(strm(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, e.weightsPlain ? user : e.weights}, {DNNL_ARG_DST, dst}});
  strm().wait();
}

void conv2dBackwardData(const ConvShape& s, const float* dy, const float* w, float* dx) {
  auto d = descsOf(s);
  auto& e = convEntry(1, s);
  memory diffSrc(d.src, cpu(), dx), diffDst(d.dst, cpu(), const_cast<float*>(dy)), user(d.weightsUser, cpu(), const_cast<float*>(w));
  if (!e.weightsPlain) e.weightsReorder.execute(strm(), user, e.weights);
  e.prim.execute(strm(), {{DNNL_ARG_DIFF_SRC, diffSrc}, {DNNL_ARG_WEIGHTS, e.weightsPlain ? user : e.weights}, {DNNL_ARG_DIFF_DST, diffDst}});
  strm().wait();
}

void conv2dBackwardWeights(const ConvShape& s, const float* x, const float* dy, float* dw) {
  auto d = descsOf(s);
  auto& e = convEntry(2, s);
  memory src(d.src, cpu(), const_cast<float*>(x)), diffDst(d.dst, cpu(), const_cast<float*>(dy)), user(d.weightsUser, cpu(), dw);
  e.prim.execute(strm(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_WEIGHTS, e.weightsPlain ? user : e.weights}, {DNNL_ARG_DIFF_DST, diffDst}});
  if (!e.weightsPlain) e.weightsReorder.execute(strm(), e.weights, user);
  strm().wait();
}

struct MatmulEntry {
  dnnl::matmul prim;
  memory::desc a, b, c;
};
static std::map<Key, std::unique_ptr<MatmulEntry>> matmulCache;

void matmul(const float* a, const float* b, float* c, int64_t batchA, int64_t batchB, int64_t m, int64_t k, int64_t n, bool transA, bool transB) {
  Key key{batchA, batchB, m, k, n, transA, transB};
  auto it = matmulCache.find(key);
  if (it == matmulCache.end()) {
    int64_t batch = std::max(batchA, batchB);
    auto e = std::make_unique<MatmulEntry>();
    e->a = memory::desc({batchA, m, k}, dt::f32, transA ? memory::dims{m * k, 1, m} : memory::dims{m * k, k, 1});
    e->b = memory::desc({batchB, k, n}, dt::f32, transB ? memory::dims{k * n, 1, k} : memory::dims{k * n, n, 1});
    e->c = memory::desc({batch, m, n}, dt::f32, memory::dims{m * n, n, 1});
    dnnl::matmul::desc desc(e->a, e->b, e->c);
    dnnl::matmul::primitive_desc pd(desc, cpu());
    e->prim = dnnl::matmul(pd);
    noteImpl("matmul", pd.impl_info_str());
    it = matmulCache.emplace(key, std::move(e)).first;
  }
  auto& e = *it->second;
  memory ma(e.a, cpu(), const_cast<float*>(a)), mb(e.b, cpu(), const_cast<float*>(b)), mc(e.c, cpu(), c);
  e.prim.execute(strm(), {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}});
  strm().wait();
}

}  // namespace selfsup
