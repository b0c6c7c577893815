// InitializeSecurityContextW, AcceptSecurityContext, CompleteAuthToken, ApplyControlToken,
// ExportSecurityContext, ImportSecurityContextW (QueryContextAttributesW: attributes.cc).
#include "common.h"

namespace sspi {

namespace {

// Shared by every call on a context: holds the handles' states for the duration of the call (so neither
// the garbage collector nor dispose() frees them while SSPI uses them: the credential counts the call as
// a use, the context is busy) and releases them in Finish().
//
// A call that creates a context (a first ISC/ASC, ImportSecurityContext) creates it in newHandle_;
// Finish() moves it into the CtxtHandle's state. A call destroyed without Finish() (its environment
// ended before the result could be delivered) deletes that new context itself, since no JavaScript
// object will ever own it.
class ContextCall : public SspiCall {
 public:
  ~ContextCall() override {
    if (executed_ && first_ && !FAILED(status_) && !adopted_) {
      DeleteSecurityContext(&newHandle_);
      CountHandle(HandleKind::kContext, -1);
    }
  }

  void Finish() override {
    if (ctx_) {
      if (executed_ && first_ && !FAILED(status_)) {
        ctx_->handle = newHandle_;
        ctx_->valid = true;
        adopted_ = true;
      }
      ctx_->EndCall();
      ctx_.reset();
    }
    if (cred_) {
      cred_->EndUse();
      cred_.reset();
    }
  }

 protected:
  // Takes the handles last, after every argument parsed, so a TypeError leaves nothing marked busy.
  // `creates`: the call may create the context (first ISC/ASC, import); otherwise it needs one.
  void TakeHandles(Napi::Env env, const Napi::Value& cred, const Napi::Value& ctx, const char* fn, bool credRequired) {
    std::shared_ptr<CredState> c;
    if (credRequired || !(cred.IsNull() || cred.IsUndefined())) c = CredHandleWrap::From(cred, "phCredential");
    std::shared_ptr<CtxtState> x = CtxtHandleWrap::From(ctx, "phContext");
    CtxtHandleWrap::BeginCall(env, *x, fn);
    if (c) {
      c->uses++;
      cred_ = std::move(c);
    }
    first_ = !x->valid;
    ctx_ = std::move(x);
    SecInvalidateHandle(&newHandle_);
  }

  void Executed() {
    executed_ = true;
    if (first_ && !FAILED(status_)) CountHandle(HandleKind::kContext, +1);
  }

  PCredHandle credPtr() { return cred_ ? &cred_->handle : nullptr; }
  PCtxtHandle ctxIn() { return first_ ? nullptr : &ctx_->handle; }
  PCtxtHandle ctxOut() { return first_ ? &newHandle_ : &ctx_->handle; }

  std::shared_ptr<CredState> cred_;
  std::shared_ptr<CtxtState> ctx_;
  bool first_ = false;     // no context yet: this call creates one in newHandle_
  bool executed_ = false;  // the SSPI function ran
  bool adopted_ = false;   // newHandle_ moved into ctx_
  CtxtHandle newHandle_{};
  SECURITY_STATUS status_ = SEC_E_INTERNAL_ERROR;
};

// ISC and ASC: pInput and pOutput SecBufferDescs, pfContextAttr, ptsExpiry.
class HandshakeCall : public ContextCall {
 public:
  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("status", StatusValue(env, status_));
    result.Set("contextAttr", Napi::Number::New(env, attr_));
    result.Set("expiry", TimeStampValue(env, expiry_));
    // Input buffers come back too: SECBUFFER_EXTRA and SECBUFFER_MISSING report their counts there,
    // also with SEC_E_INCOMPLETE_MESSAGE; output buffers also after a failure (KRB-ERROR, alerts).
    result.Set("input", input_.Collect(env));
    result.Set("output", output_.Collect(env, 1));
    return result;
  }

