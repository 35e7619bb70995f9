// Native training kernels for the wasm backend: oneDNN (the library PyTorch's CPU convolutions run
// on) for convolutions, and small OpenMP loops for BatchNorm and max-pool backward. Every function
// works IN PLACE on the tfjs wasm heap: JavaScript passes the heap's ArrayBuffer and the byte
// offsets of tensors it allocated there, so no activation is ever copied between wasm and native.
// Tensors are NHWC (tfjs's layout; oneDNN's `nhwc` tag) and filters HWIO (oneDNN's `hwio`).
//
// Must never: keep a heap pointer across calls (wasm memory growth moves/detaches the buffer; the
// pointer is taken afresh on every call), allocate on the wasm heap, or call back into JavaScript.
//
// Calling convention, every kernel: fn(heap: ArrayBuffer, p: Float64Array) -> undefined, where p
// holds byte offsets and integer geometry (doubles hold every offset of a 4 GB heap exactly).
#include <node_api.h>

#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

using dnnl::memory;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

namespace {

dnnl::engine& cpuEngine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

dnnl::stream& cpuStream() {
  static dnnl::stream s(cpuEngine());
  return s;
}

// ---------------------------------------------------------------------------------------------
// Argument plumbing

struct Args {
  uint8_t* heap = nullptr;
  size_t heapBytes = 0;
  const double* p = nullptr;
  size_t n = 0;

  float* f32(size_t i) const { return reinterpret_cast<float*>(heap + offset(i)); }
  uint8_t* u8(size_t i) const { return heap + offset(i); }
  size_t offset(size_t i) const {
    const double v = p[i];
    if (v < 0 || v >= static_cast<double>(heapBytes)) throw std::runtime_error("tensor offset outside the wasm heap");
    return static_cast<size_t>(v);
  }
  int i32(size_t i) const { return static_cast<int>(p[i]); }
  double num(size_t i) const { return p[i]; }
};

Args readArgs(napi_env env, napi_callback_info info, size_t expected) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 2) throw std::runtime_error("expected (heap: ArrayBuffer, params: Float64Array)");
  Args a;
  void* data = nullptr;
  if (napi_get_arraybuffer_info(env, argv[0], &data, &a.heapBytes) != napi_ok) throw std::runtime_error("heap is not an ArrayBuffer");
  a.heap = static_cast<uint8_t*>(data);
  napi_typedarray_type type;
  size_t length = 0;
  void* pdata = nullptr;
  napi_value ab;
  size_t byteOffset = 0;
  if (napi_get_typedarray_info(env, argv[1], &type, &length, &pdata, &ab, &byteOffset) != napi_ok || type != napi_float64_array) {
    throw std::runtime_error("params must be a Float64Array");
  }
  if (length < expected) throw std::runtime_error("params: expected " + std::to_string(expected) + " values, got " + std::to_string(length));
  a.p = static_cast<const double*>(pdata);
  a.n = length;
  return a;
}

using Kernel = void (*)(const Args&);

