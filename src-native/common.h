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
// Schannel's and CredSSP's credential structures. SCH_CREDENTIALS, TLS_PARAMETERS and CRYPTO_SETTINGS
// exist only with SCHANNEL_USE_BLACKLISTS defined and UNICODE_STRING declared (subauth.h), as
// Microsoft's SCH_CREDENTIALS page says; schannel.h brings wincrypt.h (which WIN32_LEAN_AND_MEAN leaves out).
#ifndef SCHANNEL_USE_BLACKLISTS
#define SCHANNEL_USE_BLACKLISTS
#endif
#include <subauth.h>
#include <schannel.h>
#include <credssp.h>

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
  // Synchronous calls' SecBufferDesc results (BufferDesc::Collect): one ArrayBuffer per environment,
  // read by lib/raw/buffers.ts before the call returns to its caller, so no call allocates one.
  Napi::Reference<Napi::ArrayBuffer> resultScratch;
  Napi::FunctionReference credHandleCtor;
  Napi::FunctionReference ctxtHandleCtor;
  Napi::FunctionReference certStoreCtor;    // HCERTSTORE objects (schannel.cc)
  Napi::FunctionReference certContextCtor;  // PCCERT_CONTEXT objects (schannel.cc)
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
  // The same from UTF-8 bytes (a Buffer / Uint8Array the caller can wipe itself), converted straight
  // into this object's buffer; a TypeError for bytes that are not UTF-8 or hold a NUL. Defined in
  // schannel.cc, its only user (PFXImportCertStore's password).
  void ReadUtf8(const Napi::Uint8Array& bytes, const char* what);
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

// ---- pAuthData of AcquireCredentialsHandle ----
//
// The structure is chosen by the package, as Microsoft's packages choose how to read pAuthData:
// Schannel takes SCH_CREDENTIALS or SCHANNEL_CRED (by dwVersion), CredSSP a CREDSSP_CRED, every other
// package a SEC_WINNT_AUTH_IDENTITY. Parse() runs on the JavaScript thread and copies everything into
// memory the object owns; the pointer Build()/get() returns stays valid while the object lives.

// SEC_WINNT_AUTH_IDENTITY_W, or _EXW with a PackageList (credentials.cc). The password is a Secret.
class AuthIdentity {
 public:
  // { User?, Domain?, Password?, PackageList? }; field names in errors are prefixed with `what`.
  void Parse(const Napi::Object& o, const std::string& what);
  // Fills the structure (on the thread that makes the call) and returns its address.
  void* Build();
  // Zeroes the structures and the password copy (after the call; the destructor does it too).
  void Wipe();
  ~AuthIdentity() { Wipe(); }

 private:
  template <typename Identity>
  void Fill(Identity* id);
  std::wstring user_, domain_, packageList_;
  Secret password_;
  bool hasUser_ = false, hasDomain_ = false, hasPackageList_ = false;
  SEC_WINNT_AUTH_IDENTITY_W id_{};
  SEC_WINNT_AUTH_IDENTITY_EXW idEx_{};
};

// True for the package names whose pAuthData is SCH_CREDENTIALS / SCHANNEL_CRED ("Schannel",
// "Microsoft Unified Security Protocol Provider", "Default TLS SSP"), or CREDSSP_CRED ("CredSSP", "TSSSP");
// case-insensitive, as SSPI compares package names.
bool IsSchannelPackage(const std::wstring& package);
bool IsCredSspPackage(const std::wstring& package);

// SCH_CREDENTIALS (dwVersion SCH_CREDENTIALS_VERSION) or SCHANNEL_CRED (SCHANNEL_CRED_VERSION), with the
// certificate contexts and root store it names duplicated (CertDuplicateCertificateContext /
// CertDuplicateStore) so that they outlive the call even if JavaScript frees its objects meanwhile;
// released in the destructor (schannel.cc).
class SchannelAuthData {
 public:
  SchannelAuthData() = default;
  SchannelAuthData(const SchannelAuthData&) = delete;
  SchannelAuthData& operator=(const SchannelAuthData&) = delete;
  ~SchannelAuthData();
  void Parse(const Napi::Value& value, const std::string& what);
  void* get();

 private:
  bool sch_ = false;  // SCH_CREDENTIALS, else SCHANNEL_CRED
  SCH_CREDENTIALS schCred_{};
  SCHANNEL_CRED cred_{};
  std::vector<PCCERT_CONTEXT> certs_;
  HCERTSTORE root_ = nullptr;
  std::vector<ALG_ID> algs_;
  std::vector<TLS_PARAMETERS> tls_;
  std::vector<std::vector<CRYPTO_SETTINGS>> crypto_;
  std::vector<std::vector<UNICODE_STRING>> unicode_;  // ALPN ids and chaining modes
  std::vector<std::unique_ptr<std::wstring>> strings_;  // what those UNICODE_STRINGs point to
  UNICODE_STRING Unicode(const Napi::Value& value, const std::string& what);
};

