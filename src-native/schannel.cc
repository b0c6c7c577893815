// Certificates for Schannel and CredSSP: certificate stores (HCERTSTORE) and certificate contexts
// (PCCERT_CONTEXT) as native objects, PFXImportCertStore, the store functions of wincrypt.h the
// credentials need, and the pAuthData structures of AcquireCredentialsHandle for Schannel
// (SCH_CREDENTIALS, SCHANNEL_CRED) and CredSSP (CREDSSP_CRED).
//
// Ownership. Each JavaScript HCERTSTORE / PCCERT_CONTEXT object owns one reference: CertCloseStore /
// CertFreeCertificateContext runs exactly once, on close() / free(), or in the object's finalizer when it
// is garbage-collected unclosed. A call that needs a store or certificate beyond the JavaScript thread
// (AcquireCredentialsHandle, asynchronous) takes its own reference (CertDuplicateStore /
// CertDuplicateCertificateContext) and releases it when the call object is destroyed, so freeing the
// JavaScript object meanwhile is safe: crypt32 counts references, and the last release frees.
// certificateFigures() counts the references the addon holds (objects and calls), for leak tests.
//
// Failures of crypt32 functions (BOOL FALSE or NULL, with GetLastError) are returned as `status`: the
// last error as an HRESULT (a Win32 code such as ERROR_INVALID_PASSWORD becomes
// HRESULT_FROM_WIN32, 0x80070056; CRYPT_E_* values are HRESULTs already), 0 on success. The last error
// is cleared before each call, so a function that fails without setting one (Wine's PFXImportCertStore
// for a wrong password) reports E_FAIL rather than whatever an earlier call left behind.
#include "common.h"

#include <atomic>

namespace sspi {

namespace {

std::atomic<long> gStores{0};
std::atomic<long> gCertificates{0};

// Random, fixed type tags for the two classes.
const napi_type_tag kStoreTag = {0x3c9e51a7f02b4d86ULL, 0xa4d7130e9c5b62f1ULL};
const napi_type_tag kCertTag = {0x8e20d4b91a7c3f55ULL, 0x6b1f9a02d3e847c9ULL};
int kConstructToken = 0;  // only native code can pass it (an External) to the constructors

uint32_t LastErrorStatus() {
  DWORD e = GetLastError();
  if (e == 0) return static_cast<uint32_t>(E_FAIL);
  return static_cast<uint32_t>(HRESULT_FROM_WIN32(e));  // leaves HRESULTs (high bit set) as they are
}

void CloseStore(HCERTSTORE store) {
  CertCloseStore(store, 0);
  gStores--;
}

void FreeCertificate(PCCERT_CONTEXT cert) {
  CertFreeCertificateContext(cert);
  gCertificates--;
}

// Bytes that may hold secrets (a PFX holds the encrypted private key): wiped when destroyed, a throw
// in the constructor that filled them included.
struct WipedBytes {
  std::vector<uint8_t> v;
  ~WipedBytes() {
    if (!v.empty()) SecureZeroMemory(v.data(), v.size());
  }
};

bool IsUint8Array(const Napi::Value& v) {
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array;
}

// ---------------------------------------------------------------- the two object classes

// Shared by both classes: a native object holding one reference (store or certificate), released on
// Release() or in the destructor (the finalizer, the last resort).
template <typename H, void (*ReleaseFn)(H)>
class Owned {
 public:
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  Owned() = default;
  ~Owned() { Release(); }
  void Set(H h) { h_ = h; }
  H get() const { return h_; }
  void Release() {
    if (h_ != nullptr) ReleaseFn(h_);
    h_ = nullptr;
  }

