// Who the client is and what it may do: QuerySecurityContextToken, ImpersonateSecurityContext /
// RevertSecurityContext (secur32), and the Win32 token calls they lead to (advapi32):
// OpenProcessToken, OpenThreadToken, DuplicateToken, GetTokenInformation, CheckTokenMembership,
// LookupAccountSid, ImpersonateLoggedOnUser / RevertToSelf.
//
// Statuses: the SSPI calls return their SECURITY_STATUS. The Win32 calls report failure through
// GetLastError(); they return HRESULT_FROM_WIN32(GetLastError()) in the same `status` field (0 on
// success), so every result of the raw layer has one shape, and a SECURITY_STATUS (facility 9,
// SEC_E_*) and a Win32 error (facility 7, 0x8007xxxx) never collide. The Win32 code is status & 0xFFFF.
//
// A token is a TokenHandle object (a kernel HANDLE the addon owns, type-tagged like CredHandle and
// CtxtHandle); CloseHandle runs on close() or, at the latest, when the last owner lets go (the object's
// finalizer, or an asynchronous call still using it).
#include "common.h"

#include <sddl.h>

#include <atomic>
#include <cstdio>
#include <map>

namespace sspi {

namespace {

std::atomic<long> gTokenHandles{0};

// A random, fixed type tag (napi_type_tag_object) for TokenHandle objects.
const napi_type_tag kTokenTag = {0x3e8a51c47f0d92b6ULL, 0xc4d07a2e915b38f1ULL};
// Passed only by native code to the constructor (JavaScript cannot make an External).
int kTokenToken = 0;

uint32_t Win32Status(DWORD error) { return static_cast<uint32_t>(HRESULT_FROM_WIN32(error)); }
uint32_t LastStatus(BOOL ok) { return ok ? 0 : Win32Status(GetLastError()); }

// One open token HANDLE; closed by the last owner.
struct TokenState {
  explicit TokenState(HANDLE h) : handle(h) { ++gTokenHandles; }
  TokenState(const TokenState&) = delete;
  TokenState& operator=(const TokenState&) = delete;
  ~TokenState() {
    CloseHandle(handle);
    --gTokenHandles;
  }
  HANDLE handle;
};
using Token = std::shared_ptr<TokenState>;

// The TokenHandle constructor of each environment (AddonData is common to every concern; this file keeps
// its own), dropped by an environment cleanup hook.
SRWLOCK gCtorLock = SRWLOCK_INIT;
std::map<napi_env, Napi::FunctionReference*> gCtors;

class TokenWrap : public Napi::ObjectWrap<TokenWrap> {
 public:
  explicit TokenWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TokenWrap>(info) {
    if (info.Length() != 1 || !info[0].IsExternal() || info[0].As<Napi::External<int>>().Data() != &kTokenToken) {
      throw Napi::TypeError::New(info.Env(), "TokenHandle cannot be constructed; use QuerySecurityContextToken or OpenProcessToken");
    }
    info.This().As<Napi::Object>().TypeTag(&kTokenTag);
  }

  static Napi::Object New(Napi::Env env, Token token) {
    Napi::FunctionReference* ctor = nullptr;
    AcquireSRWLockShared(&gCtorLock);
    auto it = gCtors.find(env);
    if (it != gCtors.end()) ctor = it->second;
    ReleaseSRWLockShared(&gCtorLock);
    if (ctor == nullptr) throw Napi::Error::New(env, "TokenHandle is not defined in this environment");
    Napi::Object obj = ctor->New({Napi::External<int>::New(env, &kTokenToken)});
    TokenWrap* wrap = Unwrap(obj);
    if (wrap == nullptr) throw Napi::Error::New(env, "TokenHandle could not be created");
    wrap->token_ = std::move(token);
    return obj;
  }

  // `value`'s token if it is a TokenHandle of this addon (type tag checked before unwrapping) that is
  // not closed; TypeError / Error otherwise.
  static Token From(const Napi::Value& value, const char* what) {
    TokenWrap* wrap = Tagged(value);
    if (wrap == nullptr) throw Napi::TypeError::New(value.Env(), std::string(what) + " must be a TokenHandle");
    if (!wrap->token_) throw Napi::Error::New(value.Env(), std::string(what) + " has been closed (CloseHandle)");
    return wrap->token_;
  }

