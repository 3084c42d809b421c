// selfsup's JPEG decoder for image-folder: libjpeg-turbo's TurboJPEG API behind one Node-API
// function, built by native/build.mjs into build/selfsup_jpeg.node (its own addon: it needs
// libturbojpeg, not oneDNN). sharp decodes a 32 px JPEG in about 0.5 ms of CPU, nearly all of it
// libvips's per-image pipeline; libjpeg-turbo alone takes a few microseconds.
//
// It decodes only where the result is byte for byte what sharp's pipeline gives
// (plugins/datasets/image-decode.ts; a test compares them), and declines otherwise, returning the
// reason as a string, so that the caller hands the file to sharp:
// - not a JPEG, or a header TurboJPEG cannot read; CMYK/YCCK (sharp converts those to sRGB);
// - an embedded ICC profile (sharp may convert through it);
// - a colour JPEG asked for 1 channel (libvips's grey is its own formula);
// - a size other than the requested one (sharp resizes);
// - any warning or error while decoding (a truncated file: sharp's failOn 'warning' decides).
// Both use libjpeg-turbo's defaults: the accurate integer IDCT and fancy chroma upsampling.
//
//   decode(bytes: Uint8Array, channels: 1 | 3, size: number /* 0: any */)
//     -> { data: Buffer, width, height } | string (why not)
//   header(bytes: Uint8Array) -> { width, height } | string (why not): the probe at load
#include <node_api.h>
#include <turbojpeg.h>

#include <cstring>
#include <string>

namespace {

// One decompressor per thread (each decoding worker thread loads the addon).
struct Decompressor {
  tjhandle h = tjInitDecompress();
  ~Decompressor() {
    if (h) tjDestroy(h);
  }
};

tjhandle handle() {
  thread_local Decompressor d;
  return d.h;
}

enum class Icc { none, present, malformed };

// Walk the markers from SOI to SOS looking for an APP2 "ICC_PROFILE" segment.
Icc iccProfile(const unsigned char* p, size_t n) {
  size_t i = 2;
  while (i + 1 < n) {
    if (p[i] != 0xFF) return Icc::malformed;
    const unsigned char m = p[i + 1];
    if (m == 0xFF) {  // fill byte
      i++;
      continue;
    }
    if (m == 0xDA || m == 0xD9) return Icc::none;  // start of scan, end of image
    if ((m >= 0xD0 && m <= 0xD7) || m == 0x01) {   // markers without a length
      i += 2;
      continue;
    }
    if (i + 3 >= n) return Icc::malformed;
    const size_t len = (size_t(p[i + 2]) << 8) | p[i + 3];
    if (len < 2) return Icc::malformed;
    if (m == 0xE2 && len >= 14 && i + 4 + 12 <= n && std::memcmp(p + i + 4, "ICC_PROFILE\0", 12) == 0) return Icc::present;
    i += 2 + len;
  }
  return Icc::malformed;
}

napi_value str(napi_env env, const std::string& s) {
  napi_value v;
  napi_create_string_utf8(env, s.c_str(), s.size(), &v);
  return v;
}

// The Uint8Array argument v: its bytes, or false for anything else.
bool uint8Arg(napi_env env, napi_value v, const unsigned char** bytes, size_t* length) {
  bool isTyped = false;
  if (napi_is_typedarray(env, v, &isTyped) != napi_ok || !isTyped) return false;
  napi_typedarray_type type;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, v, &type, length, &data, nullptr, nullptr) != napi_ok || type != napi_uint8_array) return false;
  *bytes = static_cast<const unsigned char*>(data);
  return true;
}

struct JpegHeader {
  tjhandle h = nullptr;
  int width = 0, height = 0, colorspace = 0;
};

// The JPEG's header, read with this thread's decompressor: nullptr, or why it cannot be read.
const char* readHeader(const unsigned char* bytes, size_t length, JpegHeader& out) {
  if (length < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8) return "not a JPEG";
  out.h = handle();
  if (!out.h) return "TurboJPEG did not start";
  int subsamp = 0;
  if (tjDecompressHeader3(out.h, bytes, length, &out.width, &out.height, &subsamp, &out.colorspace) != 0) return tjGetErrorStr2(out.h);
  // a stream cut before its frame header "succeeds" with no size
  if (out.width < 1 || out.height < 1) return "no frame header in the bytes given";
  return nullptr;
}

// { width, height }
napi_value sizeObject(napi_env env, int width, int height) {
  napi_value result, wv, hv;
  napi_create_object(env, &result);
  napi_create_int32(env, width, &wv);
  napi_create_int32(env, height, &hv);
  napi_set_named_property(env, result, "width", wv);
  napi_set_named_property(env, result, "height", hv);
  return result;
}

napi_value Decode(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  const unsigned char* bytes = nullptr;
  size_t length = 0;
  int32_t channels = 0, size = 0;
  if (argc < 3 || !uint8Arg(env, argv[0], &bytes, &length) || napi_get_value_int32(env, argv[1], &channels) != napi_ok ||
      napi_get_value_int32(env, argv[2], &size) != napi_ok || (channels != 1 && channels != 3)) {
    napi_throw_type_error(env, nullptr, "decode(bytes: Uint8Array, channels: 1 | 3, size: number)");
    return nullptr;
  }
  JpegHeader hd;
  if (const char* why = readHeader(bytes, length, hd)) return str(env, why);
  if (hd.colorspace == TJCS_CMYK || hd.colorspace == TJCS_YCCK) return str(env, "CMYK");
  if (channels == 1 && hd.colorspace != TJCS_GRAY) return str(env, "a colour JPEG to grey");
  if (size > 0 && (hd.width != size || hd.height != size)) return str(env, "a resize");
  const Icc icc = iccProfile(bytes, length);
  if (icc != Icc::none) return str(env, icc == Icc::present ? "an ICC profile" : "markers not understood");

  void* out;
  napi_value buffer;
  if (napi_create_buffer(env, size_t(hd.width) * hd.height * channels, &out, &buffer) != napi_ok) return str(env, "no memory for the pixels");
  const int format = channels == 1 ? TJPF_GRAY : TJPF_RGB;
  if (tjDecompress2(hd.h, bytes, length, static_cast<unsigned char*>(out), hd.width, 0, hd.height, format, TJFLAG_STOPONWARNING) != 0)
    return str(env, tjGetErrorStr2(hd.h));
  napi_value result = sizeObject(env, hd.width, hd.height);
  napi_set_named_property(env, result, "data", buffer);
  return result;
}

// header(bytes) -> { width, height } | string: the size from the JPEG's header, as a probe.
napi_value Header(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  const unsigned char* bytes = nullptr;
  size_t length = 0;
  if (argc < 1 || !uint8Arg(env, argv[0], &bytes, &length)) {
    napi_throw_type_error(env, nullptr, "header(bytes: Uint8Array)");
    return nullptr;
  }
  JpegHeader hd;
  if (const char* why = readHeader(bytes, length, hd)) return str(env, why);
  return sizeObject(env, hd.width, hd.height);
}

}  // namespace

NAPI_MODULE_INIT() {
  const napi_property_descriptor props[] = {
      {"decode", nullptr, Decode, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"header", nullptr, Header, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}
