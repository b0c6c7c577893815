// SecBufferDesc arrays to and from JavaScript (the shapes are described in common.h, BufferDesc).
#include "common.h"

#include <algorithm>
#include <mutex>  // std::lock_guard

namespace sspi {

namespace {

constexpr uint32_t kMaxBufferBytes = 1u << 26;  // 64 MiB: far above any token, TLS record or message

// The addon's buffer memory (a step's cbMaxToken output buffer, an asynchronous call's copies) is taken
// from, and given back to, a small cache of blocks instead of the heap at every call. Measured inside
// node.exe under Wine: heap allocation was ~9% of a Kerberos handshake's time, in the heap's general
// (non-LFH) path that blocks of cbMaxToken (12,000 B) and up take.
//
// Invariant: every cached block is all zero bytes (a new block is zeroed; a block coming back is wiped
// over its whole capacity), so a block taken for "cbBuffer zero bytes" needs no memset.
class Blocks {
 public:
  static constexpr size_t kMinBlock = 4096;         // size classes 4 KiB, 8 KiB, ... 1 MiB
  static constexpr size_t kClasses = 9;
  static constexpr size_t kPerClass = 8;
  static constexpr size_t kMaxCachedBytes = 4u << 20;  // memory kept idle at most

  uint8_t* Take(size_t size, size_t* capacity) {
    size_t c = ClassOf(size);
    if (c < kClasses) {
      size_t cap = kMinBlock << c;
      {
        std::lock_guard<SlimLock> lock(mu_);
        if (counts_[c] > 0) {
          cached_ -= cap;
          *capacity = cap;
          return free_[c][--counts_[c]];
        }
      }
      *capacity = cap;
      return new uint8_t[cap]();
    }
    *capacity = size;
    return new uint8_t[size]();
  }

  // `block` must be all zero again (wiped by the caller).
  void Give(uint8_t* block, size_t capacity) {
    size_t c = ClassOf(capacity);
    if (c < kClasses && (kMinBlock << c) == capacity) {
      std::lock_guard<SlimLock> lock(mu_);
      if (counts_[c] < kPerClass && cached_ + capacity <= kMaxCachedBytes) {
        free_[c][counts_[c]++] = block;
        cached_ += capacity;
        return;
      }
    }
    delete[] block;
  }

 private:
  static size_t ClassOf(size_t size) {
    size_t c = 0;
    while (c < kClasses && (kMinBlock << c) < size) c++;
    return c;
  }

  SlimLock mu_;
  uint8_t* free_[kClasses][kPerClass]{};
  size_t counts_[kClasses]{};
  size_t cached_ = 0;
};

// Never destroyed: a queue thread may still give a block back while the process exits.
Blocks& TheBlocks() {
  static Blocks* blocks = new Blocks();
  return *blocks;
}

[[noreturn]] void ThrowAt(Napi::Env env, bool range, const char* what, uint32_t i, const std::string& message) {
  std::string text = std::string(what) + "[" + std::to_string(i) + "]" + message;
  if (range) throw Napi::RangeError::New(env, text);
  throw Napi::TypeError::New(env, text);
}

// A Uint8Array's memory (data NULL once its ArrayBuffer is detached) and its ArrayBuffer.
struct Uint8View {
  const uint8_t* data = nullptr;
  size_t length = 0;
  napi_value arrayBuffer = nullptr;
};

// False when `value` is not a Uint8Array (a Buffer is one).
bool ViewOf(napi_env env, napi_value value, Uint8View* view) {
  napi_typedarray_type type = napi_int8_array;
  size_t offset = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, value, &type, &view->length, &data, &view->arrayBuffer, &offset) != napi_ok ||
      type != napi_uint8_array) {
    return false;
  }
  view->data = static_cast<const uint8_t*>(data);
  return true;
}

napi_valuetype TypeOf(Napi::Env env, napi_value v) {
  napi_valuetype type = napi_undefined;
  NAPI_THROW_IF_FAILED(env, napi_typeof(env, v, &type), napi_undefined);
  return type;
}

