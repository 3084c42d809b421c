#pragma once
#include <cstddef>
#include <cstdint>

namespace selfsup {

/** A 2-D convolution's shape, NHWC input, HWIO filter (tfjs's layouts); dilation as in tfjs (1 = none). */
struct ConvShape {
  int64_t b, h, w, ci, oh, ow, co, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
};
ConvShape convShapeFrom(const int32_t* p, size_t n);

void conv2dForward(const ConvShape& s, const float* x, const float* w, float* y);
void conv2dBackwardData(const ConvShape& s, const float* dy, const float* w, float* dx);
void conv2dBackwardWeights(const ConvShape& s, const float* x, const float* dy, float* dw);
/** Which oneDNN implementations the last-created primitives use (for the backend's details line). */
const char* convImplementations();

/** C[b] = op(A[b]) x op(B[b]) with batch broadcast (batchA or batchB may be 1). */
void matmul(const float* a, const float* b, float* c, int64_t batchA, int64_t batchB, int64_t m, int64_t k, int64_t n, bool transA, bool transB);

}  // namespace selfsup