 private:
  H h_ = nullptr;
};

class CertStoreWrap : public Napi::ObjectWrap<CertStoreWrap> {
 public:
  static constexpr const char* kName = "HCERTSTORE";
  static constexpr void (*kRelease)(HCERTSTORE) = &CloseStore;
  static const napi_type_tag* tag() { return &kStoreTag; }
  explicit CertStoreWrap(const Napi::CallbackInfo& info);
  Owned<HCERTSTORE, kRelease> owned;
};

class CertContextWrap : public Napi::ObjectWrap<CertContextWrap> {
 public:
  static constexpr const char* kName = "PCCERT_CONTEXT";
  static constexpr void (*kRelease)(PCCERT_CONTEXT) = &FreeCertificate;
  static const napi_type_tag* tag() { return &kCertTag; }
  explicit CertContextWrap(const Napi::CallbackInfo& info);
  Owned<PCCERT_CONTEXT, kRelease> owned;
};

template <typename Wrap>
void Construct(const Napi::CallbackInfo& info) {
  if (info.Length() != 1 || !info[0].IsExternal() || info[0].As<Napi::External<int>>().Data() != &kConstructToken) {
    throw Napi::TypeError::New(info.Env(), std::string(Wrap::kName) + " cannot be constructed from JavaScript");
  }
  info.This().As<Napi::Object>().TypeTag(Wrap::tag());
}

CertStoreWrap::CertStoreWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CertStoreWrap>(info) {
  Construct<CertStoreWrap>(info);
}

CertContextWrap::CertContextWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CertContextWrap>(info) {
  Construct<CertContextWrap>(info);
}

// The wrap behind `value` if it is an object of this class (type tag checked first: napi_unwrap alone
// would hand back another class's native object), else a TypeError naming `what`.
template <typename Wrap>
Wrap* Unwrapped(const Napi::Value& value, const std::string& what) {
  if (!value.IsObject() || !value.As<Napi::Object>().CheckTypeTag(Wrap::tag())) {
    throw Napi::TypeError::New(value.Env(), what + " must be a " + Wrap::kName);
  }
  Wrap* wrap = Wrap::Unwrap(value.As<Napi::Object>());
  if (wrap == nullptr) throw Napi::TypeError::New(value.Env(), what + " must be a " + Wrap::kName);
  return wrap;
}

// The handle behind `value`, which must be open / not freed (an Error otherwise).
HCERTSTORE StoreOf(const Napi::Value& value, const std::string& what) {
  HCERTSTORE h = Unwrapped<CertStoreWrap>(value, what)->owned.get();
  if (h == nullptr) throw Napi::Error::New(value.Env(), what + " has been closed (CertCloseStore)");
  return h;
}

PCCERT_CONTEXT CertOf(const Napi::Value& value, const std::string& what) {
  PCCERT_CONTEXT h = Unwrapped<CertContextWrap>(value, what)->owned.get();
  if (h == nullptr) throw Napi::Error::New(value.Env(), what + " has been freed (CertFreeCertificateContext)");
  return h;
}

// A new JavaScript object of class Wrap owning a reference the caller already counted. If making the
// object throws, the reference is released here.
template <typename Wrap, typename H>
Napi::Object NewOwned(Napi::Env env, H h, Napi::FunctionReference AddonData::*ctor) {
  try {
    Napi::Object o = (env.GetInstanceData<AddonData>()->*ctor).New({Napi::External<int>::New(env, &kConstructToken)});
    Unwrapped<Wrap>(o, Wrap::kName)->owned.Set(h);
    return o;
  } catch (...) {
    Owned<H, Wrap::kRelease> release;
    release.Set(h);
    throw;
  }
}

Napi::Object NewStore(Napi::Env env, HCERTSTORE h) {
  return NewOwned<CertStoreWrap>(env, h, &AddonData::certStoreCtor);
}

Napi::Object NewCert(Napi::Env env, PCCERT_CONTEXT h) {
  return NewOwned<CertContextWrap>(env, h, &AddonData::certContextCtor);
}

// Prototype members. Each checks its receiver's type tag (JavaScript can call a prototype member
// with any `this`).

// HCERTSTORE.close(dwFlags = 0) -> status of CertCloseStore (0, or CRYPT_E_PENDING_CLOSE's HRESULT with
// CERT_CLOSE_STORE_CHECK_FLAG when contexts from the store are still held); 0 if already closed.
Napi::Value StoreClose(const Napi::CallbackInfo& info) {
  CertStoreWrap* w = Unwrapped<CertStoreWrap>(info.This(), "HCERTSTORE.prototype.close receiver");
  HCERTSTORE h = w->owned.get();
  if (h == nullptr) return StatusValue(info.Env(), 0);
  DWORD flags = info[0].IsUndefined() ? 0 : ToUint32(info[0], "dwFlags");
  w->owned.Set(nullptr);
  gStores--;
  SetLastError(0);
  BOOL ok = CertCloseStore(h, flags);
  return Napi::Number::New(info.Env(), ok ? 0 : LastErrorStatus());
}

Napi::Value StoreValid(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), Unwrapped<CertStoreWrap>(info.This(), "HCERTSTORE receiver")->owned.get() != nullptr);
}

// PCCERT_CONTEXT.free() -> 0 (CertFreeCertificateContext always returns TRUE); idempotent.
Napi::Value CertFree(const Napi::CallbackInfo& info) {
  Unwrapped<CertContextWrap>(info.This(), "PCCERT_CONTEXT.prototype.free receiver")->owned.Release();
  return StatusValue(info.Env(), 0);
}

Napi::Value CertValid(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), Unwrapped<CertContextWrap>(info.This(), "PCCERT_CONTEXT receiver")->owned.get() != nullptr);
}

// pbCertEncoded: a copy of the certificate's DER bytes.
Napi::Value CertEncoded(const Napi::CallbackInfo& info) {
  PCCERT_CONTEXT c = CertOf(info.This(), "PCCERT_CONTEXT receiver");
  return Napi::Buffer<uint8_t>::Copy(info.Env(), c->pbCertEncoded, c->cbCertEncoded);
}

Napi::Value CertEncodingType(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), CertOf(info.This(), "PCCERT_CONTEXT receiver")->dwCertEncodingType);
}

template <typename Wrap>
Napi::Function DefineWrap(Napi::Env env, std::initializer_list<Napi::PropertyDescriptor> members) {
  Napi::Function ctor = Wrap::DefineClass(env, Wrap::kName, std::initializer_list<Napi::ClassPropertyDescriptor<Wrap>>{});
  ctor.Get("prototype").As<Napi::Object>().DefineProperties(members);
  return ctor;
}