// A SecBuffer field that must be an integer from 0 to 0xFFFFFFFF. Every call reads a few of these, so
// a number costs one Node-API call (napi_get_value_double fails for anything else).
uint32_t FieldUint32(Napi::Env env, napi_value v, const char* what, uint32_t i, const char* field) {
  double d = 0;
  if (napi_get_value_double(env, v, &d) != napi_ok) ThrowAt(env, false, what, i, std::string(".") + field + " must be a number");
  if (d >= 0 && d <= 4294967295.0 && d == static_cast<double>(static_cast<uint64_t>(d))) return static_cast<uint32_t>(d);
  ThrowAt(env, true, what, i, std::string(".") + field + " must be an integer from 0 to 0xFFFFFFFF");
}

}  // namespace

BufferDesc::~BufferDesc() {
  FreePackageMemory();
  for (size_t i = 0; i < count_; i++) {
    Span& s = spans_[i];
    if (!s.owned || s.data == nullptr) continue;
    // The whole block, not only the cbBuffer bytes SSPI was given: the cache's blocks must be all zero
    // again even if a package wrote past cbBuffer.
    SecureZeroMemory(s.data, s.capacity);
    TheBlocks().Give(s.data, s.capacity);
    s.data = nullptr;
  }
}

void BufferDesc::Parse(const Napi::Value& value, const char* what, bool packageMayAllocate, Mode mode) {
  Napi::Env env = value.Env();
  napi_valuetype type = TypeOf(env, value);
  if (type == napi_null || type == napi_undefined) return;
  if (!value.IsArray()) throw Napi::TypeError::New(env, std::string(what) + " must be an array of SecBuffers or null");
  Napi::Array arr = value.As<Napi::Array>();
  uint32_t n = arr.Length();
  if (n > kMaxBuffers) {
    throw Napi::RangeError::New(env, std::string(what) + " has more than " + std::to_string(kMaxBuffers) + " buffers");
  }
  present_ = true;
  packageMayAllocate_ = packageMayAllocate;

  // Reads every property now (getters may run JavaScript); Bind() takes the memory pointers later,
  // after every argument of the call is read, so no getter can detach a buffer SSPI is given.
  what_ = what;
  mode_ = mode;
  count_ = n;
  for (uint32_t i = 0; i < n; i++) {
    Napi::Value v = arr.Get(i);
    if (TypeOf(env, v) != napi_object) ThrowAt(env, false, what, i, " must be a SecBuffer { BufferType, cbBuffer?, pvBuffer? }");
    Napi::Object o = v.As<Napi::Object>();
    types_[i] = FieldUint32(env, o.Get("BufferType"), what, i, "BufferType");
    Napi::Value pv = o.Get("pvBuffer");
    Napi::Value cb = o.Get("cbBuffer");
    napi_valuetype pvType = TypeOf(env, pv);
    memory_[i] = nullptr;
    if (pvType != napi_undefined && pvType != napi_null) {
      Uint8View view;
      if (pvType != napi_object || !ViewOf(env, pv, &view)) ThrowAt(env, false, what, i, ".pvBuffer must be a Buffer, a Uint8Array or null");
      memory_[i] = pv;
    }
    napi_valuetype cbType = TypeOf(env, cb);
    sized_[i] = cbType != napi_undefined && cbType != napi_null;
    sizes_[i] = sized_[i] ? FieldUint32(env, cb, what, i, "cbBuffer") : 0;
    if (sizes_[i] > kMaxBufferBytes) ThrowAt(env, true, what, i, ".cbBuffer is larger than 64 MiB");
  }
  unbound_ = true;
}