// CREDSSP_CRED { Type, pSchannelCred, pSpnegoCred } (credssp.h) (schannel.cc).
class CredSspAuthData {
 public:
  void Parse(const Napi::Value& value, const std::string& what);
  // Builds the inner identity (on the calling thread) and returns the CREDSSP_CRED's address.
  void* Build();
  void Wipe() { spnego_.Wipe(); }

 private:
  CREDSSP_CRED cred_{};
  std::unique_ptr<SchannelAuthData> schannel_;
  AuthIdentity spnego_;
  bool hasSpnego_ = false;
};

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
// Releases memory a package allocated for the caller (output buffers under *_ALLOCATE_MEMORY, strings
// and structures of queries, package lists, packed contexts) with FreeContextBuffer, and counts it for
// handleFigures().contextBuffersFreed; sets `p` to NULL. Nothing for NULL. Any thread.
void FreePackageBufferNow(void* p);
template <typename T>
void FreePackageBuffer(T*& p) {
  if (p == nullptr) return;
  FreePackageBufferNow(const_cast<void*>(static_cast<const void*>(p)));
  p = nullptr;
}

// One CredHandle.
struct CredState {
  CredHandle handle{};
  bool valid = false;          // holds a handle from AcquireCredentialsHandle not freed yet
  bool freeRequested = false;  // free() came while asynchronous calls used it
  int uses = 0;                // asynchronous calls in flight using it
  SECURITY_STATUS FreeNow();
  // The end of a call that counted itself in `uses` (JavaScript thread): a free() requested meanwhile
  // runs when the last such call ends.
  void EndUse();
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
  // The end of an asynchronous call on the context (JavaScript thread): not busy any more, and a
  // DeleteSecurityContext requested meanwhile runs now.
  void EndCall();
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
  // CheckUsable, then marks the context busy for the call `fn`; CtxtState::EndCall() ends it.
  static void BeginCall(Napi::Env env, CtxtState& state, const char* fn);

  explicit CtxtHandleWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Delete(const Napi::CallbackInfo& info);
  Napi::Value GetValid(const Napi::CallbackInfo& info);

  std::shared_ptr<CtxtState> state_ = std::make_shared<CtxtState>();
};

// Windows' slim reader/writer lock, held exclusively (usable with std::lock_guard / std::unique_lock).
// Not std::mutex: with MinGW's posix thread model that goes through winpthread, measurably slower on the
// paths every call takes (the SSPI call queue, the buffer block cache).
class SlimLock {
 public:
  SlimLock() = default;
  SlimLock(const SlimLock&) = delete;
  SlimLock& operator=(const SlimLock&) = delete;
  void lock() { AcquireSRWLockExclusive(&lock_); }
  void unlock() { ReleaseSRWLockExclusive(&lock_); }
  SRWLOCK* get() { return &lock_; }

 private:
  SRWLOCK lock_ = SRWLOCK_INIT;
};

// ---- SecBufferDesc marshalling (buffers.cc) ----

// One SecBufferDesc, for any SSPI call that takes one (ISC/ASC input and
// output, CompleteAuthToken, ApplyControlToken, the message functions). SSPI reads and writes these
// buffers in place, so every buffer is both in and out:
//
//   JavaScript (lib/raw/buffers.ts): [{ BufferType, cbBuffer?, pvBuffer? }]
//     BufferType  SECBUFFER_* with the SECBUFFER_READONLY / READONLY_WITH_CHECKSUM bits
//     pvBuffer    Uint8Array: SSPI gets its first cbBuffer bytes (default cbBuffer: its length);
//                 null/absent with cbBuffer > 0: the addon supplies cbBuffer zero bytes;
//                 null/absent with cbBuffer 0: pvBuffer NULL (SECBUFFER_EMPTY, or a buffer the package
//                 allocates under ISC_REQ_ALLOCATE_MEMORY / ASC_REQ_ALLOCATE_MEMORY).
//
// Where a caller's Uint8Array goes depends on the call's form (Mode):
//   - kInPlace (synchronous calls, which run on the JavaScript thread and return before any JavaScript
//     runs): SSPI reads and writes the caller's memory itself, as a C caller's. No copy in or out. A view
//     of a SharedArrayBuffer is copied all the same (another thread could change it under SSPI).
//   - kCopy (asynchronous calls): Parse() copies it on the JavaScript thread, so a queue thread never
//     touches JavaScript memory (which the caller could change, transfer or detach meanwhile).
// Memory the addon supplies (cbBuffer with no pvBuffer; every kCopy copy) comes from a cache of blocks
// (buffers.cc, Blocks), wiped (SecureZeroMemory: it may hold plaintext or keys) when the call ends.
//
// After the call, Collect() reports for each buffer i what SSPI left in its SecBuffer, as numbers in a
// Float64Array: [count, then per buffer: BufferType, cbBuffer, where, offset]. `where` says what pvBuffer
// points to:
//   - j >= 0: the memory of buffer j at `offset` (its own, or another one's: DecryptMessage's DATA buffer
//     inside the STREAM buffer, Schannel's EXTRA inside the input);
//   - kPackageMemory (-2): memory the package allocated (only when the call allows it: ISC/ASC with
//     *_ALLOCATE_MEMORY), copied into a Buffer, then FreeContextBuffer exactly once, failure statuses
//     included;
//   - kNowhere (-1): NULL, or memory nobody lent (not read).
// Buffers JavaScript needs come with it: then the result is an Array [numbers, value_0, ..., value_n-1],
// value_j being the final bytes of addon memory j (a caller's writable buffer in kCopy mode: all of it, to
// be written back; memory the addon supplied: as far as any SecBuffer's [offset, offset + cbBuffer) reaches
// into it) or buffer j's package memory copy; a hole where there is nothing (in-place memory is already
// the caller's). Without any, the result is the Float64Array alone.
// lib/raw/buffers.ts writes this back into the caller's SecBuffer objects and Uint8Arrays, as SSPI
// writes into a C caller's structures.
class BufferDesc {
 public:
  enum class Mode { kInPlace, kCopy };
  static constexpr size_t kMaxBuffers = 16;  // SSPI calls use at most a handful
  static constexpr size_t kWordsPerBuffer = 4;
  static constexpr size_t kSlotWords = 1 + kWordsPerBuffer * kMaxBuffers;  // one SecBufferDesc's numbers
  static constexpr size_t kScratchSlots = 2;                                // ISC / ASC: input and output
  static constexpr double kNowhere = -1;
  static constexpr double kPackageMemory = -2;