// ---------------------------------------------------------------- calls

// pfxImportCertStore(pPFX: Uint8Array, szPassword: string | Uint8Array (UTF-8) | null, dwFlags, async)
//   -> { status, store?: HCERTSTORE }
// The PFX and the password are copied on the JavaScript thread. The password copy (UTF-16, as
// PFXImportCertStore takes it) is wiped with SecureZeroMemory right after the call and on every other
// way out; the PFX copy (which holds the encrypted private key) is wiped too. A JavaScript string
// cannot be wiped (V8 owns it and may have copied it); a Buffer the caller can wipe itself once this
// function has returned (the copy is made before it returns, for the asynchronous form as well).
class PfxImportCall : public SspiCall {
 public:
  explicit PfxImportCall(const Napi::CallbackInfo& info) {
    if (!IsUint8Array(info[0])) throw Napi::TypeError::New(info.Env(), "pPFX must be a Buffer or Uint8Array");
    Napi::Uint8Array pfx = info[0].As<Napi::Uint8Array>();
    pfx_.v.assign(pfx.Data(), pfx.Data() + pfx.ByteLength());
    Napi::Value pw = info[1];
    if (IsUint8Array(pw)) {
      password_.ReadUtf8(pw.As<Napi::Uint8Array>(), "szPassword");
    } else if (!pw.IsUndefined() && !pw.IsNull() && !pw.IsString()) {
      throw Napi::TypeError::New(info.Env(), "szPassword must be a string, a Buffer / Uint8Array of UTF-8, or null");
    } else {
      password_.Read(pw, "szPassword");
    }
    flags_ = ToUint32(info[2], "dwFlags");
  }

  ~PfxImportCall() override {
    if (store_ != nullptr && !handedOver_) CloseStore(store_);
  }

  void Execute() override {
    CRYPT_DATA_BLOB blob{static_cast<DWORD>(pfx_.v.size()), pfx_.v.empty() ? nullptr : pfx_.v.data()};
    SetLastError(0);
    store_ = PFXImportCertStore(&blob, password_.present() ? password_.data() : nullptr, flags_);
    status_ = store_ != nullptr ? 0 : LastErrorStatus();
    if (store_ != nullptr) gStores++;
    password_.Wipe();
    if (!pfx_.v.empty()) SecureZeroMemory(pfx_.v.data(), pfx_.v.size());
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("status", Napi::Number::New(env, status_));
    if (store_ != nullptr) {
      handedOver_ = true;
      result.Set("store", NewStore(env, store_));
    }
    return result;
  }

 private:
  WipedBytes pfx_;
  Secret password_;
  DWORD flags_ = 0;
  HCERTSTORE store_ = nullptr;
  bool handedOver_ = false;
  uint32_t status_ = 0;
};

Napi::Value PfxImport(const Napi::CallbackInfo& info) {
  return Dispatch(info.Env(), new PfxImportCall(info), info[3].ToBoolean());
}

Napi::Object StatusResult(Napi::Env env, uint32_t status) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("status", Napi::Number::New(env, status));
  return result;
}

// certOpenStore(lpszStoreProvider: number, dwEncodingType, dwFlags, pvPara: string | null)
//   -> { status, store? } (no store with CERT_STORE_DELETE_FLAG)
// Only providers whose pvPara is a wide string or nothing: CERT_STORE_PROV_MEMORY (2),
// CERT_STORE_PROV_FILENAME_W (8), CERT_STORE_PROV_SYSTEM_W (10), CERT_STORE_PROV_SYSTEM_REGISTRY_W (13),
// CERT_STORE_PROV_PHYSICAL_W (14). hCryptProv is always 0 (Microsoft: "passing NULL is recommended").
Napi::Value OpenStore(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t provider = ToUint32(info[0], "lpszStoreProvider");
  if (provider != 2 && provider != 8 && provider != 10 && provider != 13 && provider != 14) {
    throw Napi::RangeError::New(env, "lpszStoreProvider must be CERT_STORE_PROV_MEMORY, _FILENAME_W, _SYSTEM_W, _SYSTEM_REGISTRY_W or _PHYSICAL_W");
  }
  DWORD encoding = ToUint32(info[1], "dwEncodingType");
  DWORD flags = ToUint32(info[2], "dwFlags");
  std::wstring para;
  bool hasPara = ToWideOptional(info[3], "pvPara", &para);
  if (!hasPara && provider != 2) throw Napi::TypeError::New(env, "pvPara must be a string (the store name or file name)");
  SetLastError(0);
  HCERTSTORE h = CertOpenStore(reinterpret_cast<LPCSTR>(static_cast<uintptr_t>(provider)), encoding, 0, flags,
                               hasPara ? para.c_str() : nullptr);
  // With CERT_STORE_DELETE_FLAG the store is deleted and NULL returned either way; the last error
  // tells success (0) from failure.
  bool deleted = (flags & CERT_STORE_DELETE_FLAG) != 0;
  uint32_t status = h != nullptr ? 0 : (deleted && GetLastError() == 0) ? 0 : LastErrorStatus();
  Napi::Object result = StatusResult(env, status);
  if (h != nullptr) {
    gStores++;
    result.Set("store", NewStore(env, h));
  }
  return result;
}

