// QueryContextAttributesW, SetContextAttributesW, QueryCredentialsAttributesW, SetCredentialsAttributesW.
//
// Each is an SspiCall (sync and async forms): a package may ask LSASS (Windows runs the providers
// there) or, under Wine, run its provider in this process. Execute() copies every value SSPI returns
// into memory this call owns and frees what the package allocated at once, on the thread that made
// the call (FreeContextBuffer for strings, SecPkgInfo and byte buffers, CertFreeCertificateContext for
// certificate contexts), so nothing is leaked or freed twice whether or not the result is ever
// delivered. Result() turns the copy into JavaScript values with SSPI's field names.
#include "common.h"

#include <wincrypt.h>
#include <schannel.h>

#include <cstring>

namespace sspi {

namespace {

// ---- the structures sspi.h / schannel.h define, checked against Microsoft's layouts ----
// (https://learn.microsoft.com/en-us/windows/win32/api/sspi/ and .../api/schannel/): sizes on x64 / x86.
static_assert(sizeof(SecPkgContext_Sizes) == 16, "SecPkgContext_Sizes: four ULONGs");
static_assert(sizeof(SecPkgContext_StreamSizes) == 20, "SecPkgContext_StreamSizes: five ULONGs");
static_assert(sizeof(SecPkgContext_Lifespan) == 16, "SecPkgContext_Lifespan: two TimeStamps");
static_assert(sizeof(SecPkgContext_SessionKey) == 2 * sizeof(void*), "SecPkgContext_SessionKey: ULONG + pointer");
static_assert(offsetof(SecPkgContext_SessionKey, SessionKey) == sizeof(void*), "SessionKey after the padded length");
static_assert(offsetof(SecPkgContext_Bindings, Bindings) == sizeof(void*), "Bindings after the padded BindingsLength");
static_assert(offsetof(SecPkgContext_TargetInformation, MarshalledTargetInfo) == sizeof(void*),
              "MarshalledTargetInfo after the padded length");
static_assert(sizeof(SecPkgContext_ApplicationProtocol) == 4 + 4 + 1 + 255, "SecPkgContext_ApplicationProtocol");
static_assert(sizeof(SecPkgContext_ConnectionInfo) == 28, "SecPkgContext_ConnectionInfo: seven DWORD/ALG_IDs");
static_assert(sizeof(SecPkgContext_CipherInfo) == 4 * 4 + 5 * 64 * 2 + 6 * 4, "SecPkgContext_CipherInfo");
static_assert(sizeof(SecPkgContext_EarlyStart) == 4, "SecPkgContext_EarlyStart: one DWORD");
static_assert(sizeof(SecPkgCredentials_KdcProxySettingsW) == 16, "SecPkgCredentials_KdcProxySettingsW: 2 ULONG + 4 USHORT");
static_assert(sizeof(SecPkgCred_CipherStrengths) == 8, "SecPkgCred_CipherStrengths: two DWORDs");

// One value of a result, copied out of SSPI's memory. A small tree: numbers, bigints, strings,
// bytes, booleans, lists and nested objects (SecPkgInfo), in the order SSPI's structure has them.
class Fields {
 public:
  Fields() = default;
  Fields(const Fields&) = delete;
  Fields& operator=(const Fields&) = delete;
  ~Fields() {
    for (Entry& e : entries_) {
      if (e.secret && !e.bytes.empty()) SecureZeroMemory(e.bytes.data(), e.bytes.size());
    }
  }

  void Number(const char* name, double v) { Add(name, kNumber).number = v; }
  void BigInt(const char* name, int64_t v) { Add(name, kBigInt).big = v; }
  void Bool(const char* name, bool v) { Add(name, kBool).number = v ? 1 : 0; }
  void Null(const char* name) { Add(name, kNull); }
  // A NUL-terminated string, or null for a NULL pointer.
  void String(const char* name, const wchar_t* s) {
    if (s == nullptr) return Null(name);
    Add(name, kString).str = s;
  }
  // A fixed WCHAR array: up to its first NUL, never past `chars`.
  void StringN(const char* name, const wchar_t* s, size_t chars) {
    size_t n = 0;
    while (n < chars && s[n] != 0) n++;
    Add(name, kString).str.assign(s, n);
  }
  // Bytes copied into a Buffer; a secret copy is wiped when this object goes.
  void Bytes(const char* name, const void* p, size_t len, bool secret = false) {
    Entry& e = Add(name, kBytes);
    e.secret = secret;
    if (len > 0 && p != nullptr) e.bytes.assign(static_cast<const uint8_t*>(p), static_cast<const uint8_t*>(p) + len);
  }
  void BytesList(const char* name, std::vector<std::vector<uint8_t>> list) { Add(name, kBytesList).list = std::move(list); }
  void NumberList(const char* name, std::vector<double> list) { Add(name, kNumberList).numbers = std::move(list); }
  Fields* Object(const char* name) {
    Entry& e = Add(name, kObject);
    e.child = std::make_unique<Fields>();
    return e.child.get();
  }
  // SecPkgInfoW (copied) or null.
  void PackageInfo(const char* name, const SecPkgInfoW* p) {
    if (p == nullptr) return Null(name);
    Fields* o = Object(name);
    o->Number("fCapabilities", p->fCapabilities);
    o->Number("wVersion", p->wVersion);
    o->Number("wRPCID", p->wRPCID);
    o->Number("cbMaxToken", p->cbMaxToken);
    o->String("Name", p->Name);
    o->String("Comment", p->Comment);
  }

