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
#include <memory>
#include <string>
#include <vector>

namespace sspi {

struct Channel;  // queue.cc: one delivery channel per environment

// Per-environment state (one per main thread / worker_thread): constructors of the handle classes, and
// the channel that brings asynchronous results back to this environment's JavaScript thread.
struct AddonData {
  Napi::FunctionReference credHandleCtor;
  Napi::FunctionReference ctxtHandleCtor;
  std::shared_ptr<Channel> channel;  // made by the first asynchronous call (queue.cc)
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

// JS string -> NUL-terminated UTF-16 (wchar_t is UTF-16 on Windows), converted straight into the
// std::wstring's own buffer (no intermediate copy).
std::wstring ToWide(const Napi::Value& value, const char* what);
// Optional string: undefined/null -> empty + present=false.
bool ToWideOptional(const Napi::Value& value, const char* what, std::wstring* out);
Napi::String FromWide(Napi::Env env, const wchar_t* s);
Napi::String FromWide(Napi::Env env, const wchar_t* s, size_t chars);

// A secret (a password) in UTF-16, in one heap block this object owns and wipes (SecureZeroMemory) on
// Wipe() and in its destructor, so every path out of the code that holds it, a throw included, leaves
// no copy behind. Not copyable or movable: a moved std::wstring short enough for its inline buffer
// would leave an unwiped copy in the moved-from object.
class Secret {
 public:
  Secret() = default;
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  ~Secret() { Wipe(); }

  // Reads a JS string straight into this object's buffer (napi_get_value_string_utf16, no intermediate
  // std::u16string); undefined/null -> not present. A TypeError for other types or an embedded NUL
  // (whose message never includes the value).
  bool Read(const Napi::Value& value, const char* what);
  void Wipe();
  bool present() const { return chars_ != nullptr; }
  wchar_t* data() { return chars_.get(); }
  size_t size() const { return size_; }

 private:
  std::unique_ptr<wchar_t[]> chars_;
  size_t size_ = 0;
};

uint32_t ToUint32(const Napi::Value& value, const char* what);

// SecPkgInfoW as a JS object with SSPI's field names; null for a NULL pointer. Copies only: the
// caller still frees the structure with FreeContextBuffer.
Napi::Value PackageInfoValue(Napi::Env env, const SecPkgInfoW* p);

// ---- handles (handles.cc) ----
//
// A handle's state lives in a reference-counted object shared by its JavaScript object and by every
// asynchronous call using it, and the last owner frees the SSPI handle (FreeCredentialsHandle /
// DeleteSecurityContext in the state's destructor). So a call in flight keeps the handle alive even if
// its JavaScript object is collected, and a call whose environment ended (a terminated worker) still
// ends with the handle freed, on whatever thread the call ends.
//
// Threads: the flags are read and written only on the JavaScript thread of the environment that owns the
// handle object. A queue thread reads `handle` while a call runs; the JavaScript thread leaves it alone
// meanwhile (the context is busy, the credential has uses, so free/delete are deferred). The destructor
// runs after every other owner let go (std::shared_ptr orders it after their last access).

// How many SSPI handles the addon holds at this moment, process-wide (every environment, and calls in
// flight or cut off): +1 when AcquireCredentialsHandle or a first ISC/ASC creates one, -1 when
// FreeCredentialsHandle / DeleteSecurityContext releases it. A diagnostic (handleFigures()) that lets
// tests prove handles are not leaked.
enum class HandleKind { kCredentials, kContext };
void CountHandle(HandleKind kind, int delta);

// One CredHandle.
struct CredState {
  CredHandle handle{};
  bool valid = false;          // holds a handle from AcquireCredentialsHandle not freed yet
  bool freeRequested = false;  // free() came while asynchronous calls used it
  int uses = 0;                // asynchronous calls in flight using it
  SECURITY_STATUS FreeNow();
  ~CredState();
};

// One CtxtHandle.
struct CtxtState {
  CtxtHandle handle{};
  bool valid = false;            // a first ISC/ASC created the context and it is not deleted
  bool deleted = false;          // delete() ran (or was requested): no further calls
  bool deleteRequested = false;  // delete() came during a pending call
  bool busy = false;             // an asynchronous call is in flight (one at a time)
  SECURITY_STATUS DeleteNow();
  ~CtxtState();
};

// Owns one CredHandle. Created only by the native layer (AcquireCredentialsHandle); JavaScript cannot
// construct or forge one. FreeCredentialsHandle runs on free() or when the last owner lets go.
class CredHandleWrap : public Napi::ObjectWrap<CredHandleWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  // A new CredHandle object owning `handle`. The object owns the handle only if this returns; if it
  // throws, the caller still owns the handle and must free it.
  static Napi::Object New(Napi::Env env, const CredHandle& handle);
  // The state of `value` if it really is a CredHandle object of this addon (type-tag checked) and not
  // freed, else throws TypeError / Error.
  static std::shared_ptr<CredState> From(const Napi::Value& value, const char* what);

