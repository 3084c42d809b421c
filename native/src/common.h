// selfsup's native CPU kernels: shared helpers of the Node-API addon (see native/README.md).
#pragma once
#include <node_api.h>
#include <cstdint>
#include <cstddef>
#include <stdexcept>
#include <string>

namespace selfsup {

/** A JS error raised from C++: thrown, caught by the binding wrapper, rethrown as a JS Error. */
struct JsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/** Float32Array / Int32Array argument: its data pointer (no copy) and element count. */
template <typename T>
struct Span {
  T* data = nullptr;
  size_t length = 0;
};

Span<float> f32Arg(napi_env env, napi_value v, const char* what);
Span<int32_t> i32Arg(napi_env env, napi_value v, const char* what);
double numArg(napi_env env, napi_value v, const char* what);

/** Threads the kernels (and oneDNN) use; set by setThreads. */
int threads();
void setThreads(int n);

}  // namespace selfsup