// The contexts PCCERT_CONTEXT-returning functions give: a new object, or the failure status.
Napi::Object CertResult(Napi::Env env, PCCERT_CONTEXT c, const char* field = "certificate") {
  Napi::Object result = StatusResult(env, c != nullptr ? 0 : LastErrorStatus());
  if (c != nullptr) {
    gCertificates++;
    result.Set(field, NewCert(env, c));
  }
  return result;
}

// pPrevCertContext for the enumerating functions, which free the one they are given: a duplicate, so
// the JavaScript object keeps its own reference (and its own free()).
PCCERT_CONTEXT PreviousOf(const Napi::Value& value) {
  if (value.IsUndefined() || value.IsNull()) return nullptr;
  return CertDuplicateCertificateContext(CertOf(value, "pPrevCertContext"));
}

// certFindCertificateInStore(hCertStore, dwCertEncodingType, dwFindFlags, dwFindType, pvFindPara,
//                            pPrevCertContext | null) -> { status, certificate? }
// pvFindPara by dwFindType: CERT_FIND_ANY: null; CERT_FIND_SHA1_HASH / CERT_FIND_HASH: a 20-byte
// Uint8Array; CERT_FIND_SUBJECT_STR_W / CERT_FIND_ISSUER_STR_W: a string (a substring of the name).
Napi::Value FindCertificate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HCERTSTORE store = StoreOf(info[0], "hCertStore");
  DWORD encoding = ToUint32(info[1], "dwCertEncodingType");
  DWORD findFlags = ToUint32(info[2], "dwFindFlags");
  DWORD findType = ToUint32(info[3], "dwFindType");
  std::wstring text;
  std::vector<uint8_t> hash;
  CRYPT_HASH_BLOB blob{};
  const void* para = nullptr;
  if (findType == CERT_FIND_ANY) {
    if (!info[4].IsUndefined() && !info[4].IsNull()) throw Napi::TypeError::New(env, "pvFindPara must be null for CERT_FIND_ANY");
  } else if (findType == CERT_FIND_SHA1_HASH) {
    if (!IsUint8Array(info[4]) || info[4].As<Napi::Uint8Array>().ByteLength() != 20) {
      throw Napi::TypeError::New(env, "pvFindPara must be a 20-byte Buffer / Uint8Array (a SHA-1 hash) for CERT_FIND_SHA1_HASH");
    }
    Napi::Uint8Array a = info[4].As<Napi::Uint8Array>();
    hash.assign(a.Data(), a.Data() + a.ByteLength());
    blob.cbData = static_cast<DWORD>(hash.size());
    blob.pbData = hash.data();
    para = &blob;
  } else if (findType == CERT_FIND_SUBJECT_STR_W || findType == CERT_FIND_ISSUER_STR_W) {
    text = ToWide(info[4], "pvFindPara");
    para = text.c_str();
  } else {
    throw Napi::RangeError::New(env, "dwFindType must be CERT_FIND_ANY, CERT_FIND_SHA1_HASH, CERT_FIND_SUBJECT_STR_W or CERT_FIND_ISSUER_STR_W");
  }
  PCCERT_CONTEXT prev = PreviousOf(info[5]);
  SetLastError(0);
  return CertResult(env, CertFindCertificateInStore(store, encoding, findFlags, findType, para, prev));
}

// certEnumCertificatesInStore(hCertStore, pPrevCertContext | null) -> { status, certificate? }
// (CRYPT_E_NOT_FOUND past the last one).
Napi::Value EnumCertificates(const Napi::CallbackInfo& info) {
  HCERTSTORE store = StoreOf(info[0], "hCertStore");
  PCCERT_CONTEXT prev = PreviousOf(info[1]);
  SetLastError(0);
  return CertResult(info.Env(), CertEnumCertificatesInStore(store, prev));
}

// certCreateCertificateContext(dwCertEncodingType, pbCertEncoded: Uint8Array) -> { status, certificate? }
// A context of its own (in no store, without a private key) from the encoded bytes, which crypt32 copies.
Napi::Value CreateCertificate(const Napi::CallbackInfo& info) {
  DWORD encoding = ToUint32(info[0], "dwCertEncodingType");
  if (!IsUint8Array(info[1])) throw Napi::TypeError::New(info.Env(), "pbCertEncoded must be a Buffer or Uint8Array");
  Napi::Uint8Array der = info[1].As<Napi::Uint8Array>();
  if (der.ByteLength() > 0xFFFFFFFFu) throw Napi::RangeError::New(info.Env(), "pbCertEncoded is too long");
  SetLastError(0);
  return CertResult(info.Env(), CertCreateCertificateContext(encoding, der.Data(), static_cast<DWORD>(der.ByteLength())));
}

// certDuplicateCertificateContext(pCertContext) -> a new PCCERT_CONTEXT object (its own reference).
Napi::Value DuplicateCertificate(const Napi::CallbackInfo& info) {
  PCCERT_CONTEXT c = CertDuplicateCertificateContext(CertOf(info[0], "pCertContext"));
  gCertificates++;
  return NewCert(info.Env(), c);
}