template <Kernel K, size_t Expected>
napi_value wrap(napi_env env, napi_callback_info info) {
  try {
    K(readArgs(env, info, Expected));
  } catch (const dnnl::error& e) {
    napi_throw_error(env, "ONEDNN", (std::string("oneDNN: ") + e.what()).c_str());
  } catch (const std::exception& e) {
    napi_throw_error(env, "ONEDNN", e.what());
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Convolutions. Geometry (p[3..]): N H W Ci Co kh kw sh sw dh dw padTop padLeft padBottom padRight Ho Wo
// (dilations 1-based as tfjs has them). Activations stay NHWC for oneDNN (its AVX-512 kernels take
// nhwc directly: no reorder of the big tensors); filters are reordered into the primitive's
// blocked layout (small) on every call since they change every step.

struct ConvGeom {
  memory::dim N, H, W, Ci, Co, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, Ho, Wo;
};

ConvGeom readGeom(const Args& a, size_t at) {
  ConvGeom g{};
  memory::dim* f[] = {&g.N, &g.H, &g.W, &g.Ci, &g.Co, &g.kh, &g.kw, &g.sh, &g.sw, &g.dh, &g.dw, &g.pt, &g.pl, &g.pb, &g.pr, &g.Ho, &g.Wo};
  for (size_t i = 0; i < 17; i++) *f[i] = static_cast<memory::dim>(a.num(at + i));
  return g;
}

std::string geomKey(const char* kind, const ConvGeom& g, int extra) {
  std::string k(kind);
  const memory::dim v[] = {g.N, g.H, g.W, g.Ci, g.Co, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.pb, g.pr, g.Ho, g.Wo, extra};
  for (auto x : v) k += ":" + std::to_string(x);
  return k;
}

struct ConvDescs {
  memory::desc src, dst, weightsAny, weightsUser, bias;
  memory::dims strides, dilates, padL, padR;
};

ConvDescs descsFor(const ConvGeom& g) {
  return ConvDescs{
      memory::desc({g.N, g.Ci, g.H, g.W}, dt::f32, tag::nhwc),
      memory::desc({g.N, g.Co, g.Ho, g.Wo}, dt::f32, tag::nhwc),
      memory::desc({g.Co, g.Ci, g.kh, g.kw}, dt::f32, tag::any),
      memory::desc({g.Co, g.Ci, g.kh, g.kw}, dt::f32, tag::hwio),
      memory::desc({g.Co}, dt::f32, tag::x),
      {g.sh, g.sw},
      {g.dh - 1, g.dw - 1},
      {g.pt, g.pl},
      {g.pb, g.pr},
  };
}

dnnl::convolution_forward::primitive_desc forwardDesc(const ConvGeom& g, dnnl::prop_kind prop, bool bias, bool relu) {
  const ConvDescs d = descsFor(g);
  dnnl::primitive_attr attr;
  if (relu) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    attr.set_post_ops(ops);
  }
  // convolution_direct, as PyTorch (ideep) asks for: never Winograd, whose different arithmetic
  // would move results away from PyTorch's.
  if (bias) {
    dnnl::convolution_forward::desc desc(prop, dnnl::algorithm::convolution_direct, d.src, d.weightsAny, d.bias, d.dst, d.strides, d.dilates, d.padL, d.padR);
    return {desc, attr, cpuEngine()};
  }
  dnnl::convolution_forward::desc desc(prop, dnnl::algorithm::convolution_direct, d.src, d.weightsAny, d.dst, d.strides, d.dilates, d.padL, d.padR);
  return {desc, attr, cpuEngine()};
}

/** A primitive plus its weights in the primitive's own layout (allocated once per shape). */
struct ConvEntry {
  dnnl::primitive prim;
  memory::desc weightsUser;
  memory weights;  // primitive layout
  bool weightsReordered = false;
  dnnl::reorder weightsReorder;  // user -> primitive (forward, backward data) or back (backward weights)
};

std::mutex cacheMutex;
std::unordered_map<std::string, std::unique_ptr<ConvEntry>> convCache;

ConvEntry& entryFor(const std::string& key, const std::function<std::unique_ptr<ConvEntry>()>& make) {
  std::lock_guard<std::mutex> lock(cacheMutex);
  auto it = convCache.find(key);
  if (it != convCache.end()) return *it->second;
  auto inserted = convCache.emplace(key, make());
  return *inserted.first->second;
}

void prepareWeights(ConvEntry& e, const memory::desc& primWeights, const memory::desc& user, bool toUser) {
  e.weightsUser = user;
  e.weightsReordered = primWeights != user;
  if (!e.weightsReordered) return;
  e.weights = memory(primWeights, cpuEngine());
  const memory::desc& from = toUser ? primWeights : user;
  const memory::desc& to = toUser ? user : primWeights;
  e.weightsReorder = dnnl::reorder(dnnl::reorder::primitive_desc(cpuEngine(), from, cpuEngine(), to));
}

/** Weights the primitive can read: the user's buffer, or a reorder of it into the primitive's layout. */
memory weightsIn(ConvEntry& e, float* user) {
  memory userMem(e.weightsUser, cpuEngine(), user);
  if (!e.weightsReordered) return userMem;
  e.weightsReorder.execute(cpuStream(), userMem, e.weights);
  return e.weights;
}

// p: heap offsets x, filter, bias (-1: none), y; then geometry; then relu (0/1), training (0/1).
void convForward(const Args& a) {
  const ConvGeom g = readGeom(a, 4);
  const bool hasBias = a.num(2) >= 0;
  const bool relu = a.i32(21) != 0;
  const bool training = a.i32(22) != 0;
  const int flags = (hasBias ? 1 : 0) | (relu ? 2 : 0) | (training ? 4 : 0);
  ConvEntry& e = entryFor(geomKey("fwd", g, flags), [&] {
    auto pd = forwardDesc(g, training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference, hasBias, relu);
    auto entry = std::make_unique<ConvEntry>();
    entry->prim = dnnl::convolution_forward(pd);
    prepareWeights(*entry, pd.weights_desc(), descsFor(g).weightsUser, false);
    return entry;
  });
  const ConvDescs d = descsFor(g);
  memory src(d.src, cpuEngine(), a.f32(0));
  memory dst(d.dst, cpuEngine(), a.f32(3));
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weightsIn(e, a.f32(1))}, {DNNL_ARG_DST, dst}};
  if (hasBias) args.emplace(DNNL_ARG_BIAS, memory(d.bias, cpuEngine(), a.f32(2)));
  e.prim.execute(cpuStream(), args);
  cpuStream().wait();
}