 protected:
  BufferDesc input_, output_;
  uint32_t req_ = 0, dataRep_ = 0;
  unsigned long attr_ = 0;
  TimeStamp expiry_{};
};

// ISC_REQ_ALLOCATE_MEMORY and ASC_REQ_ALLOCATE_MEMORY are the same bit.
static_assert(ISC_REQ_ALLOCATE_MEMORY == ASC_REQ_ALLOCATE_MEMORY, "ALLOCATE_MEMORY bits differ");

// initializeSecurityContext(phCredential: CredHandle|null, phContext: CtxtHandle, pszTargetName: string|null,
//                           fContextReq, TargetDataRep, pInput: SecBuffer[]|null, pOutput: SecBuffer[]|null,
//                           async) -> { status, contextAttr, expiry, input, output }
class InitializeCall : public HandshakeCall {
 public:
  explicit InitializeCall(const Napi::CallbackInfo& info) {
    hasTarget_ = ToWideOptional(info[2], "pszTargetName", &target_);
    req_ = ToUint32(info[3], "fContextReq");
    dataRep_ = ToUint32(info[4], "TargetDataRep");
    BufferDesc::Mode mode = ModeOf(info[7]);
    input_.Parse(info[5], "pInput", false, mode);
    output_.Parse(info[6], "pOutput", (req_ & ISC_REQ_ALLOCATE_MEMORY) != 0, mode);
    input_.Bind(info.Env());
    output_.Bind(info.Env());
    TakeHandles(info.Env(), info[0], info[1], "InitializeSecurityContext", false);
  }

  void Execute() override {
    status_ = InitializeSecurityContextW(credPtr(), ctxIn(), hasTarget_ ? &target_[0] : nullptr, req_, 0, dataRep_,
                                         input_.desc(), 0, ctxOut(), output_.desc(), &attr_, &expiry_);
    Executed();
  }

 private:
  std::wstring target_;
  bool hasTarget_ = false;
};

// acceptSecurityContext(phCredential: CredHandle, phContext: CtxtHandle, pInput: SecBuffer[]|null,
//                       fContextReq, TargetDataRep, pOutput: SecBuffer[]|null, async)
//   -> { status, contextAttr, expiry, input, output }
class AcceptCall : public HandshakeCall {
 public:
  explicit AcceptCall(const Napi::CallbackInfo& info) {
    BufferDesc::Mode mode = ModeOf(info[6]);
    input_.Parse(info[2], "pInput", false, mode);
    req_ = ToUint32(info[3], "fContextReq");
    dataRep_ = ToUint32(info[4], "TargetDataRep");
    output_.Parse(info[5], "pOutput", (req_ & ASC_REQ_ALLOCATE_MEMORY) != 0, mode);
    input_.Bind(info.Env());
    output_.Bind(info.Env());
    TakeHandles(info.Env(), info[0], info[1], "AcceptSecurityContext", true);
  }

  void Execute() override {
    status_ = AcceptSecurityContext(credPtr(), ctxIn(), input_.desc(), req_, dataRep_, ctxOut(), output_.desc(), &attr_,
                                    &expiry_);
    Executed();
  }
};

// A call on an established context with one SecBufferDesc, modified in place: CompleteAuthToken (pToken)
// and ApplyControlToken (pInput). A context no ISC/ASC created yet holds no handle: SEC_E_INVALID_HANDLE
// without calling SSPI (its placeholder handle must not reach a package).
class BuffersCall : public ContextCall {
 public:
  using Fn = SECURITY_STATUS(SEC_ENTRY*)(PCtxtHandle, PSecBufferDesc);

  BuffersCall(const Napi::CallbackInfo& info, Fn fn, const char* name, const char* what) : fn_(fn) {
    buffers_.Parse(info[1], what, false, ModeOf(info[2]));
    if (!buffers_.present()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be an array of SecBuffers");
    buffers_.Bind(info.Env());
    TakeHandles(info.Env(), info.Env().Null(), info[0], name, false);
  }

  void Execute() override {
    status_ = first_ ? SEC_E_INVALID_HANDLE : fn_(&ctx_->handle, buffers_.desc());
    first_ = false;  // creates nothing
    executed_ = true;
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("status", StatusValue(env, status_));
    result.Set("buffers", buffers_.Collect(env));
    return result;
  }

 private:
  Fn fn_;
  BufferDesc buffers_;
};

// exportSecurityContext(phContext, fFlags, async) -> { status, packedContext?: Buffer }
// The packed context holds the context's keys: the package's buffer is copied, wiped and freed with
// FreeContextBuffer; the token handle (pToken) is not asked for (NULL).
class ExportCall : public ContextCall {
 public:
  explicit ExportCall(const Napi::CallbackInfo& info) {
    flags_ = ToUint32(info[1], "fFlags");
    TakeHandles(info.Env(), info.Env().Null(), info[0], "ExportSecurityContext", false);
  }

  ~ExportCall() override { Release(); }