// certAddCertificateContextToStore(hCertStore, pCertContext, dwAddDisposition)
//   -> { status, storeContext?: PCCERT_CONTEXT (the copy in the store) }
Napi::Value AddCertificate(const Napi::CallbackInfo& info) {
  HCERTSTORE store = StoreOf(info[0], "hCertStore");
  PCCERT_CONTEXT c = CertOf(info[1], "pCertContext");
  DWORD disposition = ToUint32(info[2], "dwAddDisposition");
  PCCERT_CONTEXT added = nullptr;
  SetLastError(0);
  BOOL ok = CertAddCertificateContextToStore(store, c, disposition, &added);
  if (!ok) return StatusResult(info.Env(), LastErrorStatus());
  return CertResult(info.Env(), added, "storeContext");
}

// certDeleteCertificateFromStore(pCertContext) -> { status }. The function frees the context it is
// given (even on failure); it is given a duplicate, so the JavaScript object keeps its own reference.
Napi::Value DeleteCertificate(const Napi::CallbackInfo& info) {
  PCCERT_CONTEXT c = CertDuplicateCertificateContext(CertOf(info[0], "pCertContext"));
  SetLastError(0);
  BOOL ok = CertDeleteCertificateFromStore(c);
  return StatusResult(info.Env(), ok ? 0 : LastErrorStatus());
}

// certGetCertificateContextProperty(pCertContext, dwPropId) -> { status, pvData?: Buffer }
// pvData is the property's bytes as crypt32 returns them (for structures holding pointers, such as
// CERT_KEY_PROV_INFO_PROP_ID's CRYPT_KEY_PROV_INFO, only their presence and length mean anything).
// CRYPT_E_NOT_FOUND when the certificate has no such property.
Napi::Value GetProperty(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PCCERT_CONTEXT c = CertOf(info[0], "pCertContext");
  DWORD prop = ToUint32(info[1], "dwPropId");
  DWORD size = 0;
  SetLastError(0);
  if (!CertGetCertificateContextProperty(c, prop, nullptr, &size)) return StatusResult(env, LastErrorStatus());
  std::vector<uint8_t> data(size);
  if (!CertGetCertificateContextProperty(c, prop, size ? data.data() : nullptr, &size)) return StatusResult(env, LastErrorStatus());
  Napi::Object result = StatusResult(env, 0);
  result.Set("pvData", Napi::Buffer<uint8_t>::Copy(env, data.data(), size));
  return result;
}

// certificateFigures() -> { certificateStores, certificateContexts }: the references the addon holds now.
Napi::Value Figures(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("certificateStores", Napi::Number::New(info.Env(), static_cast<double>(gStores.load())));
  o.Set("certificateContexts", Napi::Number::New(info.Env(), static_cast<double>(gCertificates.load())));
  return o;
}

// ---------------------------------------------------------------- pAuthData helpers

uint32_t FieldUint32(const Napi::Object& o, const char* field, const std::string& what, uint32_t fallback = 0) {
  Napi::Value v = o.Get(field);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  return ToUint32(v, (what + "." + field).c_str());
}

Napi::Object ObjectArg(const Napi::Value& v, const std::string& what, const char* shape) {
  if (!v.IsObject() || v.IsArray() || IsUint8Array(v)) throw Napi::TypeError::New(v.Env(), what + " must be " + shape);
  return v.As<Napi::Object>();
}

// An optional array field, at most `max` long ([] for absent).
Napi::Array ArrayField(const Napi::Object& o, const char* field, const std::string& what, uint32_t max) {
  Napi::Value v = o.Get(field);
  if (v.IsUndefined() || v.IsNull()) return Napi::Array::New(o.Env(), 0);
  if (!v.IsArray()) throw Napi::TypeError::New(o.Env(), what + "." + field + " must be an array");
  Napi::Array a = v.As<Napi::Array>();
  if (a.Length() > max) {
    throw Napi::RangeError::New(o.Env(), what + "." + field + " has more than " + std::to_string(max) + " entries");
  }
  return a;
}

bool EqualsNoCase(const std::wstring& a, const wchar_t* b) {
  return CompareStringOrdinal(a.c_str(), -1, b, -1, TRUE) == CSTR_EQUAL;
}

}  // namespace

// UTF-8 bytes straight into the wide buffer: MultiByteToWideChar sizes, then converts into it.
void Secret::ReadUtf8(const Napi::Uint8Array& bytes, const char* what) {
  Wipe();
  const char* src = reinterpret_cast<const char*>(bytes.Data());
  if (bytes.ByteLength() > 0x7FFFFFFF) throw Napi::RangeError::New(bytes.Env(), std::string(what) + " is too long");
  int n = static_cast<int>(bytes.ByteLength());
  int chars = n == 0 ? 0 : MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, src, n, nullptr, 0);
  if (n != 0 && chars == 0) throw Napi::TypeError::New(bytes.Env(), std::string(what) + " must be UTF-8");
  chars_.reset(new wchar_t[static_cast<size_t>(chars) + 1]());
  size_ = static_cast<size_t>(chars);
  if (chars != 0) MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, src, n, chars_.get(), chars);
  for (size_t i = 0; i < size_; i++) {
    if (chars_[i] == 0) {
      Wipe();
      throw Napi::TypeError::New(bytes.Env(), std::string(what) + " must not contain NUL characters");
    }
  }
}

