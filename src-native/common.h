// Shared declarations of the native layer.
//
// House rule: this layer only marshals and owns handles. It never decides policy (loops, defaults,
// HTTP); every SSPI status, success or failure, is returned to JavaScript as a number, and the
// TypeScript facade decides what to throw. Only JavaScript misuse (wrong types, a disposed or busy
// handle) throws here, as TypeError / Error.
#pragma once

#ifndef UNICODE
#define UNICODE
#endif
#ifndef _UNICODE
#define _UNICODE
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef SECURITY_WIN32
#define SECURITY_WIN32
#endif

#include <windows.h>
#include <sspi.h>

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sspi {

// Per-environment state (one per main thread / worker_thread): constructors of the handle classes.
struct AddonData {
  Napi::FunctionReference credHandleCtor;
  Napi::FunctionReference ctxtHandleCtor;
};

// SECURITY_STATUS is a signed LONG; JavaScript sees it as the unsigned 32-bit value that sspi.h and
// winerror.h print (0x8009030C, not -2146893044).
inline Napi::Number StatusValue(Napi::Env env, SECURITY_STATUS status) {
  return Napi::Number::New(env, static_cast<double>(static_cast<uint32_t>(status)));
}

// TimeStamp (100-ns intervals since 1601-01-01) as a BigInt, the unit SSPI uses.
inline Napi::BigInt TimeStampValue(Napi::Env env, const TimeStamp& ts) {
  return Napi::BigInt::New(env, static_cast<int64_t>(ts.QuadPart));
}

// JS string -> NUL-terminated UTF-16 (wchar_t is UTF-16 on Windows).
std::wstring ToWide(const Napi::Value& value, const char* what);
// Optional string: undefined/null -> empty + present=false.
bool ToWideOptional(const Napi::Value& value, const char* what, std::wstring* out);
Napi::String FromWide(Napi::Env env, const wchar_t* s);
Napi::String FromWide(Napi::Env env, const wchar_t* s, size_t chars);

// Overwrites memory that held a secret (passwords) so it does not linger in the heap.
void WipeSecret(std::wstring* s);

uint32_t ToUint32(const Napi::Value& value, const char* what);

// SecPkgInfoW as a JS object with SSPI's field names; null for a NULL pointer. Copies only: the
// caller still frees the structure with FreeContextBuffer.
Napi::Value PackageInfoValue(Napi::Env env, const SecPkgInfoW* p);

// ---- handles (handles.cc) ----

// Owns one CredHandle. Created only by the native layer (AcquireCredentialsHandle); JavaScript cannot
// construct or forge one. FreeCredentialsHandle runs on dispose() or, failing that, in the finalizer.
class CredHandleWrap : public Napi::ObjectWrap<CredHandleWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Object New(Napi::Env env, const CredHandle& handle);
  // Unwraps `value` if it really is a CredHandle object of this addon (type-tag checked), else throws.
  static CredHandleWrap* From(const Napi::Value& value, const char* what);

  explicit CredHandleWrap(const Napi::CallbackInfo& info);
  ~CredHandleWrap() override;

  CredHandle* handle() { return &handle_; }
  bool valid() const { return valid_; }
  // Pending asynchronous calls using this handle; a free requested meanwhile waits for them.
  void AddUse() { ++uses_; }
  void ReleaseUse();

 private:
  Napi::Value Free(const Napi::CallbackInfo& info);
  Napi::Value GetValid(const Napi::CallbackInfo& info);
  SECURITY_STATUS FreeNow();

  CredHandle handle_{};
  bool valid_ = false;
  bool freeRequested_ = false;
  int uses_ = 0;
};

// Owns one CtxtHandle. JavaScript creates an empty one (`new CtxtHandle()`); the first
// InitializeSecurityContext / AcceptSecurityContext call fills it. DeleteSecurityContext runs on
// dispose() or in the finalizer. A context serves one call at a time: SSPI contexts are not safe for
// concurrent calls, so a second call while one is pending throws.
class CtxtHandleWrap : public Napi::ObjectWrap<CtxtHandleWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  static CtxtHandleWrap* From(const Napi::Value& value, const char* what);

  explicit CtxtHandleWrap(const Napi::CallbackInfo& info);
  ~CtxtHandleWrap() override;

  CtxtHandle* handle() { return &handle_; }
  bool valid() const { return valid_; }
  // Takes the handle a first InitializeSecurityContext / AcceptSecurityContext call created.
  void Adopt(const CtxtHandle& h) { handle_ = h; valid_ = true; }
  bool busy() const { return busy_; }
  void BeginUse() { busy_ = true; }
  void EndUse();
  // Throws unless the context can take a new call now.
  void CheckUsable(Napi::Env env, const char* fn);

 private:
  Napi::Value Delete(const Napi::CallbackInfo& info);
  Napi::Value GetValid(const Napi::CallbackInfo& info);
  SECURITY_STATUS DeleteNow();

  CtxtHandle handle_{};
  bool valid_ = false;
  bool deleted_ = false;
  bool deleteRequested_ = false;
  bool busy_ = false;
};

// ---- SecBufferDesc marshalling (buffers.cc) ----

// One SecBufferDesc with memory the addon owns. Input buffers are copied from JavaScript before the
// call (so an asynchronous call never touches JavaScript memory from another thread); output
// buffers are either caller-supplied (size bytes) or, with *_REQ_ALLOCATE_MEMORY, left for the
// package to allocate, in which case Collect() copies and then FreeContextBuffer()s them.
class BufferDesc {
 public:
  BufferDesc() = default;
  BufferDesc(const BufferDesc&) = delete;
  BufferDesc& operator=(const BufferDesc&) = delete;
  ~BufferDesc();

  // [{ type, buffer }] -> input buffers (buffer may be absent for e.g. SECBUFFER_EMPTY / MISSING).
  void ParseInput(const Napi::Value& value, const char* what);
  // [{ type, size }] -> output buffers; size 0 leaves pvBuffer NULL for the package to allocate.
  void ParseOutput(const Napi::Value& value, const char* what);

  SecBufferDesc* desc();
  bool empty() const { return buffers_.empty(); }

  // Releases package-allocated memory. Called after Collect(), and by the destructor regardless.
  void FreePackageMemory();

  // After the call: [{ type, size, buffer? }]. withBytes copies the bytes into new Buffers.
  Napi::Array Collect(Napi::Env env, bool withBytes);

 private:
  std::vector<SecBuffer> buffers_;
  std::vector<std::vector<uint8_t>> storage_;  // addon-owned memory, one per buffer
  bool output_ = false;  // only output buffers can hold package-allocated memory
  SecBufferDesc desc_{};
};

// ---- exported functions ----
void InitPackages(Napi::Env env, Napi::Object exports);
void InitCredentials(Napi::Env env, Napi::Object exports);
void InitContexts(Napi::Env env, Napi::Object exports);
void InitConstants(Napi::Env env, Napi::Object exports);

// A call that can run either inline (sync) or on the libuv thread pool (async, promise-returning).
// Parse() runs on the JS thread, Execute() on either, Result() on the JS thread.
class SspiCall {
 public:
  virtual ~SspiCall() = default;
  virtual void Execute() = 0;
  virtual Napi::Value Result(Napi::Env env) = 0;
  // Called on the JS thread once the call is over (also after a failed Execute), to release handles.
  virtual void Finish() {}
};

// Runs `call` synchronously, or queues it and returns a promise, according to `async`.
Napi::Value Dispatch(Napi::Env env, SspiCall* call, bool async);

}  // namespace sspi