// p: heap offsets dy, filter, dx; then geometry.
void convBackwardData(const Args& a) {
  const ConvGeom g = readGeom(a, 3);
  ConvEntry& e = entryFor(geomKey("bwd_data", g, 0), [&] {
    const ConvDescs d = descsFor(g);
    auto hint = forwardDesc(g, dnnl::prop_kind::forward_training, false, false);
    dnnl::convolution_backward_data::desc desc(dnnl::algorithm::convolution_direct, d.src, d.weightsAny, d.dst, d.strides, d.dilates, d.padL, d.padR);
    dnnl::convolution_backward_data::primitive_desc pd(desc, cpuEngine(), hint);
    auto entry = std::make_unique<ConvEntry>();
    entry->prim = dnnl::convolution_backward_data(pd);
    prepareWeights(*entry, pd.weights_desc(), d.weightsUser, false);
    return entry;
  });
  const ConvDescs d = descsFor(g);
  memory diffDst(d.dst, cpuEngine(), a.f32(0));
  memory diffSrc(d.src, cpuEngine(), a.f32(2));
  e.prim.execute(cpuStream(), {{DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_WEIGHTS, weightsIn(e, a.f32(1))}, {DNNL_ARG_DIFF_SRC, diffSrc}});
  cpuStream().wait();
}

// p: heap offsets x, dy, dfilter; then geometry.
void convBackwardWeights(const Args& a) {
  const ConvGeom g = readGeom(a, 3);
  ConvEntry& e = entryFor(geomKey("bwd_weights", g, 0), [&] {
    const ConvDescs d = descsFor(g);
    auto hint = forwardDesc(g, dnnl::prop_kind::forward_training, false, false);
    dnnl::convolution_backward_weights::desc desc(dnnl::algorithm::convolution_direct, d.src, d.weightsAny, d.dst, d.strides, d.dilates, d.padL, d.padR);
    dnnl::convolution_backward_weights::primitive_desc pd(desc, cpuEngine(), hint);
    auto entry = std::make_unique<ConvEntry>();
    entry->prim = dnnl::convolution_backward_weights(pd);
    prepareWeights(*entry, pd.diff_weights_desc(), d.weightsUser, true);
    return entry;
  });
  const ConvDescs d = descsFor(g);
  memory src(d.src, cpuEngine(), a.f32(0));
  memory diffDst(d.dst, cpuEngine(), a.f32(1));
  memory user(d.weightsUser, cpuEngine(), a.f32(2));
  e.prim.execute(cpuStream(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_DIFF_WEIGHTS, e.weightsReordered ? e.weights : user}});
  if (e.weightsReordered) e.weightsReorder.execute(cpuStream(), e.weights, user);
  cpuStream().wait();
}