  Napi::Object Build(Napi::Env env) const {
    Napi::Object o = Napi::Object::New(env);
    for (const Entry& e : entries_) {
      switch (e.kind) {
        case kNumber: o.Set(e.name, Napi::Number::New(env, e.number)); break;
        case kBigInt: o.Set(e.name, Napi::BigInt::New(env, e.big)); break;
        case kBool: o.Set(e.name, Napi::Boolean::New(env, e.number != 0)); break;
        case kNull: o.Set(e.name, env.Null()); break;
        case kString: o.Set(e.name, FromWide(env, e.str.data(), e.str.size())); break;
        case kBytes: o.Set(e.name, Napi::Buffer<uint8_t>::Copy(env, e.bytes.data(), e.bytes.size())); break;
        case kBytesList: {
          Napi::Array a = Napi::Array::New(env, e.list.size());
          for (size_t i = 0; i < e.list.size(); i++) {
            a.Set(static_cast<uint32_t>(i), Napi::Buffer<uint8_t>::Copy(env, e.list[i].data(), e.list[i].size()));
          }
          o.Set(e.name, a);
          break;
        }
        case kNumberList: {
          Napi::Array a = Napi::Array::New(env, e.numbers.size());
          for (size_t i = 0; i < e.numbers.size(); i++) a.Set(static_cast<uint32_t>(i), Napi::Number::New(env, e.numbers[i]));
          o.Set(e.name, a);
          break;
        }
        case kObject: o.Set(e.name, e.child->Build(env)); break;
      }
    }
    return o;
  }

