// AcquireCredentialsHandleW.
#include "common.h"

namespace sspi {

namespace {

// acquireCredentialsHandle(pszPrincipal: string|null, pszPackage: string, fCredentialUse: number,
//                          pvLogonId: bigint|null (a LUID), pAuthData: { User?, Domain?, Password?, PackageList? } | null,
//                          async: boolean)
//   -> { status, credential?: CredHandle, expiry?: bigint }  (a Promise of it when async)
//
// authData becomes a SEC_WINNT_AUTH_IDENTITY_W (Unicode), or SEC_WINNT_AUTH_IDENTITY_EXW when it
// carries a packageList. The password is read straight into a native buffer (Secret) that is wiped
// as soon as AcquireCredentialsHandle returns, and on every other way out (a later argument that
// throws while being parsed, a call that never runs); it is never echoed back or put in an error
// message.
//
// The CredHandle a successful call returns belongs to this call until Result() hands it to a
// CredHandle object; a call destroyed before that (its environment ended) frees it.
class AcquireCall : public SspiCall {
 public:
  explicit AcquireCall(const Napi::CallbackInfo& info) {
    hasPrincipal_ = ToWideOptional(info[0], "pszPrincipal", &principal_);
    package_ = ToWide(info[1], "pszPackage");
    use_ = ToUint32(info[2], "fCredentialUse");
    Napi::Value logon = info[3];
    if (!logon.IsUndefined() && !logon.IsNull()) {
      if (!logon.IsBigInt()) throw Napi::TypeError::New(info.Env(), "pvLogonId must be a bigint (a LUID) or null");
      bool lossless = false;
      uint64_t v = logon.As<Napi::BigInt>().Uint64Value(&lossless);
      if (!lossless) throw Napi::RangeError::New(info.Env(), "pvLogonId must fit in 64 bits (a LUID)");
      logonId_.LowPart = static_cast<DWORD>(v & 0xFFFFFFFFu);
      logonId_.HighPart = static_cast<LONG>(v >> 32);
      hasLogonId_ = true;
    }
    Napi::Value auth = info[4];
    if (!auth.IsUndefined() && !auth.IsNull()) {
      if (!auth.IsObject()) throw Napi::TypeError::New(info.Env(), "pAuthData must be an object { User, Domain, Password }");
      Napi::Object o = auth.As<Napi::Object>();
      hasUser_ = ToWideOptional(o.Get("User"), "pAuthData.User", &user_);
      hasDomain_ = ToWideOptional(o.Get("Domain"), "pAuthData.Domain", &domain_);
      password_.Read(o.Get("Password"), "pAuthData.Password");
      hasPackageList_ = ToWideOptional(o.Get("PackageList"), "pAuthData.PackageList", &packageList_);
      hasAuth_ = true;
    }
  }

  ~AcquireCall() override {
    if (status_ == SEC_E_OK && !handedOver_) {
      FreeCredentialsHandle(&handle_);
      CountHandle(HandleKind::kCredentials, -1);
    }
  }

  void Execute() override {
    // SEC_WINNT_AUTH_IDENTITY_W is the structure every package's AcquireCredentialsHandle page
    // documents for an explicit user; the _EXW form exists to carry Negotiate's PackageList and is
    // used only then. (Wine 8's secur32 reads any pAuthData as the plain structure, and faults on
    // _EXW: its Version/Length fields land where the User pointer is expected.)
    SEC_WINNT_AUTH_IDENTITY_W id{};
    SEC_WINNT_AUTH_IDENTITY_EXW idEx{};
    void* authData = nullptr;
    if (hasPackageList_) {  // only ever set together with hasAuth_
      idEx.Version = SEC_WINNT_AUTH_IDENTITY_VERSION;
      idEx.Length = sizeof(idEx);
      FillIdentity(&idEx);
      idEx.PackageList = reinterpret_cast<unsigned short*>(&packageList_[0]);
      idEx.PackageListLength = static_cast<unsigned long>(packageList_.size());
      authData = &idEx;
    } else if (hasAuth_) {
      FillIdentity(&id);
      authData = &id;
    }
    SecInvalidateHandle(&handle_);
    status_ = AcquireCredentialsHandleW(hasPrincipal_ ? &principal_[0] : nullptr, &package_[0], use_,
                                        hasLogonId_ ? &logonId_ : nullptr,
                                        authData, nullptr, nullptr, &handle_, &expiry_);
    if (status_ == SEC_E_OK) CountHandle(HandleKind::kCredentials, +1);
    SecureZeroMemory(&id, sizeof(id));
    SecureZeroMemory(&idEx, sizeof(idEx));
    password_.Wipe();
  }

  // User, domain and password fields, common to SEC_WINNT_AUTH_IDENTITY_W and _EXW (Unicode).
  template <typename Identity>
  void FillIdentity(Identity* id) {
    id->User = hasUser_ ? reinterpret_cast<unsigned short*>(&user_[0]) : nullptr;
    id->UserLength = static_cast<unsigned long>(user_.size());
    id->Domain = hasDomain_ ? reinterpret_cast<unsigned short*>(&domain_[0]) : nullptr;
    id->DomainLength = static_cast<unsigned long>(domain_.size());
    id->Password = password_.present() ? reinterpret_cast<unsigned short*>(password_.data()) : nullptr;
    id->PasswordLength = static_cast<unsigned long>(password_.size());
    id->Flags = SEC_WINNT_AUTH_IDENTITY_UNICODE;
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("status", StatusValue(env, status_));
    if (status_ == SEC_E_OK) {
      result.Set("credential", CredHandleWrap::New(env, handle_));
      handedOver_ = true;
      result.Set("expiry", TimeStampValue(env, expiry_));
    }
    return result;
  }

 private:
  std::wstring principal_, package_, user_, domain_, packageList_;
  Secret password_;  // wiped by its destructor on every path, a throw in this constructor included
  bool hasPrincipal_ = false, hasAuth_ = false, hasUser_ = false, hasDomain_ = false, hasPackageList_ = false;
  bool hasLogonId_ = false;
  LUID logonId_{};
  bool handedOver_ = false;  // the CredHandle now belongs to a JavaScript CredHandle object
  unsigned long use_ = 0;
  SECURITY_STATUS status_ = SEC_E_INTERNAL_ERROR;
  CredHandle handle_{};
  TimeStamp expiry_{};
};

Napi::Value Acquire(const Napi::CallbackInfo& info) {
  bool async = info[5].ToBoolean();
  return Dispatch(info.Env(), new AcquireCall(info), async);
}

}  // namespace

void InitCredentials(Napi::Env env, Napi::Object exports) {
  exports.Set("acquireCredentialsHandle", Napi::Function::New<Acquire>(env, "acquireCredentialsHandle"));
}

}  // namespace sspi