  // Prototype members check their receiver's tag themselves: ObjectWrap's InstanceMethod would unwrap
  // any receiver unchecked (TokenHandle.prototype.close.call(credHandle)).
  static TokenWrap* Receiver(const Napi::CallbackInfo& info, const char* member) {
    TokenWrap* wrap = Tagged(info.This());
    if (wrap == nullptr) {
      throw Napi::TypeError::New(info.Env(), std::string("TokenHandle.prototype.") + member +
                                                 " called on an object that is not a TokenHandle");
    }
    return wrap;
  }

  // close(): CloseHandle now, or when the last asynchronous call using the token ends. Idempotent.
  static Napi::Value Close(const Napi::CallbackInfo& info) {
    Receiver(info, "close")->token_.reset();
    return info.Env().Undefined();
  }

  static Napi::Value Valid(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), static_cast<bool>(Receiver(info, "valid")->token_));
  }

 private:
  static TokenWrap* Tagged(const Napi::Value& value) {
    if (!value.IsObject() || !value.As<Napi::Object>().CheckTypeTag(&kTokenTag)) return nullptr;
    return Unwrap(value.As<Napi::Object>());
  }

  Token token_;
};

// ---------------------------------------------------------------- SIDs

// A SID string ('S-1-5-32-545') -> the binary SID (ConvertStringSidToSidW), copied out of LocalAlloc's memory.
std::vector<BYTE> ParseSid(const Napi::Value& value, const char* what) {
  std::wstring text = ToWide(value, what);
  PSID sid = nullptr;
  // (Wine's ConvertStringSidToSidW accepts an empty string.)
  if (text.empty() || !ConvertStringSidToSidW(text.c_str(), &sid)) {
    throw Napi::TypeError::New(value.Env(), std::string(what) + " must be a SID string such as 'S-1-5-32-545'");
  }
  std::vector<BYTE> out(static_cast<BYTE*>(sid), static_cast<BYTE*>(sid) + GetLengthSid(sid));
  LocalFree(sid);
  return out;
}

Napi::Value SidValue(Napi::Env env, PSID sid) {
  if (sid == nullptr) return env.Null();
  wchar_t* text = nullptr;
  if (!ConvertSidToStringSidW(sid, &text)) throw Napi::Error::New(env, "ConvertSidToStringSidW failed");
  Napi::String s = FromWide(env, text);
  LocalFree(text);
  return s;
}

Napi::Object SidAndAttributes(Napi::Env env, const SID_AND_ATTRIBUTES& sa) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("Sid", SidValue(env, sa.Sid));
  o.Set("Attributes", Napi::Number::New(env, sa.Attributes));
  return o;
}

Napi::BigInt LuidValue(Napi::Env env, const LUID& luid) {
  return Napi::BigInt::New(env, (static_cast<uint64_t>(static_cast<uint32_t>(luid.HighPart)) << 32) | luid.LowPart);
}

// ---------------------------------------------------------------- calls

// A call yielding one new token (QuerySecurityContextToken, OpenProcessToken, DuplicateToken). The
// token is wrapped in its owner at once, so a result never delivered still closes it.
class NewTokenCall : public SspiCall {
 public:
  NewTokenCall(const char* field) : field_(field) {}
  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("status", StatusValue(env, status_));
    if (token_) result.Set(field_, TokenWrap::New(env, token_));
    return result;
  }

 protected:
  void Took(HANDLE h) {
    if (!FAILED(status_) && h != nullptr) token_ = std::make_shared<TokenState>(h);
  }
  const char* field_;
  SECURITY_STATUS status_ = SEC_E_INTERNAL_ERROR;
  Token token_;
};