void BufferDesc::Bind(Napi::Env env) {
  if (!unbound_) return;
  unbound_ = false;
  const char* what = what_;
  for (uint32_t i = 0; i < count_; i++) {
    const bool lent = memory_[i] != nullptr;  // the caller gave a pvBuffer
    const uint8_t* bytes = nullptr;
    size_t available = 0;
    bool shared = false;
    if (lent) {
      // Parse saw a Uint8Array here; read again now that no getter can run any more.
      Uint8View view;
      if (!ViewOf(env, memory_[i], &view)) ThrowAt(env, false, what, i, ".pvBuffer must be a Buffer, a Uint8Array or null");
      bytes = view.data;
      available = bytes ? view.length : 0;  // a detached buffer has no memory
      // A view of a SharedArrayBuffer (napi_is_arraybuffer is false for one): other threads may change
      // it while SSPI reads it, so SSPI gets a copy even in a synchronous call.
      bool plain = true;
      NAPI_THROW_IF_FAILED_VOID(env, napi_is_arraybuffer(env, view.arrayBuffer, &plain));
      shared = !plain;
    }
    uint32_t size = sizes_[i];
    if (!sized_[i]) {
      if (available > kMaxBufferBytes) ThrowAt(env, true, what, i, ".pvBuffer is larger than 64 MiB");
      size = static_cast<uint32_t>(available);
    }
    if (lent && size > available) {
      ThrowAt(env, true, what, i,
              ".cbBuffer (" + std::to_string(size) + ") is larger than its pvBuffer (" + std::to_string(available) + " bytes)");
    }
    Span& s = spans_[i];
    s.size = size;
    if (size == 0) {
      s.data = nullptr;
    } else if (lent && mode_ == Mode::kInPlace && !shared) {
      s.data = const_cast<uint8_t*>(bytes);
    } else {
      s.data = TheBlocks().Take(size, &s.capacity);
      s.owned = true;
      s.copied = lent;
      if (lent) memcpy(s.data, bytes, size);
    }
    buffers_[i].BufferType = types_[i];
    buffers_[i].cbBuffer = size;
    buffers_[i].pvBuffer = s.data;
    supplied_[i] = s.data;
  }
}

SecBufferDesc* BufferDesc::desc() {
  if (!present_) return nullptr;
  desc_.ulVersion = SECBUFFER_VERSION;
  desc_.cBuffers = static_cast<unsigned long>(count_);
  desc_.pBuffers = count_ == 0 ? nullptr : buffers_;
  return &desc_;
}

int BufferDesc::OwnerOf(const void* p, size_t* offset) const {
  const uint8_t* b = static_cast<const uint8_t*>(p);
  for (size_t j = 0; j < count_; j++) {
    const Span& s = spans_[j];
    if (s.size != 0 && b >= s.data && b < s.data + s.size) {
      *offset = static_cast<size_t>(b - s.data);
      return static_cast<int>(j);
    }
  }
  return -1;
}

// Package memory: a pointer that is neither NULL nor inside this descriptor's memory, in a buffer the
// addon passed as NULL, in a call that allows the package to allocate (ISC/ASC with *_ALLOCATE_MEMORY).
void BufferDesc::FreePackageMemory() {
  if (!packageMayAllocate_) return;
  for (size_t i = 0; i < count_; i++) {
    SecBuffer& buf = buffers_[i];
    size_t offset = 0;
    if (buf.pvBuffer != nullptr && supplied_[i] == nullptr && OwnerOf(buf.pvBuffer, &offset) < 0) {
      FreePackageBuffer(buf.pvBuffer);
    }
  }
}