 private:
  enum Kind { kNumber, kBigInt, kBool, kNull, kString, kBytes, kBytesList, kNumberList, kObject };
  struct Entry {
    std::string name;
    Kind kind = kNull;
    double number = 0;
    int64_t big = 0;
    bool secret = false;
    std::wstring str;
    std::vector<uint8_t> bytes;
    std::vector<std::vector<uint8_t>> list;
    std::vector<double> numbers;
    std::unique_ptr<Fields> child;
  };
  Entry& Add(const char* name, Kind kind) {
    entries_.emplace_back();
    entries_.back().name = name;
    entries_.back().kind = kind;
    return entries_.back();
  }
  std::vector<Entry> entries_;
};

// Frees a package-allocated buffer (FreeContextBuffer) if there is one.
void Free(void* p) { FreePackageBuffer(p); }

// A package-allocated string: copied, then freed.
void TakeString(Fields* f, const char* name, wchar_t* s) {
  f->String(name, s);
  Free(s);
}

// CertFreeCertificateContext from crypt32.dll, looked up rather than imported: a package that hands
// out a CERT_CONTEXT (Schannel) has loaded crypt32.dll already, and the addon then needs no import
// beyond secur32.dll and kernel32.dll.
void FreeCertificate(PCCERT_CONTEXT cert) {
  using FreeFn = BOOL(WINAPI*)(PCCERT_CONTEXT);
  static const FreeFn freeFn = [] {
    HMODULE crypt32 = GetModuleHandleW(L"crypt32.dll");
    if (crypt32 == nullptr) crypt32 = LoadLibraryExW(L"crypt32.dll", nullptr, LOAD_LIBRARY_SEARCH_SYSTEM32);
    return crypt32 ? reinterpret_cast<FreeFn>(reinterpret_cast<void*>(GetProcAddress(crypt32, "CertFreeCertificateContext")))
                   : nullptr;
  }();
  if (freeFn != nullptr) freeFn(cert);
}

// A certificate context (Schannel's REMOTE_CERT_CONTEXT / LOCAL_CERT_CONTEXT): its DER encoding
// (pbCertEncoded) and encoding type; the context is released with CertFreeCertificateContext.
void TakeCertificate(Fields* f, PCCERT_CONTEXT cert) {
  if (cert == nullptr) {
    f->Null("pbCertEncoded");
    return;
  }
  f->Number("dwCertEncodingType", cert->dwCertEncodingType);
  f->Bytes("pbCertEncoded", cert->pbCertEncoded, cert->cbCertEncoded);
  FreeCertificate(cert);
}

// The ulAttribute values QueryContextAttributes marshals; others are a RangeError before any call.
bool KnownContextAttribute(uint32_t a) {
  switch (a) {
    case SECPKG_ATTR_SIZES: case SECPKG_ATTR_NAMES: case SECPKG_ATTR_LIFESPAN: case SECPKG_ATTR_DCE_INFO:
    case SECPKG_ATTR_STREAM_SIZES: case SECPKG_ATTR_KEY_INFO: case SECPKG_ATTR_AUTHORITY:
    case SECPKG_ATTR_SESSION_KEY: case SECPKG_ATTR_PACKAGE_INFO: case SECPKG_ATTR_NEGOTIATION_INFO:
    case SECPKG_ATTR_NATIVE_NAMES: case SECPKG_ATTR_FLAGS: case SECPKG_ATTR_TARGET_INFORMATION:
    case SECPKG_ATTR_ACCESS_TOKEN: case SECPKG_ATTR_UNIQUE_BINDINGS: case SECPKG_ATTR_ENDPOINT_BINDINGS:
    case SECPKG_ATTR_CLIENT_SPECIFIED_TARGET: case SECPKG_ATTR_LAST_CLIENT_TOKEN_STATUS:
    case SECPKG_ATTR_APPLICATION_PROTOCOL: case SECPKG_ATTR_IS_LOOPBACK: case SECPKG_ATTR_CONNECTION_INFO:
    case SECPKG_ATTR_CIPHER_INFO: case SECPKG_ATTR_REMOTE_CERT_CONTEXT: case SECPKG_ATTR_LOCAL_CERT_CONTEXT:
    case SECPKG_ATTR_ISSUER_LIST_EX:
      return true;
    default:
      return false;
  }
}

// Room for any structure QueryContextAttributesW writes for the attributes above.
union ContextBuffer {
  SecPkgContext_Sizes sizes;
  SecPkgContext_NamesW names;
  SecPkgContext_Lifespan lifespan;
  SecPkgContext_DceInfo dceInfo;
  SecPkgContext_StreamSizes streamSizes;
  SecPkgContext_KeyInfoW keyInfo;
  SecPkgContext_AuthorityW authority;
  SecPkgContext_SessionKey sessionKey;
  SecPkgContext_PackageInfoW packageInfo;
  SecPkgContext_NegotiationInfoW negotiationInfo;
  SecPkgContext_NativeNamesW nativeNames;
  SecPkgContext_Flags flags;
  SecPkgContext_TargetInformation targetInformation;
  SecPkgContext_AccessToken accessToken;
  SecPkgContext_Bindings bindings;
  SecPkgContext_ClientSpecifiedTarget clientSpecifiedTarget;
  SecPkgContext_LastClientTokenStatus lastClientTokenStatus;
  SecPkgContext_ApplicationProtocol applicationProtocol;
  SecPkgContext_ConnectionInfo connectionInfo;
  SecPkgContext_CipherInfo cipherInfo;
  PCCERT_CONTEXT certContext;
  SecPkgContext_IssuerListInfoEx issuerListEx;
  uint8_t raw[1024];
};

// Copies the structure of `attribute` out of `b` and frees what the package allocated in it.
void DecodeContextAttribute(uint32_t attribute, ContextBuffer& b, Fields* v) {
  switch (attribute) {
    case SECPKG_ATTR_SIZES:
      v->Number("cbMaxToken", b.sizes.cbMaxToken);
      v->Number("cbMaxSignature", b.sizes.cbMaxSignature);
      v->Number("cbBlockSize", b.sizes.cbBlockSize);
      v->Number("cbSecurityTrailer", b.sizes.cbSecurityTrailer);
      break;
    case SECPKG_ATTR_NAMES:
      TakeString(v, "sUserName", b.names.sUserName);
      break;
    case SECPKG_ATTR_LIFESPAN:
      v->BigInt("tsStart", b.lifespan.tsStart.QuadPart);
      v->BigInt("tsExpiry", b.lifespan.tsExpiry.QuadPart);
      break;
    case SECPKG_ATTR_DCE_INFO:
      // pPac is package-specific authorization data of no documented size: reported as present or
      // not, and freed.
      v->Number("AuthzSvc", b.dceInfo.AuthzSvc);
      v->Bool("pPac", b.dceInfo.pPac != nullptr);
      Free(b.dceInfo.pPac);
      break;
    case SECPKG_ATTR_STREAM_SIZES:
      v->Number("cbHeader", b.streamSizes.cbHeader);
      v->Number("cbTrailer", b.streamSizes.cbTrailer);
      v->Number("cbMaximumMessage", b.streamSizes.cbMaximumMessage);
      v->Number("cBuffers", b.streamSizes.cBuffers);
      v->Number("cbBlockSize", b.streamSizes.cbBlockSize);
      break;
    case SECPKG_ATTR_KEY_INFO:
      TakeString(v, "sSignatureAlgorithmName", b.keyInfo.sSignatureAlgorithmName);
      TakeString(v, "sEncryptAlgorithmName", b.keyInfo.sEncryptAlgorithmName);
      v->Number("KeySize", b.keyInfo.KeySize);
      v->Number("SignatureAlgorithm", b.keyInfo.SignatureAlgorithm);
      v->Number("EncryptAlgorithm", b.keyInfo.EncryptAlgorithm);
      break;
    case SECPKG_ATTR_AUTHORITY:
      TakeString(v, "sAuthorityName", b.authority.sAuthorityName);
      break;
    case SECPKG_ATTR_SESSION_KEY:
      // A secret: the copy is wiped with this call, the package's buffer before it is freed.
      v->Number("SessionKeyLength", b.sessionKey.SessionKeyLength);
      v->Bytes("SessionKey", b.sessionKey.SessionKey, b.sessionKey.SessionKeyLength, true);
      if (b.sessionKey.SessionKey != nullptr) {
        SecureZeroMemory(b.sessionKey.SessionKey, b.sessionKey.SessionKeyLength);
        Free(b.sessionKey.SessionKey);
      }
      break;
    case SECPKG_ATTR_PACKAGE_INFO:
      v->PackageInfo("PackageInfo", b.packageInfo.PackageInfo);
      Free(b.packageInfo.PackageInfo);
      break;
    case SECPKG_ATTR_NEGOTIATION_INFO:
      v->PackageInfo("PackageInfo", b.negotiationInfo.PackageInfo);
      v->Number("NegotiationState", b.negotiationInfo.NegotiationState);
      Free(b.negotiationInfo.PackageInfo);
      break;
    case SECPKG_ATTR_NATIVE_NAMES:
      TakeString(v, "sClientName", b.nativeNames.sClientName);
      TakeString(v, "sServerName", b.nativeNames.sServerName);
      break;
    case SECPKG_ATTR_FLAGS:
      v->Number("Flags", b.flags.Flags);
      break;
    case SECPKG_ATTR_TARGET_INFORMATION:
      v->Number("MarshalledTargetInfoLength", b.targetInformation.MarshalledTargetInfoLength);
      v->Bytes("MarshalledTargetInfo", b.targetInformation.MarshalledTargetInfo, b.targetInformation.MarshalledTargetInfoLength);
      Free(b.targetInformation.MarshalledTargetInfo);
      break;
    case SECPKG_ATTR_ACCESS_TOKEN:
      // The token handle belongs to the context ("do not close it", QueryContextAttributes (General));
      // only whether there is one is reported. QuerySecurityContextToken gives a handle the caller owns.
      v->Bool("AccessToken", b.accessToken.AccessToken != nullptr && b.accessToken.AccessToken != INVALID_HANDLE_VALUE);
      break;
    case SECPKG_ATTR_UNIQUE_BINDINGS:
    case SECPKG_ATTR_ENDPOINT_BINDINGS:
      // SEC_CHANNEL_BINDINGS and its data, BindingsLength bytes in all, whatever the length.
      v->Number("BindingsLength", b.bindings.BindingsLength);
      v->Bytes("Bindings", b.bindings.Bindings, b.bindings.BindingsLength);
      Free(b.bindings.Bindings);
      break;
    case SECPKG_ATTR_CLIENT_SPECIFIED_TARGET:
      TakeString(v, "sTargetName", b.clientSpecifiedTarget.sTargetName);
      break;
    case SECPKG_ATTR_LAST_CLIENT_TOKEN_STATUS:
      v->Number("LastClientTokenStatus", static_cast<uint32_t>(b.lastClientTokenStatus.LastClientTokenStatus));
      break;
    case SECPKG_ATTR_APPLICATION_PROTOCOL: {
      const SecPkgContext_ApplicationProtocol& p = b.applicationProtocol;
      v->Number("ProtoNegoStatus", static_cast<uint32_t>(p.ProtoNegoStatus));
      v->Number("ProtoNegoExt", static_cast<uint32_t>(p.ProtoNegoExt));
      v->Number("ProtocolIdSize", p.ProtocolIdSize);
      v->Bytes("ProtocolId", p.ProtocolId, p.ProtocolIdSize < MAX_PROTOCOL_ID_SIZE ? p.ProtocolIdSize : MAX_PROTOCOL_ID_SIZE);
      break;
    }
    case SECPKG_ATTR_IS_LOOPBACK: {
      // No SDK header declares this attribute's structure (sspi.h has only the number, 37): the
      // package writes a boolean into the zeroed buffer; any nonzero first ULONG is true.
      ULONG first = 0;
      std::memcpy(&first, b.raw, sizeof(first));
      v->Bool("IsLoopback", first != 0);
      break;
    }
    case SECPKG_ATTR_CONNECTION_INFO: {
      const SecPkgContext_ConnectionInfo& c = b.connectionInfo;
      v->Number("dwProtocol", c.dwProtocol);
      v->Number("aiCipher", c.aiCipher);
      v->Number("dwCipherStrength", c.dwCipherStrength);
      v->Number("aiHash", c.aiHash);
      v->Number("dwHashStrength", c.dwHashStrength);
      v->Number("aiExch", c.aiExch);
      v->Number("dwExchStrength", c.dwExchStrength);
      break;
    }
    case SECPKG_ATTR_CIPHER_INFO: {
      const SecPkgContext_CipherInfo& c = b.cipherInfo;
      v->Number("dwVersion", c.dwVersion);
      v->Number("dwProtocol", c.dwProtocol);
      v->Number("dwCipherSuite", c.dwCipherSuite);
      v->Number("dwBaseCipherSuite", c.dwBaseCipherSuite);
      v->StringN("szCipherSuite", c.szCipherSuite, SZ_ALG_MAX_SIZE);
      v->StringN("szCipher", c.szCipher, SZ_ALG_MAX_SIZE);
      v->Number("dwCipherLen", c.dwCipherLen);
      v->Number("dwCipherBlockLen", c.dwCipherBlockLen);
      v->StringN("szHash", c.szHash, SZ_ALG_MAX_SIZE);
      v->Number("dwHashLen", c.dwHashLen);
      v->StringN("szExchange", c.szExchange, SZ_ALG_MAX_SIZE);
      v->Number("dwMinExchangeLen", c.dwMinExchangeLen);
      v->Number("dwMaxExchangeLen", c.dwMaxExchangeLen);
      v->StringN("szCertificate", c.szCertificate, SZ_ALG_MAX_SIZE);
      v->Number("dwKeyType", c.dwKeyType);
      break;
    }
    case SECPKG_ATTR_REMOTE_CERT_CONTEXT:
    case SECPKG_ATTR_LOCAL_CERT_CONTEXT:
      TakeCertificate(v, b.certContext);
      break;
    case SECPKG_ATTR_ISSUER_LIST_EX: {
      // The DER-encoded distinguished names of the issuers the server accepts; one block, freed once.
      std::vector<std::vector<uint8_t>> issuers;
      const SecPkgContext_IssuerListInfoEx& l = b.issuerListEx;
      for (DWORD i = 0; l.aIssuers != nullptr && i < l.cIssuers; i++) {
        const CERT_NAME_BLOB& n = l.aIssuers[i];
        issuers.emplace_back(n.pbData, n.pbData + (n.pbData ? n.cbData : 0));
      }
      v->Number("cIssuers", l.cIssuers);
      v->BytesList("aIssuers", std::move(issuers));
      Free(l.aIssuers);
      break;
    }
  }
}

// { status } of a Set*Attributes call.
Napi::Object StatusResult(Napi::Env env, SECURITY_STATUS status) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("status", StatusValue(env, status));
  return result;
}

// { status, buffer? } of a Query*Attributes call: the copied structure with SEC_E_OK only.
Napi::Object QueryResult(Napi::Env env, SECURITY_STATUS status, const Fields& value) {
  Napi::Object result = StatusResult(env, status);
  if (status == SEC_E_OK) result.Set("buffer", value.Build(env));
  return result;
}

// The handles' in-use marks, taken on the JavaScript thread after every argument parsed (so a
// TypeError leaves nothing marked) and released by Finish(), which also runs a delete / free that
// came meanwhile.
void ReleaseContext(std::shared_ptr<CtxtState>& ctx) {
  if (!ctx) return;
  ctx->EndCall();
  ctx.reset();
}

void ReleaseCredential(std::shared_ptr<CredState>& cred) {
  if (!cred) return;
  cred->EndUse();
  cred.reset();
}

// A call on one CtxtHandle: busy while it runs. A context no ISC/ASC created yet holds no handle:
// the answer is SEC_E_INVALID_HANDLE without handing SecInvalidateHandle's placeholder to SSPI.
class ContextAttributeCall : public SspiCall {
 public:
  void Finish() override { ReleaseContext(ctx_); }