// QuerySecurityContextToken(phContext) -> { status, token? }. The context is marked busy while the call
// runs (so it is neither deleted nor used by another call meanwhile).
class QueryTokenCall : public NewTokenCall {
 public:
  explicit QueryTokenCall(const Napi::CallbackInfo& info) : NewTokenCall("token") {
    ctx_ = CtxtHandleWrap::From(info[0], "phContext");
    CtxtHandleWrap::BeginCall(info.Env(), *ctx_, "QuerySecurityContextToken");
  }
  void Execute() override {
    HANDLE h = nullptr;
    // A context no ISC/ASC call created holds no handle: SEC_E_INVALID_HANDLE, as SSPI answers.
    status_ = ctx_->valid ? QuerySecurityContextToken(&ctx_->handle, &h) : SEC_E_INVALID_HANDLE;
    Took(h);
  }
  void Finish() override {
    if (ctx_) ctx_->EndCall();
    ctx_.reset();
  }

 private:
  std::shared_ptr<CtxtState> ctx_;
};

// OpenProcessToken(DesiredAccess) -> { status, tokenHandle? }, for this process (GetCurrentProcess()).
class OpenProcessTokenCall : public NewTokenCall {
 public:
  explicit OpenProcessTokenCall(const Napi::CallbackInfo& info) : NewTokenCall("tokenHandle") {
    access_ = ToUint32(info[0], "DesiredAccess");
  }
  void Execute() override {
    HANDLE h = nullptr;
    status_ = LastStatus(OpenProcessToken(GetCurrentProcess(), access_, &h));
    Took(h);
  }

 private:
  DWORD access_ = 0;
};

// DuplicateToken(ExistingTokenHandle, ImpersonationLevel) -> { status, duplicateTokenHandle? }.
class DuplicateTokenCall : public NewTokenCall {
 public:
  explicit DuplicateTokenCall(const Napi::CallbackInfo& info) : NewTokenCall("duplicateTokenHandle") {
    level_ = ToUint32(info[1], "ImpersonationLevel");
    existing_ = TokenWrap::From(info[0], "ExistingTokenHandle");
  }
  void Execute() override {
    HANDLE h = nullptr;
    status_ = LastStatus(DuplicateToken(existing_->handle, static_cast<SECURITY_IMPERSONATION_LEVEL>(level_), &h));
    Took(h);
  }

 private:
  Token existing_;
  uint32_t level_ = 0;
};

// GetTokenInformation(TokenHandle, TokenInformationClass) -> { status, tokenInformation? }, sized by a
// first call; the structure is returned with its Win32 field names, SIDs as strings.
class TokenInformationCall : public SspiCall {
 public:
  explicit TokenInformationCall(const Napi::CallbackInfo& info) {
    class_ = ToUint32(info[1], "TokenInformationClass");
    switch (class_) {
      case TokenUser: case TokenGroups: case TokenPrivileges: case TokenOwner: case TokenPrimaryGroup:
      case TokenType: case TokenImpersonationLevel: case TokenStatistics: case TokenSessionId:
      case TokenElevationType: case TokenElevation: case TokenIntegrityLevel: case TokenLogonSid:
        break;
      default:
        throw Napi::RangeError::New(info.Env(), "GetTokenInformation: TokenInformationClass " + std::to_string(class_) +
                                                    " is not supported by this binding");
    }
    token_ = TokenWrap::From(info[0], "TokenHandle");
  }

  void Execute() override {
    auto cls = static_cast<TOKEN_INFORMATION_CLASS>(class_);
    DWORD size = 0;
    for (int attempt = 0; attempt < 4; attempt++) {
      data_.resize(size);
      // 8-byte aligned storage: the structures hold pointers and LARGE_INTEGERs.
      BOOL ok = GetTokenInformation(token_->handle, cls, size ? data_.data() : nullptr, size, &size);
      if (ok) {
        status_ = 0;
        return;
      }
      DWORD err = GetLastError();
      if (err != ERROR_INSUFFICIENT_BUFFER && err != ERROR_BAD_LENGTH) {
        status_ = Win32Status(err);
        return;
      }
      size = (size + 7) & ~7u;
    }
    status_ = Win32Status(ERROR_INSUFFICIENT_BUFFER);
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("status", StatusValue(env, status_));
    if (status_ == 0) result.Set("tokenInformation", Value(env));
    return result;
  }