  explicit CredHandleWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Free(const Napi::CallbackInfo& info);
  Napi::Value GetValid(const Napi::CallbackInfo& info);

  std::shared_ptr<CredState> state_ = std::make_shared<CredState>();
};

// Owns one CtxtHandle. JavaScript creates an empty one (`new CtxtHandle()`); the first
// InitializeSecurityContext / AcceptSecurityContext call fills it. DeleteSecurityContext runs on
// delete() or when the last owner lets go. A context serves one call at a time: SSPI contexts are not
// safe for concurrent calls, so a second call while one is pending throws.
class CtxtHandleWrap : public Napi::ObjectWrap<CtxtHandleWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  // The state of `value` if it really is a CtxtHandle object of this addon, else throws TypeError.
  static std::shared_ptr<CtxtState> From(const Napi::Value& value, const char* what);
  // Throws unless the context can take a new call now.
  static void CheckUsable(Napi::Env env, const CtxtState& state, const char* fn);

  explicit CtxtHandleWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Delete(const Napi::CallbackInfo& info);
  Napi::Value GetValid(const Napi::CallbackInfo& info);

  std::shared_ptr<CtxtState> state_ = std::make_shared<CtxtState>();
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
void InitHandles(Napi::Env env, Napi::Object exports);
void InitPackages(Napi::Env env, Napi::Object exports);
void InitCredentials(Napi::Env env, Napi::Object exports);
void InitContexts(Napi::Env env, Napi::Object exports);
void InitTokens(Napi::Env env, Napi::Object exports);
void InitConstants(Napi::Env env, Napi::Object exports);

// ---- calls (queue.cc) ----

// A call that runs either inline (sync) or on the SSPI call queue (async, promise-returning).
// The constructor parses arguments on the JavaScript thread; Execute() runs there or on a queue thread
// and must not use Node-API; Result() and Finish() run on the JavaScript thread once it is over.
// If the environment ends before the result can be delivered (a worker terminated), the call is
// destroyed without Result() / Finish(), possibly on a queue thread: the destructor must then free
// what the call acquired (a CredHandle, a new CtxtHandle) and use no Node-API.
class SspiCall {
 public:
  virtual ~SspiCall() = default;
  virtual void Execute() = 0;
  // Builds the JavaScript result, handing acquired handles over to JavaScript objects.
  virtual Napi::Value Result(Napi::Env env) = 0;
  // Releases the handles' in-use marks (and runs a free deferred meanwhile). Never throws.
  virtual void Finish() {}
};

// Runs `call` (taking ownership) synchronously, or queues it and returns a promise, according to
// `async`. A full queue gives a promise rejected with an Error whose code is ERR_SSPI_QUEUE_FULL.
Napi::Value Dispatch(Napi::Env env, SspiCall* call, bool async);

void InitQueue(Napi::Env env, Napi::Object exports);

}  // namespace sspi