bool IsSchannelPackage(const std::wstring& package) {
  return EqualsNoCase(package, SCHANNEL_NAME_W) || EqualsNoCase(package, UNISP_NAME_W) ||
         EqualsNoCase(package, L"Default TLS SSP");
}

bool IsCredSspPackage(const std::wstring& package) {
  return EqualsNoCase(package, L"CredSSP") || EqualsNoCase(package, L"TSSSP");
}

UNICODE_STRING SchannelAuthData::Unicode(const Napi::Value& value, const std::string& what) {
  strings_.emplace_back(new std::wstring(ToWide(value, what.c_str())));
  std::wstring& s = *strings_.back();
  if (s.size() > 0x7FFF) throw Napi::RangeError::New(value.Env(), what + " is too long for a UNICODE_STRING");
  UNICODE_STRING u;
  u.Length = static_cast<USHORT>(s.size() * sizeof(wchar_t));
  u.MaximumLength = u.Length;
  u.Buffer = &s[0];
  return u;
}

// SCH_CREDENTIALS { dwVersion: 5, dwCredFormat?, paCred?, hRootStore?, dwSessionLifespan?, dwFlags?,
//   pTlsParameters?: [{ rgstrAlpnIds?: string[], grbitDisabledProtocols?, pDisabledCrypto?: [{ eAlgorithmUsage,
//   strCngAlgId, rgstrChainingModes?: string[], dwMinBitLength?, dwMaxBitLength? }], dwFlags? }] }
// SCHANNEL_CRED { dwVersion: 4, paCred?, hRootStore?, palgSupportedAlgs?: number[], grbitEnabledProtocols?,
//   dwMinimumCipherStrength?, dwMaximumCipherStrength?, dwSessionLifespan?, dwFlags?, dwCredFormat? }
// cCreds, cTlsParameters and the like are the arrays' lengths. Mappers (aphMappers) are reserved.
void SchannelAuthData::Parse(const Napi::Value& value, const std::string& what) {
  Napi::Env env = value.Env();
  Napi::Object o = ObjectArg(value, what, "an object (SCH_CREDENTIALS or SCHANNEL_CRED)");
  Napi::Value version = o.Get("dwVersion");
  uint32_t v = version.IsNumber() ? ToUint32(version, (what + ".dwVersion").c_str()) : 0;
  if (v != SCH_CREDENTIALS_VERSION && v != SCHANNEL_CRED_VERSION) {
    throw Napi::TypeError::New(env, what + ".dwVersion must be SCH_CREDENTIALS_VERSION (5) or SCHANNEL_CRED_VERSION (4)");
  }
  sch_ = v == SCH_CREDENTIALS_VERSION;

  Napi::Array creds = ArrayField(o, "paCred", what, SCH_CRED_MAX_SUPPORTED_CERTS);
  for (uint32_t i = 0; i < creds.Length(); i++) {
    PCCERT_CONTEXT c = CertOf(creds.Get(i), what + ".paCred[" + std::to_string(i) + "]");
    certs_.push_back(CertDuplicateCertificateContext(c));
    gCertificates++;
  }
  Napi::Value root = o.Get("hRootStore");
  if (!root.IsUndefined() && !root.IsNull()) {
    root_ = CertDuplicateStore(StoreOf(root, what + ".hRootStore"));
    gStores++;
  }
  // paCred holds certificate contexts only: SCH_CRED_FORMAT_CERT_HASH(_STORE) would make Schannel read
  // each entry as a SCHANNEL_CERT_HASH(_STORE) structure, which this marshalling does not build.
  DWORD format = FieldUint32(o, "dwCredFormat", what);
  if (format != SCH_CRED_FORMAT_CERT_CONTEXT) {
    throw Napi::RangeError::New(env, what + ".dwCredFormat must be SCH_CRED_FORMAT_CERT_CONTEXT (0): paCred holds certificate contexts");
  }
  DWORD lifespan = FieldUint32(o, "dwSessionLifespan", what);
  DWORD flags = FieldUint32(o, "dwFlags", what);
  PCCERT_CONTEXT* paCred = certs_.empty() ? nullptr : certs_.data();

  if (sch_) {
    const char* schannelOnly[] = {"palgSupportedAlgs", "grbitEnabledProtocols", "dwMinimumCipherStrength", "dwMaximumCipherStrength"};
    for (const char* f : schannelOnly) {
      if (!o.Get(f).IsUndefined()) {
        throw Napi::TypeError::New(env, what + "." + f + " is a SCHANNEL_CRED field; SCH_CREDENTIALS takes pTlsParameters (grbitDisabledProtocols, pDisabledCrypto)");
      }
    }
    Napi::Array params = ArrayField(o, "pTlsParameters", what, SCH_CRED_MAX_SUPPORTED_PARAMETERS);
    tls_.resize(params.Length());
    crypto_.resize(params.Length());
    unicode_.reserve(params.Length() * (1 + SCH_CRED_MAX_SUPPORTED_CRYPTO_SETTINGS));
    for (uint32_t i = 0; i < params.Length(); i++) {
      std::string pw = what + ".pTlsParameters[" + std::to_string(i) + "]";
      Napi::Object p = ObjectArg(params.Get(i), pw, "an object (TLS_PARAMETERS)");
      TLS_PARAMETERS& t = tls_[i];
      Napi::Array alpn = ArrayField(p, "rgstrAlpnIds", pw, SCH_CRED_MAX_SUPPORTED_ALPN_IDS);
      unicode_.emplace_back();
      std::vector<UNICODE_STRING>& ids = unicode_.back();
      for (uint32_t j = 0; j < alpn.Length(); j++) ids.push_back(Unicode(alpn.Get(j), pw + ".rgstrAlpnIds[" + std::to_string(j) + "]"));
      t.cAlpnIds = static_cast<DWORD>(ids.size());
      t.rgstrAlpnIds = ids.empty() ? nullptr : ids.data();
      t.grbitDisabledProtocols = FieldUint32(p, "grbitDisabledProtocols", pw);
      t.dwFlags = FieldUint32(p, "dwFlags", pw);
      Napi::Array disabled = ArrayField(p, "pDisabledCrypto", pw, SCH_CRED_MAX_SUPPORTED_CRYPTO_SETTINGS);
      std::vector<CRYPTO_SETTINGS>& cs = crypto_[i];
      cs.resize(disabled.Length());
      for (uint32_t j = 0; j < disabled.Length(); j++) {
        std::string cw = pw + ".pDisabledCrypto[" + std::to_string(j) + "]";
        Napi::Object c = ObjectArg(disabled.Get(j), cw, "an object (CRYPTO_SETTINGS)");
        uint32_t usage = ToUint32(c.Get("eAlgorithmUsage"), (cw + ".eAlgorithmUsage").c_str());
        if (usage > TlsParametersCngAlgUsageCertSig) {
          throw Napi::RangeError::New(env, cw + ".eAlgorithmUsage must be a TlsParametersCngAlgUsage value (0 to 4)");
        }
        cs[j].eAlgorithmUsage = static_cast<eTlsAlgorithmUsage>(usage);
        Napi::Value alg = c.Get("strCngAlgId");
        if (alg.IsUndefined() || alg.IsNull()) {
          cs[j].strCngAlgId = UNICODE_STRING{0, 0, nullptr};
        } else {
          cs[j].strCngAlgId = Unicode(alg, cw + ".strCngAlgId");
        }
        Napi::Array modes = ArrayField(c, "rgstrChainingModes", cw, SCH_CRED_MAX_SUPPORTED_CHAINING_MODES);
        unicode_.emplace_back();
        std::vector<UNICODE_STRING>& m = unicode_.back();
        for (uint32_t k = 0; k < modes.Length(); k++) m.push_back(Unicode(modes.Get(k), cw + ".rgstrChainingModes[" + std::to_string(k) + "]"));
        cs[j].cChainingModes = static_cast<DWORD>(m.size());
        cs[j].rgstrChainingModes = m.empty() ? nullptr : m.data();
        cs[j].dwMinBitLength = FieldUint32(c, "dwMinBitLength", cw);
        cs[j].dwMaxBitLength = FieldUint32(c, "dwMaxBitLength", cw);
      }
      t.cDisabledCrypto = static_cast<DWORD>(cs.size());
      t.pDisabledCrypto = cs.empty() ? nullptr : cs.data();
    }
    schCred_.dwVersion = SCH_CREDENTIALS_VERSION;
    schCred_.dwCredFormat = format;
    schCred_.cCreds = static_cast<DWORD>(certs_.size());
    schCred_.paCred = paCred;
    schCred_.hRootStore = root_;
    schCred_.dwSessionLifespan = lifespan;
    schCred_.dwFlags = flags;
    schCred_.cTlsParameters = static_cast<DWORD>(tls_.size());
    schCred_.pTlsParameters = tls_.empty() ? nullptr : tls_.data();
  } else {
    const char* schOnly[] = {"pTlsParameters"};
    for (const char* f : schOnly) {
      if (!o.Get(f).IsUndefined()) {
        throw Napi::TypeError::New(env, what + "." + f + " is a SCH_CREDENTIALS field; SCHANNEL_CRED takes grbitEnabledProtocols and palgSupportedAlgs");
      }
    }
    Napi::Array algs = ArrayField(o, "palgSupportedAlgs", what, SCH_CRED_MAX_SUPPORTED_ALGS);
    for (uint32_t i = 0; i < algs.Length(); i++) {
      algs_.push_back(ToUint32(algs.Get(i), (what + ".palgSupportedAlgs[" + std::to_string(i) + "]").c_str()));
    }
    cred_.dwVersion = SCHANNEL_CRED_VERSION;
    cred_.cCreds = static_cast<DWORD>(certs_.size());
    cred_.paCred = paCred;
    cred_.hRootStore = root_;
    cred_.cSupportedAlgs = static_cast<DWORD>(algs_.size());
    cred_.palgSupportedAlgs = algs_.empty() ? nullptr : algs_.data();
    cred_.grbitEnabledProtocols = FieldUint32(o, "grbitEnabledProtocols", what);
    cred_.dwMinimumCipherStrength = FieldUint32(o, "dwMinimumCipherStrength", what);
    cred_.dwMaximumCipherStrength = FieldUint32(o, "dwMaximumCipherStrength", what);
    cred_.dwSessionLifespan = lifespan;
    cred_.dwFlags = flags;
    cred_.dwCredFormat = format;
  }
}