  void Execute() override {
    packed_.BufferType = SECBUFFER_EMPTY;
    status_ = first_ ? SEC_E_INVALID_HANDLE : ExportSecurityContext(&ctx_->handle, flags_, &packed_, nullptr);
    first_ = false;
    executed_ = true;
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("status", StatusValue(env, status_));
    if (status_ == SEC_E_OK && packed_.pvBuffer != nullptr) {
      result.Set("packedContext",
                 Napi::Buffer<uint8_t>::Copy(env, static_cast<const uint8_t*>(packed_.pvBuffer), packed_.cbBuffer));
    }
    Release();
    return result;
  }

 private:
  void Release() {
    if (packed_.pvBuffer == nullptr) return;
    SecureZeroMemory(packed_.pvBuffer, packed_.cbBuffer);
    FreePackageBuffer(packed_.pvBuffer);
  }

  uint32_t flags_ = 0;
  SecBuffer packed_{};
};

// importSecurityContext(pszPackage: string, pPackedContext: Uint8Array, phContext: CtxtHandle (empty), async)
//   -> { status }; on SEC_E_OK phContext holds the imported context. The token handle is not passed (NULL).
class ImportCall : public ContextCall {
 public:
  explicit ImportCall(const Napi::CallbackInfo& info) {
    package_ = ToWide(info[0], "pszPackage");
    Napi::Value v = info[1];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      throw Napi::TypeError::New(info.Env(), "pPackedContext must be a Buffer or Uint8Array");
    }
    Napi::Uint8Array a = v.As<Napi::Uint8Array>();
    packed_.assign(a.Data(), a.Data() + a.ByteLength());
    TakeHandles(info.Env(), info.Env().Null(), info[2], "ImportSecurityContext", false);
    if (!first_) {
      Finish();
      throw Napi::Error::New(info.Env(), "ImportSecurityContext: phContext must be a new, empty CtxtHandle");
    }
  }

  ~ImportCall() override {
    if (!packed_.empty()) SecureZeroMemory(packed_.data(), packed_.size());
  }

  void Execute() override {
    SecBuffer buf{static_cast<unsigned long>(packed_.size()), SECBUFFER_EMPTY, packed_.empty() ? nullptr : packed_.data()};
    status_ = ImportSecurityContextW(&package_[0], &buf, nullptr, &newHandle_);
    Executed();
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("status", StatusValue(env, status_));
    return result;
  }

 private:
  std::wstring package_;
  std::vector<uint8_t> packed_;
};

Napi::Value Initialize(const Napi::CallbackInfo& info) {
  return Dispatch(info.Env(), new InitializeCall(info), info[7].ToBoolean());
}

Napi::Value Accept(const Napi::CallbackInfo& info) {
  return Dispatch(info.Env(), new AcceptCall(info), info[6].ToBoolean());
}

// completeAuthToken(phContext, pToken: SecBuffer[], async) -> { status, buffers }
// For SEC_I_COMPLETE_NEEDED / SEC_I_COMPLETE_AND_CONTINUE: pToken is the output SecBufferDesc the
// ISC/ASC call just filled; the package completes those buffers in place.
Napi::Value CompleteToken(const Napi::CallbackInfo& info) {
  return Dispatch(info.Env(), new BuffersCall(info, &CompleteAuthToken, "CompleteAuthToken", "pToken"),
                  info[2].ToBoolean());
}

// applyControlToken(phContext, pInput: SecBuffer[], async) -> { status, buffers }
Napi::Value ApplyControl(const Napi::CallbackInfo& info) {
  return Dispatch(info.Env(), new BuffersCall(info, &ApplyControlToken, "ApplyControlToken", "pInput"),
                  info[2].ToBoolean());
}

Napi::Value Export(const Napi::CallbackInfo& info) {
  return Dispatch(info.Env(), new ExportCall(info), info[2].ToBoolean());
}

Napi::Value Import(const Napi::CallbackInfo& info) {
  return Dispatch(info.Env(), new ImportCall(info), info[3].ToBoolean());
}

}  // namespace

void InitContexts(Napi::Env env, Napi::Object exports) {
  exports.Set("initializeSecurityContext", Napi::Function::New<Initialize>(env, "initializeSecurityContext"));
  exports.Set("acceptSecurityContext", Napi::Function::New<Accept>(env, "acceptSecurityContext"));
  exports.Set("completeAuthToken", Napi::Function::New<CompleteToken>(env, "completeAuthToken"));
  exports.Set("applyControlToken", Napi::Function::New<ApplyControl>(env, "applyControlToken"));
  exports.Set("exportSecurityContext", Napi::Function::New<Export>(env, "exportSecurityContext"));
  exports.Set("importSecurityContext", Napi::Function::New<Import>(env, "importSecurityContext"));
}

}  // namespace sspi