Napi::Value BufferDesc::Collect(Napi::Env env, size_t slot) {
  if (!present_) return env.Null();
  // The numbers go into one Float64Array (two Node-API calls, however many buffers): building an object
  // per SecBuffer was most of a call's marshalling (measured: ~3 of ~5 us for two buffers). A
  // synchronous call writes them into the environment's scratch ArrayBuffer (its JavaScript caller reads
  // them before anything else runs), so it allocates no memory for them: an ArrayBuffer per call is only
  // freed by V8 on a later turn of the event loop, which a synchronous loop may not give.
  const size_t words = 1 + kWordsPerBuffer * count_;
  void* raw = nullptr;
  napi_value arrayBuffer = nullptr, numbers = nullptr;
  size_t byteOffset = 0;
  if (mode_ == Mode::kInPlace) {
    AddonData* data = env.GetInstanceData<AddonData>();
    if (data->resultScratch.IsEmpty()) {
      data->resultScratch = Napi::Persistent(Napi::ArrayBuffer::New(env, kScratchSlots * kSlotWords * sizeof(double)));
    }
    Napi::ArrayBuffer scratch = data->resultScratch.Value();
    arrayBuffer = scratch;
    byteOffset = slot * kSlotWords * sizeof(double);
    raw = static_cast<uint8_t*>(scratch.Data()) + byteOffset;
  } else {
    NAPI_THROW_IF_FAILED(env, napi_create_arraybuffer(env, words * sizeof(double), &raw, &arrayBuffer), Napi::Value());
  }
  NAPI_THROW_IF_FAILED(env, napi_create_typedarray(env, napi_float64_array, words, arrayBuffer, byteOffset, &numbers), Napi::Value());
  double* f = static_cast<double*>(raw);  // an ArrayBuffer's memory does not move
  f[0] = static_cast<double>(count_);
  // How far SecBuffers reach into each memory span (what of addon-supplied memory JavaScript can see).
  size_t reach[kMaxBuffers] = {};
  bool referenced[kMaxBuffers] = {};
  napi_value values[kMaxBuffers] = {};  // per index: a span's bytes, or a package buffer's copy
  for (size_t i = 0; i < count_; i++) {
    const SecBuffer& buf = buffers_[i];
    double* w = f + 1 + kWordsPerBuffer * i;
    w[0] = static_cast<double>(buf.BufferType);
    w[1] = static_cast<double>(buf.cbBuffer);
    w[2] = kNowhere;
    w[3] = 0;
    size_t offset = 0;
    int owner = buf.pvBuffer ? OwnerOf(buf.pvBuffer, &offset) : -1;
    if (owner >= 0) {
      w[2] = owner;
      w[3] = static_cast<double>(offset);
      referenced[owner] = true;
      reach[owner] = std::max(reach[owner], std::min(spans_[owner].size, offset + static_cast<size_t>(buf.cbBuffer)));
    } else if (buf.pvBuffer != nullptr && packageMayAllocate_ && supplied_[i] == nullptr) {
      // Buffer i was passed with no memory (its span is empty), so its slot is free for the copy.
      w[2] = kPackageMemory;
      values[i] = Napi::Buffer<uint8_t>::Copy(env, static_cast<const uint8_t*>(buf.pvBuffer), buf.cbBuffer);
    }
    // Any other pointer is memory neither the caller, the addon nor (by this call's rules) the package
    // gave: not read.
  }
  // The bytes JavaScript gets back, once per span: a caller's writable buffer that was copied (all of
  // it, to be written back into the caller's Uint8Array); addon-supplied memory (as far as SecBuffers
  // reach into it); nothing for in-place memory (SSPI wrote into the caller's own) or read-only copies.
  bool any = false;
  for (size_t j = 0; j < count_; j++) {
    const Span& s = spans_[j];
    bool readOnly = (types_[j] & (SECBUFFER_READONLY | SECBUFFER_READONLY_WITH_CHECKSUM)) != 0;
    if (s.owned && s.data != nullptr && !(s.copied && readOnly) && (s.copied || referenced[j])) {
      values[j] = Napi::Buffer<uint8_t>::Copy(env, s.data, s.copied ? s.size : reach[j]);
    }
    any = any || values[j] != nullptr;
  }
  FreePackageMemory();
  if (!any) return Napi::Value(env, numbers);
  Napi::Array result = Napi::Array::New(env, 1 + count_);
  result.Set(0u, Napi::Value(env, numbers));
  for (size_t j = 0; j < count_; j++) {
    if (values[j] != nullptr) result.Set(static_cast<uint32_t>(1 + j), Napi::Value(env, values[j]));
  }
  return result;
}

}  // namespace sspi