// ---------------------------------------------------------------------------------------------
// BatchNorm (train mode) with an optional residual input and fused ReLU:
//   y = [relu](x * scale + shift [+ residual]),  scale = gamma * invStd,  shift = beta - mean * scale
// Statistics are summed per channel in float32, pixel by pixel in order, exactly as tf.moments and
// tf.sum do on wasm (so the native and wasm paths agree to the last bit on them). Threads split the
// CHANNELS for reductions, never the pixels, so the summation order — and every result — is the
// same whatever the thread count. Elementwise passes split the pixels.
// Compiled with -ffp-contract=off: no fused multiply-adds, float32 rounding at every step.

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FLEET_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define FLEET_CLONES
#endif

/** Channel block a thread reduces: a multiple of 16 floats (a cache line) where it can be. */
void channelRange(int64_t C, int64_t& c0, int64_t& c1) {
  const int t = omp_get_thread_num();
  const int T = omp_get_num_threads();
  const int64_t blocks = (C + 15) / 16;
  const int64_t b0 = blocks * t / T;
  const int64_t b1 = blocks * (t + 1) / T;
  c0 = std::min(C, b0 * 16);
  c1 = std::min(C, b1 * 16);
}

FLEET_CLONES void momentsRange(const float* __restrict x, int64_t M, int64_t C, int64_t c0, int64_t c1, float* __restrict mean, float* __restrict var) {
  const int64_t w = c1 - c0;
  for (int64_t c = c0; c < c1; c++) mean[c] = 0.f;
  for (int64_t m = 0; m < M; m++) {
    const float* __restrict row = x + m * C + c0;
    float* __restrict acc = mean + c0;
    for (int64_t c = 0; c < w; c++) acc[c] += row[c];
  }
  const float count = static_cast<float>(M);
  for (int64_t c = c0; c < c1; c++) {
    mean[c] /= count;
    var[c] = 0.f;
  }
  for (int64_t m = 0; m < M; m++) {
    const float* __restrict row = x + m * C + c0;
    const float* __restrict mu = mean + c0;
    float* __restrict acc = var + c0;
    for (int64_t c = 0; c < w; c++) {
      const float d = row[c] - mu[c];
      acc[c] += d * d;
    }
  }
  for (int64_t c = c0; c < c1; c++) var[c] /= count;
}

FLEET_CLONES void applyRows(const float* __restrict x, const float* __restrict residual, float* __restrict y, uint8_t* __restrict mask, int64_t m0, int64_t m1, int64_t C, const float* __restrict scale, const float* __restrict shift) {
  for (int64_t m = m0; m < m1; m++) {
    const float* __restrict xr = x + m * C;
    const float* __restrict rr = residual ? residual + m * C : nullptr;
    float* __restrict yr = y + m * C;
    uint8_t* __restrict mr = mask ? mask + m * C : nullptr;
    for (int64_t c = 0; c < C; c++) {
      float v = xr[c] * scale[c] + shift[c];
      if (rr) v = v + rr[c];
      if (mr) {
        mr[c] = v > 0.f;
        v = v > 0.f ? v : 0.f;
      }
      yr[c] = v;
    }
  }
}

void pixelRange(int64_t M, int64_t& m0, int64_t& m1) {
  const int t = omp_get_thread_num();
  const int T = omp_get_num_threads();
  m0 = M * t / T;
  m1 = M * (t + 1) / T;
}