 protected:
  void TakeContext(Napi::Env env, std::shared_ptr<CtxtState> ctx, const char* fn) {
    CtxtHandleWrap::BeginCall(env, *ctx, fn);
    ctx_ = std::move(ctx);
  }
  std::shared_ptr<CtxtState> ctx_;
  SECURITY_STATUS status_ = SEC_E_INTERNAL_ERROR;
};

// QueryContextAttributes(phContext: CtxtHandle, ulAttribute: number, async) -> { status, buffer? }
class QueryContextCall : public ContextAttributeCall {
 public:
  explicit QueryContextCall(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::shared_ptr<CtxtState> ctx = CtxtHandleWrap::From(info[0], "phContext");
    attribute_ = ToUint32(info[1], "ulAttribute");
    if (!KnownContextAttribute(attribute_)) {
      throw Napi::RangeError::New(env, "QueryContextAttributes: ulAttribute " + std::to_string(attribute_) +
                                           " is not an attribute this binding marshals (see SECPKG_ATTR)");
    }
    TakeContext(env, std::move(ctx), "QueryContextAttributes");
  }

  void Execute() override {
    if (!ctx_->valid) {
      status_ = SEC_E_INVALID_HANDLE;
      return;
    }
    ContextBuffer b;
    std::memset(&b, 0, sizeof(b));
    status_ = QueryContextAttributesW(&ctx_->handle, attribute_, &b);
    if (status_ == SEC_E_OK) DecodeContextAttribute(attribute_, b, &value_);
    SecureZeroMemory(&b, sizeof(b));
  }

