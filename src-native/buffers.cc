// SecBufferDesc arrays to and from JavaScript.
//
// JavaScript shapes:
//   input:  [{ type: number, buffer?: Uint8Array }]   type may carry SECBUFFER_READONLY bits
//   output: [{ type: number, size: number }]          size in bytes; 0 = let the package allocate
//   result: [{ type: number, size: number, buffer?: Buffer }]
#include "common.h"

namespace sspi {

namespace {

constexpr size_t kMaxBuffers = 16;           // SSPI calls use at most a handful
constexpr uint32_t kMaxBufferBytes = 1u << 26;  // 64 MiB: far above any token or TLS record

Napi::Object ElementAt(const Napi::Array& arr, uint32_t i, const char* what) {
  Napi::Value v = arr.Get(i);
  if (!v.IsObject()) {
    throw Napi::TypeError::New(arr.Env(), std::string(what) + "[" + std::to_string(i) + "] must be an object { type, ... }");
  }
  return v.As<Napi::Object>();
}

Napi::Array CheckArray(const Napi::Value& value, const char* what) {
  if (!value.IsArray()) throw Napi::TypeError::New(value.Env(), std::string(what) + " must be an array of SecBuffer descriptions");
  Napi::Array arr = value.As<Napi::Array>();
  if (arr.Length() > kMaxBuffers) {
    throw Napi::RangeError::New(value.Env(), std::string(what) + " has more than " + std::to_string(kMaxBuffers) + " buffers");
  }
  return arr;
}

}  // namespace

BufferDesc::~BufferDesc() { FreePackageMemory(); }

void BufferDesc::ParseInput(const Napi::Value& value, const char* what) {
  Napi::Array arr = CheckArray(value, what);
  uint32_t n = arr.Length();
  buffers_.resize(n);
  storage_.resize(n);
  for (uint32_t i = 0; i < n; i++) {
    Napi::Object o = ElementAt(arr, i, what);
    std::string item = std::string(what) + "[" + std::to_string(i) + "]";
    buffers_[i].BufferType = ToUint32(o.Get("type"), (item + ".type").c_str());
    Napi::Value b = o.Get("buffer");
    if (b.IsUndefined() || b.IsNull()) {
      buffers_[i].cbBuffer = 0;
      buffers_[i].pvBuffer = nullptr;
      continue;
    }
    if (!b.IsTypedArray() || b.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      throw Napi::TypeError::New(arr.Env(), item + ".buffer must be a Buffer or Uint8Array");
    }
    Napi::Uint8Array bytes = b.As<Napi::Uint8Array>();
    if (bytes.ByteLength() > kMaxBufferBytes) throw Napi::RangeError::New(arr.Env(), item + ".buffer is too large");
    storage_[i].assign(bytes.Data(), bytes.Data() + bytes.ByteLength());
    buffers_[i].cbBuffer = static_cast<unsigned long>(storage_[i].size());
    buffers_[i].pvBuffer = storage_[i].empty() ? nullptr : storage_[i].data();
  }
}

void BufferDesc::ParseOutput(const Napi::Value& value, const char* what) {
  Napi::Array arr = CheckArray(value, what);
  uint32_t n = arr.Length();
  output_ = true;
  buffers_.resize(n);
  storage_.resize(n);
  for (uint32_t i = 0; i < n; i++) {
    Napi::Object o = ElementAt(arr, i, what);
    std::string item = std::string(what) + "[" + std::to_string(i) + "]";
    buffers_[i].BufferType = ToUint32(o.Get("type"), (item + ".type").c_str());
    Napi::Value sz = o.Get("size");
    uint32_t size = sz.IsUndefined() ? 0 : ToUint32(sz, (item + ".size").c_str());
    if (size > kMaxBufferBytes) throw Napi::RangeError::New(arr.Env(), item + ".size is too large");
    storage_[i].assign(size, 0);
    buffers_[i].cbBuffer = size;
    buffers_[i].pvBuffer = size ? storage_[i].data() : nullptr;
  }
}

SecBufferDesc* BufferDesc::desc() {
  desc_.ulVersion = SECBUFFER_VERSION;
  desc_.cBuffers = static_cast<unsigned long>(buffers_.size());
  desc_.pBuffers = buffers_.empty() ? nullptr : buffers_.data();
  return &desc_;
}

// A buffer whose pvBuffer is neither NULL nor inside memory this object owns was allocated by the
// security package (ISC_REQ_ALLOCATE_MEMORY / ASC_REQ_ALLOCATE_MEMORY) and is ours to release with
// FreeContextBuffer.
static bool OwnedBy(const std::vector<std::vector<uint8_t>>& storage, const void* p) {
  const uint8_t* b = static_cast<const uint8_t*>(p);
  for (const auto& s : storage) {
    if (!s.empty() && b >= s.data() && b < s.data() + s.size()) return true;
  }
  return false;
}

void BufferDesc::FreePackageMemory() {
  if (!output_) return;
  for (auto& buf : buffers_) {
    if (buf.pvBuffer != nullptr && !OwnedBy(storage_, buf.pvBuffer)) {
      FreeContextBuffer(buf.pvBuffer);
      buf.pvBuffer = nullptr;
    }
  }
}

Napi::Array BufferDesc::Collect(Napi::Env env, bool withBytes) {
  Napi::Array out = Napi::Array::New(env, buffers_.size());
  for (size_t i = 0; i < buffers_.size(); i++) {
    const SecBuffer& buf = buffers_[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("type", Napi::Number::New(env, buf.BufferType));
    o.Set("size", Napi::Number::New(env, buf.cbBuffer));
    // SECBUFFER_MISSING and SECBUFFER_EXTRA may carry a count with no pointer; only copy real bytes.
    if (withBytes && buf.pvBuffer != nullptr) {
      o.Set("buffer", Napi::Buffer<uint8_t>::Copy(env, static_cast<const uint8_t*>(buf.pvBuffer), buf.cbBuffer));
    }
    out.Set(static_cast<uint32_t>(i), o);
  }
  FreePackageMemory();
  return out;
}

}  // namespace sspi