// p: offsets x, gamma, beta, residual (-1: none), y, mean, variance, invStd, mask (-1: no ReLU);
// then M, C, eps. mean / variance (biased) / invStd are outputs [C]; y [M, C]; with the ReLU, mask
// [M, C] bytes (1 where the output is positive): the backward pass reads a quarter of the bytes
// it would read from y.
void batchNormForward(const Args& a) {
  const float* x = a.f32(0);
  const float* gamma = a.f32(1);
  const float* beta = a.f32(2);
  const float* residual = a.num(3) >= 0 ? a.f32(3) : nullptr;
  float* y = a.f32(4);
  float* mean = a.f32(5);
  float* var = a.f32(6);
  float* invStd = a.f32(7);
  uint8_t* mask = a.num(8) >= 0 ? a.u8(8) : nullptr;
  const int64_t M = static_cast<int64_t>(a.num(9));
  const int64_t C = static_cast<int64_t>(a.num(10));
  const float eps = static_cast<float>(a.num(11));
  std::vector<float> scale(C), shift(C);
#pragma omp parallel
  {
    int64_t c0, c1;
    channelRange(C, c0, c1);
    if (c0 < c1) momentsRange(x, M, C, c0, c1, mean, var);
  }
  for (int64_t c = 0; c < C; c++) {
    invStd[c] = 1.f / std::sqrt(var[c] + eps);
    scale[c] = gamma[c] * invStd[c];
    shift[c] = beta[c] - mean[c] * scale[c];
  }
#pragma omp parallel
  {
    int64_t m0, m1;
    pixelRange(M, m0, m1);
    applyRows(x, residual, y, mask, m0, m1, C, scale.data(), shift.data());
  }
}

/** The gradient reaching the BatchNorm output: dy, where the fused ReLU let it through. */
inline float gated(const float* __restrict dy, const uint8_t* __restrict mask, int64_t i) {
  return mask ? (mask[i] ? dy[i] : 0.f) : dy[i];
}

FLEET_CLONES void gradSumsRange(const float* __restrict dy, const uint8_t* __restrict mask, const float* __restrict x, const float* __restrict mean, int64_t M, int64_t C, int64_t c0, int64_t c1, float* __restrict dySum, float* __restrict dyXcSum) {
  for (int64_t c = c0; c < c1; c++) dySum[c] = dyXcSum[c] = 0.f;
  for (int64_t m = 0; m < M; m++) {
    const int64_t base = m * C;
    for (int64_t c = c0; c < c1; c++) {
      const float gi = gated(dy, mask, base + c);
      const float xc = x[base + c] - mean[c];
      dySum[c] += gi;
      dyXcSum[c] += gi * xc;
    }
  }
}

FLEET_CLONES void gradRows(const float* __restrict dy, const uint8_t* __restrict mask, const float* __restrict x, float* __restrict dx, float* __restrict dResidual, int64_t m0, int64_t m1, int64_t C, const float* __restrict mean, const float* __restrict ca, const float* __restrict cb, const float* __restrict cc) {
  for (int64_t m = m0; m < m1; m++) {
    const int64_t base = m * C;
    for (int64_t c = 0; c < C; c++) {
      const float gi = gated(dy, mask, base + c);
      const float xc = x[base + c] - mean[c];
      dx[base + c] = gi * ca[c] + xc * cb[c] + cc[c];
      if (dResidual) dResidual[base + c] = gi;
    }
  }
}

// p: offsets dy, mask (-1: no ReLU), x, mean, invStd, gamma, dx, dgamma, dbeta, dResidual (-1:
// none); then M, C.
// dx = gamma*invStd * (g - dbeta/M - xhat*dgamma/M) with g the (ReLU-gated) output gradient, in the
// same per-channel coefficient form as the tfjs path (batch-norm.ts).
void batchNormBackward(const Args& a) {
  const float* dy = a.f32(0);
  const uint8_t* mask = a.num(1) >= 0 ? a.u8(1) : nullptr;
  const float* x = a.f32(2);
  const float* mean = a.f32(3);
  const float* invStd = a.f32(4);
  const float* gamma = a.f32(5);
  float* dx = a.f32(6);
  float* dgamma = a.f32(7);
  float* dbeta = a.f32(8);
  float* dResidual = a.num(9) >= 0 ? a.f32(9) : nullptr;
  const int64_t M = static_cast<int64_t>(a.num(10));
  const int64_t C = static_cast<int64_t>(a.num(11));
  std::vector<float> dyXcSum(C), ca(C), cb(C), cc(C);
#pragma omp parallel
  {
    int64_t c0, c1;
    channelRange(C, c0, c1);
    if (c0 < c1) gradSumsRange(dy, mask, x, mean, M, C, c0, c1, dbeta, dyXcSum.data());
  }
  const float count = static_cast<float>(M);
  for (int64_t c = 0; c < C; c++) {
    dgamma[c] = dyXcSum[c] * invStd[c];
    ca[c] = gamma[c] * invStd[c];
    cb[c] = -((ca[c] * invStd[c]) * dgamma[c] / count);
    cc[c] = -(ca[c] * dbeta[c] / count);
  }
#pragma omp parallel
  {
    int64_t m0, m1;
    pixelRange(M, m0, m1);
    gradRows(dy, mask, x, dx, dResidual, m0, m1, C, mean, ca.data(), cb.data(), cc.data());
  }
}

