// AcquireCredentialsHandleW.
#include "common.h"

namespace sspi {

namespace {

// acquireCredentialsHandle(pszPrincipal: string|null, pszPackage: string, fCredentialUse: number,
//                          pvLogonId: bigint|null (a LUID), pAuthData: object | null, async: boolean)
//   -> { status, credential?: CredHandle, expiry?: bigint }  (a Promise of it when async)
//
// pAuthData is read according to the package, as Microsoft's packages read it:
//   - Schannel ("Schannel", "Microsoft Unified Security Protocol Provider", "Default TLS SSP"):
//     SCH_CREDENTIALS or SCHANNEL_CRED, by its dwVersion (schannel.cc, SchannelAuthData);
//   - CredSSP ("CredSSP", "TSSSP"): CREDSSP_CRED (schannel.cc, CredSspAuthData);
//   - every other package: { User?, Domain?, Password?, PackageList? } as a SEC_WINNT_AUTH_IDENTITY_W,
//     or SEC_WINNT_AUTH_IDENTITY_EXW when it carries a PackageList (AuthIdentity).
// Passwords are read straight into native buffers (Secret) that are wiped as soon as
// AcquireCredentialsHandle returns, and on every other way out (a later argument that throws while
// being parsed, a call that never runs); never echoed back or put in an error message. Certificate
// contexts and stores named by Schannel credentials are duplicated for the call, so JavaScript freeing
// its objects while an asynchronous call is in flight does not pull them from under it.
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
    if (auth.IsUndefined() || auth.IsNull()) return;
    if (IsSchannelPackage(package_)) {
      schannel_.reset(new SchannelAuthData());
      schannel_->Parse(auth, "pAuthData");
    } else if (IsCredSspPackage(package_)) {
      credssp_.reset(new CredSspAuthData());
      credssp_->Parse(auth, "pAuthData");
    } else {
      if (!auth.IsObject()) throw Napi::TypeError::New(info.Env(), "pAuthData must be an object { User, Domain, Password }");
      identity_.reset(new AuthIdentity());
      identity_->Parse(auth.As<Napi::Object>(), "pAuthData");
    }
  }

  ~AcquireCall() override {
    if (status_ == SEC_E_OK && !handedOver_) {
      FreeCredentialsHandle(&handle_);
      CountHandle(HandleKind::kCredentials, -1);
    }
  }

  void Execute() override {
    void* authData = nullptr;
    if (schannel_) authData = schannel_->get();
    if (credssp_) authData = credssp_->Build();
    if (identity_) authData = identity_->Build();
    SecInvalidateHandle(&handle_);
    status_ = AcquireCredentialsHandleW(hasPrincipal_ ? &principal_[0] : nullptr, &package_[0], use_,
                                        hasLogonId_ ? &logonId_ : nullptr,
                                        authData, nullptr, nullptr, &handle_, &expiry_);
    if (status_ == SEC_E_OK) CountHandle(HandleKind::kCredentials, +1);
    if (credssp_) credssp_->Wipe();
    if (identity_) identity_->Wipe();
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
  std::wstring principal_, package_;
  // At most one of these, by package; each wipes its secrets in its destructor on every path, a throw
  // in this constructor included.
  std::unique_ptr<AuthIdentity> identity_;
  std::unique_ptr<SchannelAuthData> schannel_;
  std::unique_ptr<CredSspAuthData> credssp_;
  bool hasPrincipal_ = false;
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

void AuthIdentity::Parse(const Napi::Object& o, const std::string& what) {
  hasUser_ = ToWideOptional(o.Get("User"), (what + ".User").c_str(), &user_);
  hasDomain_ = ToWideOptional(o.Get("Domain"), (what + ".Domain").c_str(), &domain_);
  password_.Read(o.Get("Password"), (what + ".Password").c_str());
  hasPackageList_ = ToWideOptional(o.Get("PackageList"), (what + ".PackageList").c_str(), &packageList_);
}

// SEC_WINNT_AUTH_IDENTITY_W is the structure every package's AcquireCredentialsHandle page documents
// for an explicit user; the _EXW form exists to carry Negotiate's PackageList and is used only then.
// (Wine's secur32 reads any pAuthData as the plain structure, and faults on _EXW: its Version/Length
// fields land where the User pointer is expected.)
void* AuthIdentity::Build() {
  if (hasPackageList_) {
    idEx_.Version = SEC_WINNT_AUTH_IDENTITY_VERSION;
    idEx_.Length = sizeof(idEx_);
    Fill(&idEx_);
    idEx_.PackageList = reinterpret_cast<unsigned short*>(&packageList_[0]);
    idEx_.PackageListLength = static_cast<unsigned long>(packageList_.size());
    return &idEx_;
  }
  Fill(&id_);
  return &id_;
}

// User, domain and password fields, common to SEC_WINNT_AUTH_IDENTITY_W and _EXW (Unicode).
template <typename Identity>
void AuthIdentity::Fill(Identity* id) {
  id->User = hasUser_ ? reinterpret_cast<unsigned short*>(&user_[0]) : nullptr;
  id->UserLength = static_cast<unsigned long>(user_.size());
  id->Domain = hasDomain_ ? reinterpret_cast<unsigned short*>(&domain_[0]) : nullptr;
  id->DomainLength = static_cast<unsigned long>(domain_.size());
  id->Password = password_.present() ? reinterpret_cast<unsigned short*>(password_.data()) : nullptr;
  id->PasswordLength = static_cast<unsigned long>(password_.size());
  id->Flags = SEC_WINNT_AUTH_IDENTITY_UNICODE;
}

void AuthIdentity::Wipe() {
  SecureZeroMemory(&id_, sizeof(id_));
  SecureZeroMemory(&idEx_, sizeof(idEx_));
  password_.Wipe();
}

void InitCredentials(Napi::Env env, Napi::Object exports) {
  exports.Set("acquireCredentialsHandle", Napi::Function::New<Acquire>(env, "acquireCredentialsHandle"));
}

}  // namespace sspi