  Napi::Value Result(Napi::Env env) override { return QueryResult(env, status_, value_); }

 private:
  uint32_t attribute_ = 0;
  Fields value_;
};

// ---- value parsing for the Set* calls (JavaScript thread) ----

Napi::Object ValueObject(const Napi::Value& value, const char* what) {
  if (!value.IsObject() || value.IsArray()) {
    throw Napi::TypeError::New(value.Env(), std::string(what) + " must be an object with the structure's fields");
  }
  return value.As<Napi::Object>();
}

uint32_t FieldUint32(const Napi::Object& o, const char* field, const char* what, bool required, uint32_t fallback = 0) {
  Napi::Value v = o.Get(field);
  if (v.IsUndefined() && !required) return fallback;
  return ToUint32(v, (std::string(what) + "." + field).c_str());
}

std::vector<uint8_t> FieldBytes(const Napi::Object& o, const char* field, const char* what, bool required) {
  Napi::Value v = o.Get(field);
  if ((v.IsUndefined() || v.IsNull()) && !required) return {};
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(o.Env(), std::string(what) + "." + field + " must be a Buffer or Uint8Array");
  }
  Napi::Uint8Array a = v.As<Napi::Uint8Array>();
  return std::vector<uint8_t>(a.Data(), a.Data() + a.ByteLength());
}