 private:
  Napi::Value Groups(Napi::Env env) {
    const auto* g = reinterpret_cast<const TOKEN_GROUPS*>(data_.data());
    Napi::Array groups = Napi::Array::New(env, g->GroupCount);
    for (DWORD i = 0; i < g->GroupCount; i++) groups.Set(i, SidAndAttributes(env, g->Groups[i]));
    Napi::Object o = Napi::Object::New(env);
    o.Set("Groups", groups);
    return o;
  }

  template <typename T>
  const T& As() { return *reinterpret_cast<const T*>(data_.data()); }

  Napi::Value Value(Napi::Env env) {
    Napi::Object o = Napi::Object::New(env);
    switch (class_) {
      case TokenUser:
        o.Set("User", SidAndAttributes(env, As<TOKEN_USER>().User));
        return o;
      case TokenGroups:
      case TokenLogonSid:
        return Groups(env);
      case TokenPrivileges: {
        const auto& p = As<TOKEN_PRIVILEGES>();
        Napi::Array list = Napi::Array::New(env, p.PrivilegeCount);
        for (DWORD i = 0; i < p.PrivilegeCount; i++) {
          Napi::Object e = Napi::Object::New(env);
          e.Set("Luid", LuidValue(env, p.Privileges[i].Luid));
          e.Set("Attributes", Napi::Number::New(env, p.Privileges[i].Attributes));
          list.Set(i, e);
        }
        o.Set("Privileges", list);
        return o;
      }
      case TokenOwner:
        o.Set("Owner", SidValue(env, As<TOKEN_OWNER>().Owner));
        return o;
      case TokenPrimaryGroup:
        o.Set("PrimaryGroup", SidValue(env, As<TOKEN_PRIMARY_GROUP>().PrimaryGroup));
        return o;
      case TokenIntegrityLevel:
        o.Set("Label", SidAndAttributes(env, As<TOKEN_MANDATORY_LABEL>().Label));
        return o;
      case TokenElevation:
        o.Set("TokenIsElevated", Napi::Number::New(env, As<TOKEN_ELEVATION>().TokenIsElevated));
        return o;
      case TokenStatistics: {
        const auto& s = As<TOKEN_STATISTICS>();
        o.Set("TokenId", LuidValue(env, s.TokenId));
        o.Set("AuthenticationId", LuidValue(env, s.AuthenticationId));
        o.Set("ExpirationTime", Napi::BigInt::New(env, static_cast<int64_t>(s.ExpirationTime.QuadPart)));
        o.Set("TokenType", Napi::Number::New(env, s.TokenType));
        o.Set("ImpersonationLevel", Napi::Number::New(env, s.ImpersonationLevel));
        o.Set("DynamicCharged", Napi::Number::New(env, s.DynamicCharged));
        o.Set("DynamicAvailable", Napi::Number::New(env, s.DynamicAvailable));
        o.Set("GroupCount", Napi::Number::New(env, s.GroupCount));
        o.Set("PrivilegeCount", Napi::Number::New(env, s.PrivilegeCount));
        o.Set("ModifiedId", LuidValue(env, s.ModifiedId));
        return o;
      }
      default:  // TokenType, TokenImpersonationLevel, TokenSessionId, TokenElevationType: one DWORD / enum
        return Napi::Number::New(env, As<DWORD>());
    }
  }

  Token token_;
  uint32_t class_ = 0;
  uint32_t status_ = 0;
  std::vector<BYTE> data_;
};

// CheckTokenMembership(TokenHandle | null, SidToCheck) -> { status, isMember? }.
class MembershipCall : public SspiCall {
 public:
  MembershipCall(const Napi::CallbackInfo& info, bool async) {
    sid_ = ParseSid(info[1], "SidToCheck");
    if (info[0].IsNull() || info[0].IsUndefined()) {
      // NULL: the calling thread's token. On a queue thread that would be the queue thread's, not the caller's.
      if (async) throw Napi::TypeError::New(info.Env(), "CheckTokenMembershipAsync: TokenHandle must be a TokenHandle (null means the calling thread, which a queue thread is not)");
    } else {
      token_ = TokenWrap::From(info[0], "TokenHandle");
    }
  }
  void Execute() override {
    BOOL member = FALSE;
    status_ = LastStatus(CheckTokenMembership(token_ ? token_->handle : nullptr, sid_.data(), &member));
    member_ = member != FALSE;
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("status", StatusValue(env, status_));
    if (status_ == 0) result.Set("isMember", Napi::Boolean::New(env, member_));
    return result;
  }