// ---------------------------------------------------------------------------------------------
// Max-pool backward with PyTorch's routing (see wasm-max-pool-grad.ts for the semantics): the
// FIRST maximum of each window in row-major order (strict >, a NaN always wins), gradients
// scattered output by output in row-major order. Threads take whole images, so every image's
// scatter order — and result — is the same as the sequential one. Vectorised over channels: the
// winner of each channel is kept as a window position, then every position adds its gradient where
// it won (+0 elsewhere, which changes no float: dx is never -0, sums start at +0).
// p: offsets dy, x, dx; then N H W C Ho Wo kh kw sh sw dh dw padTop padLeft (kh/kw effective).
FLEET_CLONES void maxPoolGradImage(const float* __restrict g, const float* __restrict x, float* __restrict dx, int64_t n, int64_t H, int64_t W, int64_t C, int64_t Ho, int64_t Wo, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh, int64_t dw, int64_t top, int64_t left) {
  std::vector<float> bestValue(C);
  std::vector<int32_t> bestAt(C);
  std::vector<int64_t> window;
  float* __restrict best = bestValue.data();
  int32_t* __restrict at = bestAt.data();
  std::memset(dx + n * H * W * C, 0, sizeof(float) * H * W * C);
  for (int64_t oh = 0; oh < Ho; oh++) {
    int64_t h0 = oh * sh - top;
    const int64_t h1 = std::min(H, h0 + kh);
    while (h0 < 0) h0 += dh;
    for (int64_t ow = 0; ow < Wo; ow++) {
      int64_t w0 = ow * sw - left;
      const int64_t w1 = std::min(W, w0 + kw);
      while (w0 < 0) w0 += dw;
      if (h0 >= h1 || w0 >= w1) continue;
      window.clear();
      for (int64_t h = h0; h < h1; h += dh)
        for (int64_t w = w0; w < w1; w += dw) window.push_back(((n * H + h) * W + w) * C);
      for (int64_t c = 0; c < C; c++) {
        best[c] = -INFINITY;
        at[c] = 0;
      }
      const int32_t K = static_cast<int32_t>(window.size());
      for (int32_t k = 0; k < K; k++) {
        const float* __restrict xr = x + window[k];
        for (int64_t c = 0; c < C; c++) {
          const float v = xr[c];
          const bool take = (v > best[c]) | (v != v);
          best[c] = take ? v : best[c];
          at[c] = take ? k : at[c];
        }
      }
      const float* __restrict gr = g + ((n * Ho + oh) * Wo + ow) * C;
      for (int32_t k = 0; k < K; k++) {
        float* __restrict dr = dx + window[k];
        for (int64_t c = 0; c < C; c++) dr[c] += at[c] == k ? gr[c] : 0.f;
      }
    }
  }
}

void maxPoolGrad(const Args& a) {
  const float* g = a.f32(0);
  const float* x = a.f32(1);
  float* dx = a.f32(2);
  int64_t v[14];
  for (int i = 0; i < 14; i++) v[i] = static_cast<int64_t>(a.num(3 + i));
  const int64_t N = v[0];
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; n++) maxPoolGradImage(g, x, dx, n, v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13]);
}

