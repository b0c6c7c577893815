// InitializeSecurityContextW, AcceptSecurityContext, CompleteAuthToken.
#include "common.h"

namespace sspi {

namespace {

// Shared by ISC and ASC: holds the handles' states for the duration of the call (so neither the garbage
// collector nor dispose() frees them while SSPI uses them: the credential counts the call as a use, the
// context is busy), the buffers, and the results.
//
// A first call creates the context in newHandle_; Finish() moves it into the CtxtHandle's state. A call
// destroyed without Finish() (its environment ended before the result could be delivered) deletes that
// new context itself, since no JavaScript object will ever own it.
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
      ctx_->busy = false;
      if (ctx_->deleteRequested) {
        ctx_->deleteRequested = false;
        if (ctx_->valid) ctx_->DeleteNow();
        ctx_->deleted = true;
      }
      ctx_.reset();
    }
    if (cred_) {
      if (--cred_->uses == 0 && cred_->freeRequested && cred_->valid) cred_->FreeNow();
      cred_.reset();
    }
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("status", StatusValue(env, status_));
    result.Set("contextAttr", Napi::Number::New(env, attr_));
    result.Set("expiry", TimeStampValue(env, expiry_));
    result.Set("output", output_.Collect(env, true));
    // Input buffers come back as type + size only: SECBUFFER_EXTRA and SECBUFFER_MISSING report
    // their counts there, even when the status is SEC_E_INCOMPLETE_MESSAGE.
    result.Set("input", input_.Collect(env, false));
    return result;
  }

 protected:
  // Takes the handles last, after every argument parsed, so a TypeError leaves nothing marked busy.
  void TakeHandles(Napi::Env env, const Napi::Value& cred, const Napi::Value& ctx, const char* fn, bool credRequired) {
    std::shared_ptr<CredState> c;
    if (credRequired || !(cred.IsNull() || cred.IsUndefined())) c = CredHandleWrap::From(cred, "credential");
    std::shared_ptr<CtxtState> x = CtxtHandleWrap::From(ctx, "context");
    CtxtHandleWrap::CheckUsable(env, *x, fn);
    if (c) {
      c->uses++;
      cred_ = std::move(c);
    }
    x->busy = true;
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
  PSecBufferDesc inputPtr() { return input_.empty() ? nullptr : input_.desc(); }

  std::shared_ptr<CredState> cred_;
  std::shared_ptr<CtxtState> ctx_;
  bool first_ = false;     // no context yet: this call creates one in newHandle_
  bool executed_ = false;  // the SSPI function ran
  bool adopted_ = false;   // newHandle_ moved into ctx_
  CtxtHandle newHandle_{};
  BufferDesc input_, output_;
  uint32_t req_ = 0, dataRep_ = 0;
  SECURITY_STATUS status_ = SEC_E_INTERNAL_ERROR;
  unsigned long attr_ = 0;
  TimeStamp expiry_{};
};

// initializeSecurityContext(credential: CredHandle|null, context: CtxtHandle, targetName: string|null,
//                           fContextReq, TargetDataRep, input: SecBuffer[]|null, output: OutputSpec[],
//                           async) -> { status, contextAttr, expiry, output, input }
class InitializeCall : public ContextCall {
 public:
  explicit InitializeCall(const Napi::CallbackInfo& info) {
    hasTarget_ = ToWideOptional(info[2], "targetName", &target_);
    req_ = ToUint32(info[3], "fContextReq");
    dataRep_ = ToUint32(info[4], "TargetDataRep");
    if (!info[5].IsNull() && !info[5].IsUndefined()) input_.ParseInput(info[5], "input");
    output_.ParseOutput(info[6], "output");
    TakeHandles(info.Env(), info[0], info[1], "InitializeSecurityContext", false);
  }

  void Execute() override {
    status_ = InitializeSecurityContextW(credPtr(), ctxIn(), hasTarget_ ? &target_[0] : nullptr, req_, 0, dataRep_,
                                         inputPtr(), 0, ctxOut(), output_.desc(), &attr_, &expiry_);
    Executed();
  }

 private:
  std::wstring target_;
  bool hasTarget_ = false;
};

// acceptSecurityContext(credential: CredHandle, context: CtxtHandle, input: SecBuffer[]|null,
//                       fContextReq, TargetDataRep, output: OutputSpec[], async)
//   -> { status, contextAttr, expiry, output, input }
class AcceptCall : public ContextCall {
 public:
  explicit AcceptCall(const Napi::CallbackInfo& info) {
    if (!info[2].IsNull() && !info[2].IsUndefined()) input_.ParseInput(info[2], "input");
    req_ = ToUint32(info[3], "fContextReq");
    dataRep_ = ToUint32(info[4], "TargetDataRep");
    output_.ParseOutput(info[5], "output");
    TakeHandles(info.Env(), info[0], info[1], "AcceptSecurityContext", true);
  }

  void Execute() override {
    status_ = AcceptSecurityContext(credPtr(), ctxIn(), inputPtr(), req_, dataRep_, ctxOut(), output_.desc(), &attr_,
                                    &expiry_);
    Executed();
  }
};

Napi::Value Initialize(const Napi::CallbackInfo& info) {
  bool async = info[7].ToBoolean();
  return Dispatch(info.Env(), new InitializeCall(info), async);
}

Napi::Value Accept(const Napi::CallbackInfo& info) {
  bool async = info[6].ToBoolean();
  return Dispatch(info.Env(), new AcceptCall(info), async);
}

// completeAuthToken(context: CtxtHandle, token: SecBuffer[]) -> status
// For SEC_I_COMPLETE_NEEDED / SEC_I_COMPLETE_AND_CONTINUE, with the output buffers just produced.
Napi::Value CompleteToken(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<CtxtState> ctx = CtxtHandleWrap::From(info[0], "context");
  BufferDesc token;
  token.ParseInput(info[1], "token");
  CtxtHandleWrap::CheckUsable(env, *ctx, "CompleteAuthToken");
  if (!ctx->valid) return StatusValue(env, SEC_E_INVALID_HANDLE);
  return StatusValue(env, CompleteAuthToken(&ctx->handle, token.desc()));
}

}  // namespace

void InitContexts(Napi::Env env, Napi::Object exports) {
  exports.Set("initializeSecurityContext", Napi::Function::New<Initialize>(env, "initializeSecurityContext"));
  exports.Set("acceptSecurityContext", Napi::Function::New<Accept>(env, "acceptSecurityContext"));
  exports.Set("completeAuthToken", Napi::Function::New<CompleteToken>(env, "completeAuthToken"));
}

}  // namespace sspi