 private:
  Token token_;
  std::vector<BYTE> sid_;
  uint32_t status_ = 0;
  bool member_ = false;
};

// LookupAccountSid(lpSystemName | null, Sid) -> { status, name?, referencedDomainName?, use? }.
// May ask a domain controller (a SID of another domain): run it asynchronously on a server.
class LookupSidCall : public SspiCall {
 public:
  explicit LookupSidCall(const Napi::CallbackInfo& info) {
    hasSystem_ = ToWideOptional(info[0], "lpSystemName", &system_);
    sid_ = ParseSid(info[1], "Sid");
  }
  void Execute() override {
    DWORD nameChars = 64, domainChars = 64;
    for (int attempt = 0; attempt < 4; attempt++) {
      name_.assign(nameChars, L'\0');
      domain_.assign(domainChars, L'\0');
      if (LookupAccountSidW(hasSystem_ ? system_.c_str() : nullptr, sid_.data(), &name_[0], &nameChars, &domain_[0],
                            &domainChars, &use_)) {
        name_.resize(nameChars);  // on success: characters without the NUL
        domain_.resize(domainChars);
        status_ = 0;
        return;
      }
      DWORD err = GetLastError();
      status_ = Win32Status(err);
      if (err != ERROR_INSUFFICIENT_BUFFER) return;  // sizes now hold what is needed, NUL included
    }
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("status", StatusValue(env, status_));
    if (status_ == 0) {
      result.Set("name", FromWide(env, name_.c_str(), name_.size()));
      result.Set("referencedDomainName", FromWide(env, domain_.c_str(), domain_.size()));
      result.Set("use", Napi::Number::New(env, use_));
    }
    return result;
  }

 private:
  std::wstring system_, name_, domain_;
  bool hasSystem_ = false;
  std::vector<BYTE> sid_;
  SID_NAME_USE use_ = SidTypeUnknown;
  uint32_t status_ = 0;
};

template <typename Call>
Napi::Value Run(const Napi::CallbackInfo& info, size_t asyncIndex) {
  return Dispatch(info.Env(), new Call(info), info[asyncIndex].ToBoolean());
}

Napi::Value CheckMembership(const Napi::CallbackInfo& info) {
  bool async = info[2].ToBoolean();
  return Dispatch(info.Env(), new MembershipCall(info, async), async);
}

// OpenThreadToken(DesiredAccess, OpenAsSelf) -> { status, tokenHandle? }: the calling (JavaScript)
// thread's impersonation token; synchronous only (on a queue thread it would be that thread's).
Napi::Value OpenThread(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DWORD access = ToUint32(info[0], "DesiredAccess");
  if (!info[1].IsBoolean()) throw Napi::TypeError::New(env, "OpenAsSelf must be a boolean");
  HANDLE h = nullptr;
  uint32_t status = LastStatus(OpenThreadToken(GetCurrentThread(), access, info[1].As<Napi::Boolean>() ? TRUE : FALSE, &h));
  Token token = status == 0 ? std::make_shared<TokenState>(h) : nullptr;
  Napi::Object result = Napi::Object::New(env);
  result.Set("status", StatusValue(env, status));
  if (token) result.Set("tokenHandle", TokenWrap::New(env, token));
  return result;
}

// ---------------------------------------------------------------- impersonation (synchronous only)
//
// The raw calls return the bare status (they have no out parameters, like CompleteAuthToken).

Napi::Object StatusObject(Napi::Env env, uint32_t status) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("status", StatusValue(env, status));
  return result;
}