// SetContextAttributes(phContext, ulAttribute, value, async) -> { status }
// The attributes SetContextAttributesW documents
// (https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-setcontextattributesw), all Schannel's:
//   SECPKG_ATTR_APP_DATA       { dwFlags?, pbAppData }         (SecPkgContext_SessionAppData)
//   SECPKG_ATTR_EAP_PRF_INFO   { dwVersion?, pbPrfData }       (SecPkgContext_EapPrfInfo)
//   SECPKG_ATTR_EARLY_START    { dwEarlyStartFlags }            (SecPkgContext_EarlyStart)
class SetContextCall : public ContextAttributeCall {
 public:
  explicit SetContextCall(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::shared_ptr<CtxtState> ctx = CtxtHandleWrap::From(info[0], "phContext");
    attribute_ = ToUint32(info[1], "ulAttribute");
    switch (attribute_) {
      case SECPKG_ATTR_APP_DATA: {
        Napi::Object o = ValueObject(info[2], "value");
        dwFlags_ = FieldUint32(o, "dwFlags", "value", false);
        data_ = FieldBytes(o, "pbAppData", "value", true);
        break;
      }
      case SECPKG_ATTR_EAP_PRF_INFO: {
        Napi::Object o = ValueObject(info[2], "value");
        dwFlags_ = FieldUint32(o, "dwVersion", "value", false);
        data_ = FieldBytes(o, "pbPrfData", "value", true);
        break;
      }
      case SECPKG_ATTR_EARLY_START: {
        Napi::Object o = ValueObject(info[2], "value");
        dwFlags_ = FieldUint32(o, "dwEarlyStartFlags", "value", true);
        break;
      }
      default:
        throw Napi::RangeError::New(env, "SetContextAttributes: ulAttribute " + std::to_string(attribute_) +
                                             " is not an attribute this binding can set (SECPKG_ATTR_APP_DATA, EAP_PRF_INFO, EARLY_START)");
    }
    TakeContext(env, std::move(ctx), "SetContextAttributes");
  }

  void Execute() override {
    if (!ctx_->valid) {
      status_ = SEC_E_INVALID_HANDLE;
      return;
    }
    uint8_t* data = data_.empty() ? nullptr : data_.data();
    DWORD size = static_cast<DWORD>(data_.size());
    union {
      SecPkgContext_SessionAppData appData;
      SecPkgContext_EapPrfInfo eapPrfInfo;
      SecPkgContext_EarlyStart earlyStart;
    } u;
    std::memset(&u, 0, sizeof(u));
    unsigned long cb = 0;
    switch (attribute_) {
      case SECPKG_ATTR_APP_DATA: u.appData = {dwFlags_, size, data}; cb = sizeof(u.appData); break;
      case SECPKG_ATTR_EAP_PRF_INFO: u.eapPrfInfo = {dwFlags_, size, data}; cb = sizeof(u.eapPrfInfo); break;
      case SECPKG_ATTR_EARLY_START: u.earlyStart = {dwFlags_}; cb = sizeof(u.earlyStart); break;
    }
    status_ = SetContextAttributesW(&ctx_->handle, attribute_, &u, cb);
  }

  Napi::Value Result(Napi::Env env) override { return StatusResult(env, status_); }

 private:
  uint32_t attribute_ = 0;
  DWORD dwFlags_ = 0;
  std::vector<uint8_t> data_;
};

// A call on one CredHandle: counted as a use while it runs, so a free() waits for it.
class CredentialAttributeCall : public SspiCall {
 public:
  void Finish() override { ReleaseCredential(cred_); }

 protected:
  void TakeCredential(std::shared_ptr<CredState> cred) {
    cred->uses++;
    cred_ = std::move(cred);
  }
  std::shared_ptr<CredState> cred_;
  SECURITY_STATUS status_ = SEC_E_INTERNAL_ERROR;
};

// QueryCredentialsAttributes(phCredential, ulAttribute, async) -> { status, buffer? }
//   SECPKG_CRED_ATTR_NAMES       { sUserName }                   (SecPkgCredentials_NamesW)
//   SECPKG_ATTR_SUPPORTED_ALGS   { cSupportedAlgs, palgSupportedAlgs: ALG_ID[] }   (Schannel)
//   SECPKG_ATTR_CIPHER_STRENGTHS { dwMinimumCipherStrength, dwMaximumCipherStrength } (Schannel)
//   SECPKG_ATTR_SUPPORTED_PROTOCOLS { grbitProtocol }            (Schannel)
class QueryCredentialsCall : public CredentialAttributeCall {
 public:
  explicit QueryCredentialsCall(const Napi::CallbackInfo& info) {
    std::shared_ptr<CredState> cred = CredHandleWrap::From(info[0], "phCredential");
    attribute_ = ToUint32(info[1], "ulAttribute");
    switch (attribute_) {
      case SECPKG_CRED_ATTR_NAMES: case SECPKG_ATTR_SUPPORTED_ALGS: case SECPKG_ATTR_CIPHER_STRENGTHS:
      case SECPKG_ATTR_SUPPORTED_PROTOCOLS:
        break;
      default:
        throw Napi::RangeError::New(info.Env(), "QueryCredentialsAttributes: ulAttribute " + std::to_string(attribute_) +
                                                    " is not an attribute this binding marshals (SECPKG_CRED_ATTR_NAMES, "
                                                    "SECPKG_ATTR_SUPPORTED_ALGS, CIPHER_STRENGTHS, SUPPORTED_PROTOCOLS)");
    }
    TakeCredential(std::move(cred));
  }

