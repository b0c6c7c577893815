// Message protection on an established context: MakeSignature, VerifySignature, EncryptMessage,
// DecryptMessage. Each takes one SecBufferDesc (pMessage) that the package reads and writes in place
// (BufferDesc, buffers.cc): the signature or trailer into a SECBUFFER_TOKEN, ciphertext over the
// SECBUFFER_DATA bytes, and, for stream-mode unwrap, a SECBUFFER_DATA pointing into the SECBUFFER_STREAM
// buffer (reported back as `at: [j, offset]`). None of these calls lets the package allocate memory.
#include "common.h"

#include <ntsecapi.h>  // KERB_WRAP_NO_ENCRYPT

namespace sspi {

// The facade's SECQOP_WRAP_NO_ENCRYPT serves Kerberos too: ntsecapi.h defines the same bit.
static_assert(KERB_WRAP_NO_ENCRYPT == SECQOP_WRAP_NO_ENCRYPT, "KERB_WRAP_NO_ENCRYPT != SECQOP_WRAP_NO_ENCRYPT");

namespace {

// One message call on a context. The constructor parses every argument first and takes the context
// last (busy: SSPI contexts take one call at a time, and a pending call keeps the handle alive);
// Finish() releases it and runs a DeleteSecurityContext requested meanwhile. A CtxtHandle no
// ISC/ASC/import has filled holds no SSPI handle: SEC_E_INVALID_HANDLE without calling the package.
class MessageCall : public SspiCall {
 public:
  enum class Kind { kMakeSignature, kVerifySignature, kEncryptMessage, kDecryptMessage };

  MessageCall(const Napi::CallbackInfo& info, Kind kind, size_t asyncArg) : kind_(kind) {
    Napi::Env env = info.Env();
    // Argument order as SSPI's: (phContext, fQOP, pMessage, MessageSeqNo) for MakeSignature and
    // EncryptMessage, (phContext, pMessage, MessageSeqNo) for VerifySignature and DecryptMessage.
    bool hasQop = kind == Kind::kMakeSignature || kind == Kind::kEncryptMessage;
    size_t m = hasQop ? 2 : 1;
    if (hasQop) qop_ = ToUint32(info[1], "fQOP");
    message_.Parse(info[m], "pMessage", false, ModeOf(info[asyncArg]));
    if (!message_.present()) throw Napi::TypeError::New(env, "pMessage must be an array of SecBuffers");
    seqNo_ = ToUint32(info[m + 1], "MessageSeqNo");
    message_.Bind(env);
    std::shared_ptr<CtxtState> ctx = CtxtHandleWrap::From(info[0], "phContext");
    CtxtHandleWrap::BeginCall(env, *ctx, Name());
    ctx_ = std::move(ctx);
  }

  const char* Name() const {
    switch (kind_) {
      case Kind::kMakeSignature: return "MakeSignature";
      case Kind::kVerifySignature: return "VerifySignature";
      case Kind::kEncryptMessage: return "EncryptMessage";
      default: return "DecryptMessage";
    }
  }

  void Execute() override {
    if (!ctx_->valid) {
      status_ = SEC_E_INVALID_HANDLE;
      return;
    }
    PCtxtHandle h = &ctx_->handle;
    switch (kind_) {
      case Kind::kMakeSignature: status_ = MakeSignature(h, qop_, message_.desc(), seqNo_); break;
      case Kind::kVerifySignature: status_ = VerifySignature(h, message_.desc(), seqNo_, &qopOut_); break;
      case Kind::kEncryptMessage: status_ = EncryptMessage(h, qop_, message_.desc(), seqNo_); break;
      case Kind::kDecryptMessage: status_ = DecryptMessage(h, message_.desc(), seqNo_, &qopOut_); break;
    }
  }

  // { status, qop? (pfQOP of VerifySignature / DecryptMessage), buffers }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("status", StatusValue(env, status_));
    if (kind_ == Kind::kVerifySignature || kind_ == Kind::kDecryptMessage) {
      result.Set("qop", Napi::Number::New(env, static_cast<double>(qopOut_)));
    }
    result.Set("buffers", message_.Collect(env));
    return result;
  }

  void Finish() override {
    if (!ctx_) return;
    ctx_->EndCall();
    ctx_.reset();
  }

 private:
  Kind kind_;
  std::shared_ptr<CtxtState> ctx_;
  BufferDesc message_;
  unsigned long qop_ = 0;
  unsigned long qopOut_ = 0;
  unsigned long seqNo_ = 0;
  SECURITY_STATUS status_ = SEC_E_INTERNAL_ERROR;
};

template <MessageCall::Kind K, size_t AsyncArg>
Napi::Value Run(const Napi::CallbackInfo& info) {
  return Dispatch(info.Env(), new MessageCall(info, K, AsyncArg), info[AsyncArg].ToBoolean());
}

}  // namespace

// makeSignature(phContext, fQOP, pMessage, MessageSeqNo, async) -> { status, buffers }
// verifySignature(phContext, pMessage, MessageSeqNo, async) -> { status, qop, buffers }
// encryptMessage(phContext, fQOP, pMessage, MessageSeqNo, async) -> { status, buffers }
// decryptMessage(phContext, pMessage, MessageSeqNo, async) -> { status, qop, buffers }
void InitMessage(Napi::Env env, Napi::Object exports) {
  using K = MessageCall::Kind;
  exports.Set("makeSignature", Napi::Function::New<Run<K::kMakeSignature, 4>>(env, "makeSignature"));
  exports.Set("verifySignature", Napi::Function::New<Run<K::kVerifySignature, 3>>(env, "verifySignature"));
  exports.Set("encryptMessage", Napi::Function::New<Run<K::kEncryptMessage, 4>>(env, "encryptMessage"));
  exports.Set("decryptMessage", Napi::Function::New<Run<K::kDecryptMessage, 3>>(env, "decryptMessage"));
}

}  // namespace sspi