  BufferDesc() = default;
  BufferDesc(const BufferDesc&) = delete;
  BufferDesc& operator=(const BufferDesc&) = delete;
  ~BufferDesc();

  // Parses a SecBufferDesc array (null/undefined: absent, desc() then returns NULL): every property is
  // read here (a getter may run JavaScript). packageMayAllocate: the call may leave package-allocated
  // memory in these buffers.
  void Parse(const Napi::Value& value, const char* what, bool packageMayAllocate, Mode mode);

  // Takes the memory SSPI gets (the caller's in place, or the addon's blocks). Call it for every
  // descriptor of a call after ALL of the call's arguments are read, in the same callback: from here
  // until SSPI returns no JavaScript may run (it could detach a Uint8Array lent in place).
  void Bind(Napi::Env env);

  // The descriptor to pass to SSPI, or NULL when the array was absent.
  SecBufferDesc* desc();
  bool present() const { return present_; }
  size_t count() const { return count_; }
  SecBuffer& at(size_t i) { return buffers_[i]; }

  // Releases package-allocated memory (FreeContextBuffer). Called by Collect(), and by the destructor
  // for a call whose result was never collected.
  void FreePackageMemory();

  // After the call: Float64Array | [Float64Array, ...Buffer holes] as described above, or null when the
  // array was absent. A synchronous call's Float64Array is a view of the environment's scratch
  // (AddonData::resultScratch) at `slot` (0 or 1: a call's first or second SecBufferDesc), valid until
  // the next call; an asynchronous call's is its own.
  Napi::Value Collect(Napi::Env env, size_t slot = 0);

 private:
  // The memory behind buffer i as passed: the caller's (in place) or the addon's (owned).
  struct Span {
    uint8_t* data = nullptr;
    size_t size = 0;
    size_t capacity = 0;  // of an owned block
    bool owned = false;   // a block of the addon's (wiped and given back when the call ends)
    bool copied = false;  // owned, holding a copy of the caller's Uint8Array (kCopy)
  };

  // Index of the buffer whose memory holds p, or -1.
  int OwnerOf(const void* p, size_t* offset) const;

  SecBuffer buffers_[kMaxBuffers]{};
  Span spans_[kMaxBuffers]{};
  void* supplied_[kMaxBuffers]{};        // pvBuffer as passed to SSPI, to tell package memory apart
  unsigned long types_[kMaxBuffers]{};   // BufferType as passed (the READONLY bits say what SSPI may write)
  size_t count_ = 0;
  bool present_ = false;
  bool packageMayAllocate_ = false;
  SecBufferDesc desc_{};
  // Read by Parse(), used by Bind() (napi_values of the current callback's scope).
  bool unbound_ = false;
  Mode mode_ = Mode::kCopy;
  const char* what_ = "";
  napi_value memory_[kMaxBuffers]{};
  uint32_t sizes_[kMaxBuffers]{};
  bool sized_[kMaxBuffers]{};
};

// The buffer mode of a call from its `async` argument: a synchronous call lets SSPI use the caller's
// memory in place; an asynchronous one works on copies (see BufferDesc).
inline BufferDesc::Mode ModeOf(const Napi::Value& async) {
  return async.ToBoolean() ? BufferDesc::Mode::kCopy : BufferDesc::Mode::kInPlace;
}

// ---- exported functions ----
void InitHandles(Napi::Env env, Napi::Object exports);
void InitPackages(Napi::Env env, Napi::Object exports);
void InitCredentials(Napi::Env env, Napi::Object exports);
void InitContexts(Napi::Env env, Napi::Object exports);
void InitAttributes(Napi::Env env, Napi::Object exports);
void InitTokens(Napi::Env env, Napi::Object exports);
void InitConstants(Napi::Env env, Napi::Object exports);
void InitMessage(Napi::Env env, Napi::Object exports);
void InitSchannel(Napi::Env env, Napi::Object exports);

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
