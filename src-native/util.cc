// String conversions, argument checks and the sync/async dispatcher.
#include "common.h"

#include <memory>

namespace sspi {

std::wstring ToWide(const Napi::Value& value, const char* what) {
  if (!value.IsString()) {
    throw Napi::TypeError::New(value.Env(), std::string(what) + " must be a string");
  }
  std::u16string u16 = value.As<Napi::String>().Utf16Value();
  for (char16_t c : u16) {
    if (c == 0) throw Napi::TypeError::New(value.Env(), std::string(what) + " must not contain NUL characters");
  }
  return std::wstring(u16.begin(), u16.end());
}

bool ToWideOptional(const Napi::Value& value, const char* what, std::wstring* out) {
  if (value.IsUndefined() || value.IsNull()) return false;
  *out = ToWide(value, what);
  return true;
}

Napi::String FromWide(Napi::Env env, const wchar_t* s) {
  if (s == nullptr) return Napi::String::New(env, u"");
  return Napi::String::New(env, reinterpret_cast<const char16_t*>(s));
}

Napi::String FromWide(Napi::Env env, const wchar_t* s, size_t chars) {
  if (s == nullptr) return Napi::String::New(env, u"");
  return Napi::String::New(env, reinterpret_cast<const char16_t*>(s), chars);
}

void WipeSecret(std::wstring* s) {
  if (!s->empty()) SecureZeroMemory(&(*s)[0], s->size() * sizeof(wchar_t));
  s->clear();
}

uint32_t ToUint32(const Napi::Value& value, const char* what) {
  if (!value.IsNumber()) {
    throw Napi::TypeError::New(value.Env(), std::string(what) + " must be a number");
  }
  double d = value.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 4294967295.0) || d != static_cast<double>(static_cast<uint64_t>(d))) {
    throw Napi::RangeError::New(value.Env(), std::string(what) + " must be an integer from 0 to 0xFFFFFFFF");
  }
  return static_cast<uint32_t>(d);
}

Napi::Value PackageInfoValue(Napi::Env env, const SecPkgInfoW* p) {
  if (p == nullptr) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  o.Set("fCapabilities", Napi::Number::New(env, p->fCapabilities));
  o.Set("wVersion", Napi::Number::New(env, p->wVersion));
  o.Set("wRPCID", Napi::Number::New(env, p->wRPCID));
  o.Set("cbMaxToken", Napi::Number::New(env, p->cbMaxToken));
  o.Set("Name", FromWide(env, p->Name));
  o.Set("Comment", FromWide(env, p->Comment));
  return o;
}

namespace {

// Runs an SspiCall on the thread pool. The call object keeps the handles it uses referenced (and
// counted as in use) until Finish(), so neither garbage collection nor dispose() frees them while
// the SSPI function runs.
class CallWorker : public Napi::AsyncWorker {
 public:
  CallWorker(Napi::Env env, SspiCall* call)
      : Napi::AsyncWorker(env, "sspi"), call_(call), deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override { call_->Execute(); }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    try {
      Napi::Value result = call_->Result(env);
      call_->Finish();
      deferred_.Resolve(result);
    } catch (const Napi::Error& e) {
      call_->Finish();
      deferred_.Reject(e.Value());
    }
  }

  void OnError(const Napi::Error& e) override {
    call_->Finish();
    deferred_.Reject(e.Value());
  }

 private:
  std::unique_ptr<SspiCall> call_;
  Napi::Promise::Deferred deferred_;
};

}  // namespace

Napi::Value Dispatch(Napi::Env env, SspiCall* call, bool async) {
  if (async) {
    auto* worker = new CallWorker(env, call);  // deleted by node-addon-api after OnOK/OnError
    Napi::Promise promise = worker->Promise();
    worker->Queue();
    return promise;
  }
  std::unique_ptr<SspiCall> owned(call);
  try {
    owned->Execute();
    Napi::Value result = owned->Result(env);
    owned->Finish();
    return result;
  } catch (...) {
    owned->Finish();
    throw;
  }
}

}  // namespace sspi