// ---------------------------------------------------------------------------------------------
// SGD with momentum for one parameter tensor, torch.optim.SGD's arithmetic in float32 (dampening 0,
// no Nesterov), each step rounded as the tfjs ops it replaces round (sgd.ts):
//   d = g + weightDecay * p;  v = first ? d : momentum * v + d;  p' = p - lr * v
// One pass instead of four full-size ops on one wasm thread.
// p: offsets param, grad, buffer (-1 on the first step), newParam, newBuffer; then size, lr,
// momentum, weightDecay (all as float32, like tfjs's scalars).
FLEET_CLONES void sgdRange(const float* __restrict param, const float* __restrict grad, const float* __restrict buffer, float* __restrict outParam, float* __restrict outBuffer, int64_t i0, int64_t i1, float lr, float momentum, float weightDecay) {
  for (int64_t i = i0; i < i1; i++) {
    const float d = weightDecay != 0.f ? grad[i] + param[i] * weightDecay : grad[i];
    const float v = buffer ? buffer[i] * momentum + d : d;
    outBuffer[i] = v;
    outParam[i] = param[i] - v * lr;
  }
}

void sgdMomentum(const Args& a) {
  const float* param = a.f32(0);
  const float* grad = a.f32(1);
  const float* buffer = a.num(2) >= 0 ? a.f32(2) : nullptr;
  float* outParam = a.f32(3);
  float* outBuffer = a.f32(4);
  const int64_t size = static_cast<int64_t>(a.num(5));
  const float lr = static_cast<float>(a.num(6));
  const float momentum = static_cast<float>(a.num(7));
  const float weightDecay = static_cast<float>(a.num(8));
#pragma omp parallel if (size > 65536)
  {
    int64_t i0, i1;
    pixelRange(size, i0, i1);
    sgdRange(param, grad, buffer, outParam, outBuffer, i0, i1, lr, momentum, weightDecay);
  }
}

// ---------------------------------------------------------------------------------------------
// Setup and description

napi_value setThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t n = 0;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1) {
    napi_throw_range_error(env, "ONEDNN", "threads must be a positive integer");
    return nullptr;
  }
  omp_set_num_threads(n);
  return nullptr;
}

const char* isaName(dnnl::cpu_isa isa) {
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

/** {version, isa, threads, primitives}: what the fleet records with each run. */
napi_value describe(napi_env env, napi_callback_info) {
  const dnnl_version_t* v = dnnl_version();
  napi_value out, s, n;
  napi_create_object(env, &out);
  const std::string version = std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
  napi_create_string_utf8(env, version.c_str(), NAPI_AUTO_LENGTH, &s);
  napi_set_named_property(env, out, "version", s);
  napi_create_string_utf8(env, isaName(dnnl::get_effective_cpu_isa()), NAPI_AUTO_LENGTH, &s);
  napi_set_named_property(env, out, "isa", s);
  napi_create_int32(env, omp_get_max_threads(), &n);
  napi_set_named_property(env, out, "threads", n);
  {
    std::lock_guard<std::mutex> lock(cacheMutex);
    napi_create_int32(env, static_cast<int32_t>(convCache.size()), &n);
  }
  napi_set_named_property(env, out, "primitives", n);
  return out;
}

/** Drops every cached primitive (and its weights buffer); the next call of a shape recreates it. */
napi_value clearCache(napi_env, napi_callback_info) {
  std::lock_guard<std::mutex> lock(cacheMutex);
  convCache.clear();
  return nullptr;
}

}  // namespace

NAPI_MODULE_INIT() {
  const napi_property_descriptor props[] = {
      {"convForward", nullptr, wrap<convForward, 23>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"convBackwardData", nullptr, wrap<convBackwardData, 20>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"convBackwardWeights", nullptr, wrap<convBackwardWeights, 20>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormForward", nullptr, wrap<batchNormForward, 12>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormBackward", nullptr, wrap<batchNormBackward, 12>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"maxPoolGrad", nullptr, wrap<maxPoolGrad, 17>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sgdMomentum", nullptr, wrap<sgdMomentum, 9>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, setThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"describe", nullptr, describe, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"clearCache", nullptr, clearCache, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}