std::shared_ptr<CtxtState> UsableContext(const Napi::CallbackInfo& info, const char* fn) {
  std::shared_ptr<CtxtState> ctx = CtxtHandleWrap::From(info[0], "phContext");
  CtxtHandleWrap::CheckUsable(info.Env(), *ctx, fn);
  return ctx;
}

Napi::Value Impersonate(const Napi::CallbackInfo& info) {
  auto ctx = UsableContext(info, "ImpersonateSecurityContext");
  return StatusValue(info.Env(), ctx->valid ? ImpersonateSecurityContext(&ctx->handle) : SEC_E_INVALID_HANDLE);
}

Napi::Value Revert(const Napi::CallbackInfo& info) {
  auto ctx = UsableContext(info, "RevertSecurityContext");
  return StatusValue(info.Env(), ctx->valid ? RevertSecurityContext(&ctx->handle) : SEC_E_INVALID_HANDLE);
}

Napi::Value ImpersonateUser(const Napi::CallbackInfo& info) {
  Token token = TokenWrap::From(info[0], "hToken");
  return StatusValue(info.Env(), LastStatus(ImpersonateLoggedOnUser(token->handle)));
}

Napi::Value RevertSelf(const Napi::CallbackInfo& info) { return StatusValue(info.Env(), LastStatus(RevertToSelf())); }

// Scoped impersonation of the calling thread: the depth of scopes running on this OS thread (each
// environment has its own thread), so a scope inside a scope is refused.
thread_local int tScopes = 0;

// Ends a scope on every path out of it, a C++ exception included. If the thread cannot be reverted it
// would go on running JavaScript as the client: the process is ended instead (napi_fatal_error), as
// .NET fails fast when it cannot undo an impersonation.
class Scope {
 public:
  Scope(uint32_t (*revert)(void*), void* arg, const char* fn) : revert_(revert), arg_(arg), fn_(fn) { tScopes++; }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;
  ~Scope() {
    uint32_t status = revert_(arg_);
    tScopes--;
    if (status != 0) {
      char message[160];
      snprintf(message, sizeof message, "%s failed (0x%08X) after impersonate(fn): the thread would go on as the client",
               fn_, static_cast<unsigned>(status));
      napi_fatal_error("sspi", NAPI_AUTO_LENGTH, message, NAPI_AUTO_LENGTH);
    }
  }

 private:
  uint32_t (*revert_)(void*);
  void* arg_;
  const char* fn_;
};

void CheckScoped(const Napi::CallbackInfo& info, const char* fn) {
  if (!info[1].IsFunction()) throw Napi::TypeError::New(info.Env(), std::string(fn) + ": fn must be a function");
  if (tScopes > 0) {
    throw Napi::Error::New(info.Env(), std::string(fn) + ": this thread is already impersonating in an impersonate(fn) scope; nested scopes are refused");
  }
}

// Calls fn() inside the scope; { status: 0, value } or, when impersonation failed, { status } without calling fn.
Napi::Value CallScoped(Napi::Env env, const Napi::Value& fn, uint32_t (*revert)(void*), void* arg, const char* revertName) {
  Napi::Value value;
  {
    Scope scope(revert, arg, revertName);
    value = fn.As<Napi::Function>().Call(env.Undefined(), {});
  }
  Napi::Object result = StatusObject(env, 0);
  result.Set("value", value);
  return result;
}

uint32_t RevertContext(void* ctx) {
  return static_cast<uint32_t>(RevertSecurityContext(&static_cast<CtxtState*>(ctx)->handle));
}
uint32_t RevertThread(void*) { return LastStatus(RevertToSelf()); }

// impersonateSecurityContextScoped(phContext, fn) -> { status, value? }. The context is busy during fn,
// so deleting it meanwhile is deferred until after RevertSecurityContext.
Napi::Value ImpersonateContextScoped(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckScoped(info, "impersonate");
  auto ctx = UsableContext(info, "ImpersonateSecurityContext");
  SECURITY_STATUS status = ctx->valid ? ImpersonateSecurityContext(&ctx->handle) : SEC_E_INVALID_HANDLE;
  if (status != SEC_E_OK) return StatusObject(env, status);
  ctx->busy = true;
  struct Release {
    CtxtState* s;
    ~Release() { s->EndCall(); }
  } release{ctx.get()};
  return CallScoped(env, info[1], RevertContext, ctx.get(), "RevertSecurityContext");
}