  void Execute() override {
    union {
      SecPkgCredentials_NamesW names;
      SecPkgCred_SupportedAlgs algs;
      SecPkgCred_CipherStrengths strengths;
      SecPkgCred_SupportedProtocols protocols;
      uint8_t raw[64];
    } b;
    std::memset(&b, 0, sizeof(b));
    status_ = QueryCredentialsAttributesW(&cred_->handle, attribute_, &b);
    if (status_ != SEC_E_OK) return;
    switch (attribute_) {
      case SECPKG_CRED_ATTR_NAMES:
        TakeString(&value_, "sUserName", b.names.sUserName);
        break;
      case SECPKG_ATTR_SUPPORTED_ALGS: {
        std::vector<double> algs;
        for (DWORD i = 0; b.algs.palgSupportedAlgs != nullptr && i < b.algs.cSupportedAlgs; i++) {
          algs.push_back(b.algs.palgSupportedAlgs[i]);
        }
        value_.Number("cSupportedAlgs", b.algs.cSupportedAlgs);
        value_.NumberList("palgSupportedAlgs", std::move(algs));
        Free(b.algs.palgSupportedAlgs);
        break;
      }
      case SECPKG_ATTR_CIPHER_STRENGTHS:
        value_.Number("dwMinimumCipherStrength", b.strengths.dwMinimumCipherStrength);
        value_.Number("dwMaximumCipherStrength", b.strengths.dwMaximumCipherStrength);
        break;
      case SECPKG_ATTR_SUPPORTED_PROTOCOLS:
        value_.Number("grbitProtocol", b.protocols.grbitProtocol);
        break;
    }
  }

  Napi::Value Result(Napi::Env env) override { return QueryResult(env, status_, value_); }

 private:
  uint32_t attribute_ = 0;
  Fields value_;
};

// SetCredentialsAttributes(phCredential, ulAttribute, value, async) -> { status }
// The attributes SetCredentialsAttributesW documents
// (https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-setcredentialsattributesw):
//   SECPKG_CRED_ATTR_NAMES              { sUserName }                      (SecPkgCredentials_NamesW)
//   SECPKG_CRED_ATTR_KDC_PROXY_SETTINGS { Flags?, ProxyServer?, ClientTlsCred? } (Kerberos;
//       SecPkgCredentials_KdcProxySettingsW, Version KDC_PROXY_SETTINGS_V1, the strings after the
//       structure at the offsets it names, lengths in bytes)
//   SECPKG_ATTR_SUPPORTED_ALGS          { palgSupportedAlgs: number[] }    (Schannel)
//   SECPKG_ATTR_CIPHER_STRENGTHS        { dwMinimumCipherStrength, dwMaximumCipherStrength } (Schannel)
//   SECPKG_ATTR_SUPPORTED_PROTOCOLS     { grbitProtocol }                  (Schannel)
class SetCredentialsCall : public CredentialAttributeCall {
 public:
  explicit SetCredentialsCall(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::shared_ptr<CredState> cred = CredHandleWrap::From(info[0], "phCredential");
    attribute_ = ToUint32(info[1], "ulAttribute");
    switch (attribute_) {
      case SECPKG_CRED_ATTR_NAMES: {
        Napi::Object o = ValueObject(info[2], "value");
        name_ = ToWide(o.Get("sUserName"), "value.sUserName");
        break;
      }
      case SECPKG_CRED_ATTR_KDC_PROXY_SETTINGS: {
        Napi::Object o = ValueObject(info[2], "value");
        flags_ = FieldUint32(o, "Flags", "value", false);
        std::wstring proxy, tls;
        ToWideOptional(o.Get("ProxyServer"), "value.ProxyServer", &proxy);
        ToWideOptional(o.Get("ClientTlsCred"), "value.ClientTlsCred", &tls);
        size_t header = sizeof(SecPkgCredentials_KdcProxySettingsW);
        size_t proxyBytes = proxy.size() * sizeof(wchar_t), tlsBytes = tls.size() * sizeof(wchar_t);
        if (header + proxyBytes + tlsBytes > 0xFFFF) {
          throw Napi::RangeError::New(env, "value: the KDC proxy settings must fit in 65535 bytes (USHORT offsets)");
        }
        blob_.assign(header + proxyBytes + tlsBytes, 0);
        SecPkgCredentials_KdcProxySettingsW s{};
        s.Version = KDC_PROXY_SETTINGS_V1;
        s.Flags = flags_;
        if (!proxy.empty()) {
          s.ProxyServerOffset = static_cast<USHORT>(header);
          s.ProxyServerLength = static_cast<USHORT>(proxyBytes);
          std::memcpy(blob_.data() + header, proxy.data(), proxyBytes);
        }
        if (!tls.empty()) {
          s.ClientTlsCredOffset = static_cast<USHORT>(header + proxyBytes);
          s.ClientTlsCredLength = static_cast<USHORT>(tlsBytes);
          std::memcpy(blob_.data() + header + proxyBytes, tls.data(), tlsBytes);
        }
        std::memcpy(blob_.data(), &s, sizeof(s));
        break;
      }
      case SECPKG_ATTR_SUPPORTED_ALGS: {
        Napi::Object o = ValueObject(info[2], "value");
        Napi::Value list = o.Get("palgSupportedAlgs");
        if (!list.IsArray()) throw Napi::TypeError::New(env, "value.palgSupportedAlgs must be an array of ALG_ID numbers");
        Napi::Array a = list.As<Napi::Array>();
        for (uint32_t i = 0; i < a.Length(); i++) algs_.push_back(ToUint32(a.Get(i), "value.palgSupportedAlgs[i]"));
        break;
      }
      case SECPKG_ATTR_CIPHER_STRENGTHS: {
        Napi::Object o = ValueObject(info[2], "value");
        min_ = FieldUint32(o, "dwMinimumCipherStrength", "value", true);
        max_ = FieldUint32(o, "dwMaximumCipherStrength", "value", true);
        break;
      }
      case SECPKG_ATTR_SUPPORTED_PROTOCOLS: {
        Napi::Object o = ValueObject(info[2], "value");
        flags_ = FieldUint32(o, "grbitProtocol", "value", true);
        break;
      }
      default:
        throw Napi::RangeError::New(env, "SetCredentialsAttributes: ulAttribute " + std::to_string(attribute_) +
                                             " is not an attribute this binding can set (SECPKG_CRED_ATTR_NAMES, "
                                             "KDC_PROXY_SETTINGS, SECPKG_ATTR_SUPPORTED_ALGS, CIPHER_STRENGTHS, SUPPORTED_PROTOCOLS)");
    }
    TakeCredential(std::move(cred));
  }

