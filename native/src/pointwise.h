#pragma once
#include <cstdint>

namespace selfsup {

enum class Unary : int { Relu, Relu6, Exp, Log, Neg, Sqrt, Rsqrt, Square, Abs, Step, Sigmoid, Tanh, Reciprocal, Elu, Gelu };
enum class Binary : int { Add, Sub, Mul, Div, Maximum, Minimum, SquaredDifference, ReluGrad, GeluGrad };
/**
 * How b (or a) is broadcast against the output of n elements:
 * Same: equal shapes; ScalarB/ScalarA: one element; BlockB/BlockA: the output viewed as
 * [outer, mid, inner] and the operand as [outer, inner], repeated along mid: a bias ([C] against
 * [N, C]: outer 1), a per-row value ([N, 1] against [N, C]: inner 1), a per-image channel scale
 * ([B, 1, 1, C] against [B, H, W, C]).
 */
enum class Broadcast : int { Same, ScalarB, ScalarA, BlockB, BlockA };
enum class Reduce : int { Sum, Max, Min, Mean };

void unary(Unary op, const float* x, float* y, int64_t n, float alpha);
void binary(Binary op, Broadcast mode, const float* a, const float* b, float* out, int64_t n, int64_t mid, int64_t inner);
/** Reduce x viewed as [outer, mid, inner] over mid -> out [outer, inner]. */
void reduce(Reduce op, const float* x, float* out, int64_t outer, int64_t mid, int64_t inner);
/** Reverse x viewed as [outer, mid, inner] along mid. */
void reverse(const float* x, float* out, int64_t outer, int64_t mid, int64_t inner);
/** out (outShape) = value everywhere but x (shape) placed at offset `before` (rank <= 8). */
void pad(const float* x, float* out, const int64_t* shape, const int64_t* before, const int64_t* outShape, int rank, float value);
/** out = x[begin : begin + size] (rank <= 8). */
void slice(const float* x, float* out, const int64_t* shape, const int64_t* begin, const int64_t* size, int rank);
/** out = x transposed by perm (rank <= 8), shape the input's. */
void transpose(const float* x, float* out, const int64_t* shape, const int64_t* perm, int rank);
/** Row-wise softmax of x [rows, cols]. */
void softmax(const float* x, float* y, int64_t rows, int64_t cols);
/** Training batch norm over x [m, c] (+ ReLU): y, the batch mean and biased variance. */
void batchNormTrain(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* var, int64_t m, int64_t c, float eps, bool relu);
void batchNormTrainGrad(const float* dy, const float* x, const float* y, const float* mean, const float* var, const float* gamma, float* dx, float* dgamma,
                        float* dbeta, int64_t m, int64_t c, float eps, bool relu);

/**
 * Layer norm over the last axis of x [m, d]: y = (x - mean) * rstd * w + b, with each row's mean
 * and rstd = 1 / sqrt(biased variance + eps) written for the gradient.
 */
void layerNorm(const float* x, const float* w, const float* b, float* y, float* mean, float* rstd, int64_t m, int64_t d, float eps);
/** Its gradient: dx, and dw = sum over rows of dy * xhat, db = sum over rows of dy (in double). */
void layerNormGrad(const float* dy, const float* x, const float* mean, const float* rstd, const float* w, float* dx, float* dw, float* db, int64_t m,
                   int64_t d);

/** One Adam / AdamW update of n parameters (core/engine/adam-kernel.ts); h: lr, beta1, 1 - beta1, beta2, 1 - beta2, eps, weightDecay, lr * weightDecay, c1, c2. */
void adamStep(const float* p, const float* g, const float* m, const float* v, float* po, float* mo, float* vo, int64_t n, const float* h, bool decoupled);

}  // namespace selfsup