// impersonateLoggedOnUserScoped(hToken, fn) -> { status, value? }, reverted with RevertToSelf.
Napi::Value ImpersonateUserScoped(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckScoped(info, "impersonate");
  Token token = TokenWrap::From(info[0], "hToken");
  uint32_t status = LastStatus(ImpersonateLoggedOnUser(token->handle));
  if (status != 0) return StatusObject(env, status);
  return CallScoped(env, info[1], RevertThread, nullptr, "RevertToSelf");
}

Napi::Value TokenHandleCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(gTokenHandles.load()));
}

}  // namespace

void InitTokens(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = TokenWrap::DefineClass(env, "TokenHandle", {});
  Napi::Object proto = ctor.Get("prototype").As<Napi::Object>();
  proto.DefineProperties({
      Napi::PropertyDescriptor::Function(env, proto, "close", &TokenWrap::Close),
      Napi::PropertyDescriptor::Accessor<&TokenWrap::Valid>("valid"),
  });
  auto* ref = new Napi::FunctionReference(Napi::Persistent(ctor));
  AcquireSRWLockExclusive(&gCtorLock);
  gCtors[env] = ref;
  ReleaseSRWLockExclusive(&gCtorLock);
  napi_env raw = env;
  env.AddCleanupHook([raw, ref]() {
    AcquireSRWLockExclusive(&gCtorLock);
    gCtors.erase(raw);
    ReleaseSRWLockExclusive(&gCtorLock);
    delete ref;
  });
  exports.Set("TokenHandle", ctor);

  exports.Set("querySecurityContextToken", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return Run<QueryTokenCall>(i, 1); }, "querySecurityContextToken"));
  exports.Set("openProcessToken", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return Run<OpenProcessTokenCall>(i, 1); }, "openProcessToken"));
  exports.Set("duplicateToken", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return Run<DuplicateTokenCall>(i, 2); }, "duplicateToken"));
  exports.Set("getTokenInformation", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return Run<TokenInformationCall>(i, 2); }, "getTokenInformation"));
  exports.Set("lookupAccountSid", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return Run<LookupSidCall>(i, 2); }, "lookupAccountSid"));
  exports.Set("checkTokenMembership", Napi::Function::New<CheckMembership>(env, "checkTokenMembership"));
  exports.Set("openThreadToken", Napi::Function::New<OpenThread>(env, "openThreadToken"));
  exports.Set("impersonateSecurityContext", Napi::Function::New<Impersonate>(env, "impersonateSecurityContext"));
  exports.Set("revertSecurityContext", Napi::Function::New<Revert>(env, "revertSecurityContext"));
  exports.Set("impersonateLoggedOnUser", Napi::Function::New<ImpersonateUser>(env, "impersonateLoggedOnUser"));
  exports.Set("revertToSelf", Napi::Function::New<RevertSelf>(env, "revertToSelf"));
  exports.Set("impersonateSecurityContextScoped", Napi::Function::New<ImpersonateContextScoped>(env, "impersonateSecurityContextScoped"));
  exports.Set("impersonateLoggedOnUserScoped", Napi::Function::New<ImpersonateUserScoped>(env, "impersonateLoggedOnUserScoped"));
  exports.Set("tokenHandleCount", Napi::Function::New<TokenHandleCount>(env, "tokenHandleCount"));

  Napi::Object c = Napi::Object::New(env);