  void Execute() override {
    // Looked up, not imported: Microsoft's secur32.dll exports it (forwarded to sspicli.dll), but
    // Wine's does not (dlls/secur32/secur32.spec has no SetCredentialsAttributesW), and a call through
    // an import Wine could not resolve aborts the whole process ("unimplemented function"). Without
    // the export the answer is the status SSPI uses for a function a provider lacks.
    using SetFn = SECURITY_STATUS(SEC_ENTRY*)(PCredHandle, unsigned long, void*, unsigned long);
    static const SetFn SetCredentialsAttributesW = reinterpret_cast<SetFn>(
        reinterpret_cast<void*>(GetProcAddress(GetModuleHandleW(L"secur32.dll"), "SetCredentialsAttributesW")));
    if (SetCredentialsAttributesW == nullptr) {
      status_ = SEC_E_UNSUPPORTED_FUNCTION;
      return;
    }
    union {
      SecPkgCredentials_NamesW names;
      SecPkgCred_SupportedAlgs algs;
      SecPkgCred_CipherStrengths strengths;
      SecPkgCred_SupportedProtocols protocols;
    } u;
    std::memset(&u, 0, sizeof(u));
    void* buffer = &u;
    unsigned long cb = 0;
    switch (attribute_) {
      case SECPKG_CRED_ATTR_NAMES: u.names = {&name_[0]}; cb = sizeof(u.names); break;
      case SECPKG_CRED_ATTR_KDC_PROXY_SETTINGS: buffer = blob_.data(); cb = static_cast<unsigned long>(blob_.size()); break;
      case SECPKG_ATTR_SUPPORTED_ALGS:
        u.algs = {static_cast<DWORD>(algs_.size()), algs_.empty() ? nullptr : algs_.data()};
        cb = sizeof(u.algs);
        break;
      case SECPKG_ATTR_CIPHER_STRENGTHS: u.strengths = {min_, max_}; cb = sizeof(u.strengths); break;
      case SECPKG_ATTR_SUPPORTED_PROTOCOLS: u.protocols = {flags_}; cb = sizeof(u.protocols); break;
    }
    status_ = SetCredentialsAttributesW(&cred_->handle, attribute_, buffer, cb);
  }

  Napi::Value Result(Napi::Env env) override { return StatusResult(env, status_); }

 private:
  uint32_t attribute_ = 0;
  std::wstring name_;
  std::vector<uint8_t> blob_;
  std::vector<ALG_ID> algs_;
  DWORD flags_ = 0, min_ = 0, max_ = 0;
};

Napi::Value QueryContext(const Napi::CallbackInfo& info) {
  bool async = info[2].ToBoolean();
  return Dispatch(info.Env(), new QueryContextCall(info), async);
}

Napi::Value SetContext(const Napi::CallbackInfo& info) {
  bool async = info[3].ToBoolean();
  return Dispatch(info.Env(), new SetContextCall(info), async);
}

Napi::Value QueryCredentials(const Napi::CallbackInfo& info) {
  bool async = info[2].ToBoolean();
  return Dispatch(info.Env(), new QueryCredentialsCall(info), async);
}

Napi::Value SetCredentials(const Napi::CallbackInfo& info) {
  bool async = info[3].ToBoolean();
  return Dispatch(info.Env(), new SetCredentialsCall(info), async);
}

}  // namespace

void InitAttributes(Napi::Env env, Napi::Object exports) {
  // Named as SSPI names them (without the W); lib/raw/attributes.ts gives them their types.
  exports.Set("QueryContextAttributes", Napi::Function::New<QueryContext>(env, "QueryContextAttributes"));
  exports.Set("SetContextAttributes", Napi::Function::New<SetContext>(env, "SetContextAttributes"));
  exports.Set("QueryCredentialsAttributes", Napi::Function::New<QueryCredentials>(env, "QueryCredentialsAttributes"));
  exports.Set("SetCredentialsAttributes", Napi::Function::New<SetCredentials>(env, "SetCredentialsAttributes"));
}

}  // namespace sspi