void* SchannelAuthData::get() {
  return sch_ ? static_cast<void*>(&schCred_) : static_cast<void*>(&cred_);
}

SchannelAuthData::~SchannelAuthData() {
  for (PCCERT_CONTEXT c : certs_) FreeCertificate(c);
  if (root_ != nullptr) CloseStore(root_);
}

// CREDSSP_CRED { Type: CREDSSP_SUBMIT_TYPE, pSchannelCred: SCH_CREDENTIALS | SCHANNEL_CRED | null,
//   pSpnegoCred: SEC_WINNT_AUTH_IDENTITY | null }
void CredSspAuthData::Parse(const Napi::Value& value, const std::string& what) {
  Napi::Env env = value.Env();
  Napi::Object o = ObjectArg(value, what, "an object (CREDSSP_CRED)");
  cred_.Type = static_cast<decltype(cred_.Type)>(ToUint32(o.Get("Type"), (what + ".Type").c_str()));
  Napi::Value sch = o.Get("pSchannelCred");
  if (!sch.IsUndefined() && !sch.IsNull()) {
    schannel_.reset(new SchannelAuthData());
    schannel_->Parse(sch, what + ".pSchannelCred");
  }
  Napi::Value spnego = o.Get("pSpnegoCred");
  if (!spnego.IsUndefined() && !spnego.IsNull()) {
    if (!spnego.IsObject() || spnego.IsArray()) {
      throw Napi::TypeError::New(env, what + ".pSpnegoCred must be an object { User, Domain, Password } or null");
    }
    spnego_.Parse(spnego.As<Napi::Object>(), what + ".pSpnegoCred");
    hasSpnego_ = true;
  }
}