#define TOKEN_CONSTANT(name) c.Set(#name, Napi::Number::New(env, static_cast<double>(static_cast<uint32_t>(name))));
  TOKEN_CONSTANT(TokenUser) TOKEN_CONSTANT(TokenGroups) TOKEN_CONSTANT(TokenPrivileges) TOKEN_CONSTANT(TokenOwner)
  TOKEN_CONSTANT(TokenPrimaryGroup) TOKEN_CONSTANT(TokenType) TOKEN_CONSTANT(TokenImpersonationLevel)
  TOKEN_CONSTANT(TokenStatistics) TOKEN_CONSTANT(TokenSessionId) TOKEN_CONSTANT(TokenElevationType)
  TOKEN_CONSTANT(TokenElevation) TOKEN_CONSTANT(TokenIntegrityLevel) TOKEN_CONSTANT(TokenLogonSid)
  TOKEN_CONSTANT(TokenPrimary) TOKEN_CONSTANT(TokenImpersonation)
  TOKEN_CONSTANT(SecurityAnonymous) TOKEN_CONSTANT(SecurityIdentification) TOKEN_CONSTANT(SecurityImpersonation)
  TOKEN_CONSTANT(SecurityDelegation)
  TOKEN_CONSTANT(TokenElevationTypeDefault) TOKEN_CONSTANT(TokenElevationTypeFull) TOKEN_CONSTANT(TokenElevationTypeLimited)
  TOKEN_CONSTANT(SE_GROUP_MANDATORY) TOKEN_CONSTANT(SE_GROUP_ENABLED_BY_DEFAULT) TOKEN_CONSTANT(SE_GROUP_ENABLED)
  TOKEN_CONSTANT(SE_GROUP_OWNER) TOKEN_CONSTANT(SE_GROUP_USE_FOR_DENY_ONLY) TOKEN_CONSTANT(SE_GROUP_INTEGRITY)
  TOKEN_CONSTANT(SE_GROUP_INTEGRITY_ENABLED) TOKEN_CONSTANT(SE_GROUP_LOGON_ID) TOKEN_CONSTANT(SE_GROUP_RESOURCE)
  TOKEN_CONSTANT(TOKEN_ASSIGN_PRIMARY) TOKEN_CONSTANT(TOKEN_DUPLICATE) TOKEN_CONSTANT(TOKEN_IMPERSONATE)
  TOKEN_CONSTANT(TOKEN_QUERY) TOKEN_CONSTANT(TOKEN_QUERY_SOURCE) TOKEN_CONSTANT(TOKEN_ADJUST_PRIVILEGES)
  TOKEN_CONSTANT(TOKEN_ADJUST_GROUPS) TOKEN_CONSTANT(TOKEN_ADJUST_DEFAULT) TOKEN_CONSTANT(TOKEN_ADJUST_SESSIONID)
  TOKEN_CONSTANT(TOKEN_ALL_ACCESS) TOKEN_CONSTANT(TOKEN_READ)
  TOKEN_CONSTANT(SidTypeUser) TOKEN_CONSTANT(SidTypeGroup) TOKEN_CONSTANT(SidTypeDomain) TOKEN_CONSTANT(SidTypeAlias)
  TOKEN_CONSTANT(SidTypeWellKnownGroup) TOKEN_CONSTANT(SidTypeDeletedAccount) TOKEN_CONSTANT(SidTypeInvalid)
  TOKEN_CONSTANT(SidTypeUnknown) TOKEN_CONSTANT(SidTypeComputer) TOKEN_CONSTANT(SidTypeLabel)
  TOKEN_CONSTANT(ERROR_ACCESS_DENIED) TOKEN_CONSTANT(ERROR_INVALID_HANDLE) TOKEN_CONSTANT(ERROR_INVALID_PARAMETER)
  TOKEN_CONSTANT(ERROR_INSUFFICIENT_BUFFER) TOKEN_CONSTANT(ERROR_NO_TOKEN) TOKEN_CONSTANT(ERROR_NO_IMPERSONATION_TOKEN)
  TOKEN_CONSTANT(ERROR_NONE_MAPPED) TOKEN_CONSTANT(ERROR_INVALID_SID) TOKEN_CONSTANT(ERROR_BAD_IMPERSONATION_LEVEL)
  TOKEN_CONSTANT(ERROR_CANT_OPEN_ANONYMOUS) TOKEN_CONSTANT(ERROR_CALL_NOT_IMPLEMENTED)
#undef TOKEN_CONSTANT
  exports.Set("tokenHeaderConstants", c);
}

}  // namespace sspi
