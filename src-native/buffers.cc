// SecBufferDesc arrays to and from JavaScript (the shapes are described in common.h, BufferDesc).
#include "common.h"

namespace sspi {

namespace {

constexpr size_t kMaxBuffers = 16;              // SSPI calls use at most a handful
constexpr uint32_t kMaxBufferBytes = 1u << 26;  // 64 MiB: far above any token, TLS record or message

Napi::Object ElementAt(const Napi::Array& arr, uint32_t i, const char* what) {
  Napi::Value v = arr.Get(i);
  if (!v.IsObject()) {
    throw Napi::TypeError::New(arr.Env(), std::string(what) + "[" + std::to_string(i) +
                                              "] must be a SecBuffer { BufferType, cbBuffer?, pvBuffer? }");
  }
  return v.As<Napi::Object>();
}

}  // namespace

BufferDesc::~BufferDesc() {
  FreePackageMemory();
  for (auto& s : storage_) {
    if (!s.empty()) SecureZeroMemory(s.data(), s.size());
  }
}

void BufferDesc::Parse(const Napi::Value& value, const char* what, bool packageMayAllocate) {
  Napi::Env env = value.Env();
  if (value.IsNull() || value.IsUndefined()) return;
  if (!value.IsArray()) throw Napi::TypeError::New(env, std::string(what) + " must be an array of SecBuffers or null");
  Napi::Array arr = value.As<Napi::Array>();
  uint32_t n = arr.Length();
  if (n > kMaxBuffers) {
    throw Napi::RangeError::New(env, std::string(what) + " has more than " + std::to_string(kMaxBuffers) + " buffers");
  }
  present_ = true;
  packageMayAllocate_ = packageMayAllocate;
  buffers_.resize(n);
  storage_.resize(n);
  supplied_.resize(n);
  types_.resize(n);
  for (uint32_t i = 0; i < n; i++) {
    Napi::Object o = ElementAt(arr, i, what);
    std::string item = std::string(what) + "[" + std::to_string(i) + "]";
    buffers_[i].BufferType = ToUint32(o.Get("BufferType"), (item + ".BufferType").c_str());
    types_[i] = buffers_[i].BufferType;
    Napi::Value pv = o.Get("pvBuffer");
    Napi::Value cb = o.Get("cbBuffer");
    const uint8_t* bytes = nullptr;
    size_t available = 0;
    if (!pv.IsUndefined() && !pv.IsNull()) {
      if (!pv.IsTypedArray() || pv.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
        throw Napi::TypeError::New(env, item + ".pvBuffer must be a Buffer, a Uint8Array or null");
      }
      Napi::Uint8Array a = pv.As<Napi::Uint8Array>();
      bytes = a.Data();
      available = a.ByteLength();
    }
    uint32_t size = cb.IsUndefined() || cb.IsNull() ? 0 : ToUint32(cb, (item + ".cbBuffer").c_str());
    if (cb.IsUndefined() || cb.IsNull()) {
      if (available > kMaxBufferBytes) throw Napi::RangeError::New(env, item + ".pvBuffer is larger than 64 MiB");
      size = static_cast<uint32_t>(available);
    }
    if (size > kMaxBufferBytes) throw Napi::RangeError::New(env, item + ".cbBuffer is larger than 64 MiB");
    if (bytes != nullptr && size > available) {
      throw Napi::RangeError::New(env, item + ".cbBuffer (" + std::to_string(size) + ") is larger than its pvBuffer (" +
                                           std::to_string(available) + " bytes)");
    }
    if (bytes != nullptr) {
      storage_[i].assign(bytes, bytes + size);
    } else {
      storage_[i].assign(size, 0);
    }
    buffers_[i].cbBuffer = size;
    buffers_[i].pvBuffer = size ? storage_[i].data() : nullptr;
    supplied_[i] = buffers_[i].pvBuffer;
  }
}

SecBufferDesc* BufferDesc::desc() {
  if (!present_) return nullptr;
  desc_.ulVersion = SECBUFFER_VERSION;
  desc_.cBuffers = static_cast<unsigned long>(buffers_.size());
  desc_.pBuffers = buffers_.empty() ? nullptr : buffers_.data();
  return &desc_;
}

int BufferDesc::OwnerOf(const void* p, size_t* offset) const {
  const uint8_t* b = static_cast<const uint8_t*>(p);
  for (size_t j = 0; j < storage_.size(); j++) {
    const auto& s = storage_[j];
    if (!s.empty() && b >= s.data() && b < s.data() + s.size()) {
      *offset = static_cast<size_t>(b - s.data());
      return static_cast<int>(j);
    }
  }
  return -1;
}

// Package memory: a pointer that is neither NULL nor inside the addon's memory, in a buffer the addon
// passed as NULL, in a call that allows the package to allocate (ISC/ASC with *_ALLOCATE_MEMORY).
void BufferDesc::FreePackageMemory() {
  if (!packageMayAllocate_) return;
  for (size_t i = 0; i < buffers_.size(); i++) {
    SecBuffer& buf = buffers_[i];
    size_t offset = 0;
    if (buf.pvBuffer != nullptr && supplied_[i] == nullptr && OwnerOf(buf.pvBuffer, &offset) < 0) {
      FreePackageBuffer(buf.pvBuffer);
    }
  }
}

Napi::Value BufferDesc::Collect(Napi::Env env) {
  if (!present_) return env.Null();
  Napi::Object result = Napi::Object::New(env);
  Napi::Array list = Napi::Array::New(env, buffers_.size());
  for (size_t i = 0; i < buffers_.size(); i++) {
    const SecBuffer& buf = buffers_[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("BufferType", Napi::Number::New(env, buf.BufferType));
    o.Set("cbBuffer", Napi::Number::New(env, buf.cbBuffer));
    size_t offset = 0;
    int owner = buf.pvBuffer ? OwnerOf(buf.pvBuffer, &offset) : -1;
    if (owner >= 0) {
      Napi::Array at = Napi::Array::New(env, 2);
      at.Set(0u, Napi::Number::New(env, owner));
      at.Set(1u, Napi::Number::New(env, static_cast<double>(offset)));
      o.Set("at", at);
    } else if (buf.pvBuffer != nullptr && packageMayAllocate_ && supplied_[i] == nullptr) {
      o.Set("bytes", Napi::Buffer<uint8_t>::Copy(env, static_cast<const uint8_t*>(buf.pvBuffer), buf.cbBuffer));
    }
    // Any other pointer is memory neither the addon nor (by this call's rules) the package gave: not read.
    list.Set(static_cast<uint32_t>(i), o);
  }
  // The final bytes of every buffer SSPI may have written (not SECBUFFER_READONLY*), once each.
  Napi::Array data = Napi::Array::New(env, storage_.size());
  for (size_t j = 0; j < storage_.size(); j++) {
    bool readOnly = (types_[j] & (SECBUFFER_READONLY | SECBUFFER_READONLY_WITH_CHECKSUM)) != 0;
    if (storage_[j].empty() || readOnly) {
      data.Set(static_cast<uint32_t>(j), env.Null());
    } else {
      data.Set(static_cast<uint32_t>(j), Napi::Buffer<uint8_t>::Copy(env, storage_[j].data(), storage_[j].size()));
    }
  }
  result.Set("buffers", list);
  result.Set("data", data);
  FreePackageMemory();
  return result;
}

}  // namespace sspi