void* CredSspAuthData::Build() {
  cred_.pSchannelCred = schannel_ ? schannel_->get() : nullptr;
  cred_.pSpnegoCred = hasSpnego_ ? spnego_.Build() : nullptr;
  return &cred_;
}

void InitSchannel(Napi::Env env, Napi::Object exports) {
  AddonData* data = env.GetInstanceData<AddonData>();
  // Compile-time callbacks (no callback data to keep alive): an earlier form passed each member a
  // temporary object that owned its callback data, and once that object was collected the members read
  // freed memory.
  using PD = Napi::PropertyDescriptor;
  Napi::Function store = DefineWrap<CertStoreWrap>(env, {
      PD::Value("close", Napi::Function::New<StoreClose>(env, "close"), napi_default),
      PD::Accessor<StoreValid>("valid"),
  });
  Napi::Function cert = DefineWrap<CertContextWrap>(env, {
      PD::Value("free", Napi::Function::New<CertFree>(env, "free"), napi_default),
      PD::Accessor<CertValid>("valid"),
      PD::Accessor<CertEncoded>("pbCertEncoded"),
      PD::Accessor<CertEncodingType>("dwCertEncodingType"),
  });
  data->certStoreCtor = Napi::Persistent(store);
  data->certContextCtor = Napi::Persistent(cert);
  exports.Set("HCERTSTORE", store);
  exports.Set("PCCERT_CONTEXT", cert);
  exports.Set("pfxImportCertStore", Napi::Function::New<PfxImport>(env, "pfxImportCertStore"));
  exports.Set("certOpenStore", Napi::Function::New<OpenStore>(env, "certOpenStore"));
  exports.Set("certFindCertificateInStore", Napi::Function::New<FindCertificate>(env, "certFindCertificateInStore"));
  exports.Set("certEnumCertificatesInStore", Napi::Function::New<EnumCertificates>(env, "certEnumCertificatesInStore"));
  exports.Set("certCreateCertificateContext", Napi::Function::New<CreateCertificate>(env, "certCreateCertificateContext"));
  exports.Set("certDuplicateCertificateContext", Napi::Function::New<DuplicateCertificate>(env, "certDuplicateCertificateContext"));
  exports.Set("certAddCertificateContextToStore", Napi::Function::New<AddCertificate>(env, "certAddCertificateContextToStore"));
  exports.Set("certDeleteCertificateFromStore", Napi::Function::New<DeleteCertificate>(env, "certDeleteCertificateFromStore"));
  exports.Set("certGetCertificateContextProperty", Napi::Function::New<GetProperty>(env, "certGetCertificateContextProperty"));
  exports.Set("certificateFigures", Napi::Function::New<Figures>(env, "certificateFigures"));
}

}  // namespace sspi
