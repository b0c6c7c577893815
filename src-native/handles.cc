// CredHandle and CtxtHandle as native objects with finalizers.
//
// JavaScript only ever holds these objects, never the handle values, so a handle cannot be forged
// from a number or string. Each object carries a Node-API type tag, checked before it is unwrapped:
// wherever a handle is an argument (a CtxtHandle passed where a CredHandle is expected, or any other
// object), and on every method and accessor's receiver (`this`), since JavaScript can call a prototype
// member with any receiver (Object.getOwnPropertyDescriptor(CtxtHandle.prototype, 'valid').get
// .call(credHandle), CredHandle.prototype.free.call({}), on Object.create(CtxtHandle.prototype)).
#include "common.h"

#include <atomic>

namespace sspi {

namespace {

std::atomic<long> gCredHandles{0};
std::atomic<long> gCtxtHandles{0};
std::atomic<long long> gContextBuffersFreed{0};

// Random, fixed type tags (napi_type_tag_object) for the two handle classes.
const napi_type_tag kCredTag = {0x5a1c0e37d2b94f10ULL, 0x9b7e3c21a4d65f08ULL};
const napi_type_tag kCtxtTag = {0x7d3f91b2c6e04a5dULL, 0x81c2e6f4a9b3d170ULL};

// Only native code can pass this as the constructor's argument: JavaScript has no way to make an
// External, so `new CredHandle()` from JavaScript fails.
int kConstructToken = 0;

bool HasTag(const Napi::Value& value, const napi_type_tag* tag) {
  if (!value.IsObject()) return false;
  return value.As<Napi::Object>().CheckTypeTag(tag);
}

template <typename Wrap>
struct Tag;
template <>
struct Tag<CredHandleWrap> {
  static const napi_type_tag* value() { return &kCredTag; }
  static constexpr const char* kName = "CredHandle";
};
template <>
struct Tag<CtxtHandleWrap> {
  static const napi_type_tag* value() { return &kCtxtTag; }
  static constexpr const char* kName = "CtxtHandle";
};

// The prototype members' callbacks (the descriptor's data is the member's name, a string literal).
// node-addon-api's InstanceMethod / InstanceAccessor unwrap `this`
// unchecked (napi_unwrap returns whatever native object another class wrapped there); these check the
// receiver's type tag first and throw a TypeError for any other receiver.
template <typename Wrap, Napi::Value (Wrap::*Member)(const Napi::CallbackInfo&)>
napi_value Guarded(napi_env env, napi_callback_info cbinfo) {
  try {
    Napi::CallbackInfo info(env, cbinfo);
    Napi::Value self = info.This();
    if (!HasTag(self, Tag<Wrap>::value())) {
      const char* member = static_cast<const char*>(info.Data());
      throw Napi::TypeError::New(env, std::string(Tag<Wrap>::kName) + ".prototype." + member +
                                          " called on an object that is not a " + Tag<Wrap>::kName);
    }
    Wrap* wrap = Wrap::Unwrap(self.As<Napi::Object>());
    if (wrap == nullptr) throw Napi::TypeError::New(env, std::string(Tag<Wrap>::kName) + " object is not initialized");
    return (wrap->*Member)(info);
  } catch (const Napi::Error& e) {
    e.ThrowAsJavaScriptException();
    return nullptr;
  }
}

template <typename Wrap, Napi::Value (Wrap::*Member)(const Napi::CallbackInfo&)>
Napi::ClassPropertyDescriptor<Wrap> Method(const char* name) {
  return napi_property_descriptor{name,    nullptr, &Guarded<Wrap, Member>, nullptr, nullptr, nullptr, napi_default,
                                  const_cast<char*>(name)};
}

template <typename Wrap, Napi::Value (Wrap::*Get)(const Napi::CallbackInfo&)>
Napi::ClassPropertyDescriptor<Wrap> Getter(const char* name) {
  return napi_property_descriptor{name,    nullptr, nullptr, &Guarded<Wrap, Get>, nullptr, nullptr, napi_default,
                                  const_cast<char*>(name)};
}

}  // namespace

// ---------------------------------------------------------------- states

void CountHandle(HandleKind kind, int delta) {
  (kind == HandleKind::kCredentials ? gCredHandles : gCtxtHandles) += delta;
}

void FreePackageBufferNow(void* p) {
  FreeContextBuffer(p);
  gContextBuffersFreed++;
}

// handleFigures() -> { credentials, contexts, contextBuffersFreed }: SSPI handles the addon holds now,
// process-wide, and how many package-allocated buffers it has released with FreeContextBuffer so far.
Napi::Value HandleFigures(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("credentials", Napi::Number::New(info.Env(), static_cast<double>(gCredHandles.load())));
  o.Set("contexts", Napi::Number::New(info.Env(), static_cast<double>(gCtxtHandles.load())));
  o.Set("contextBuffersFreed", Napi::Number::New(info.Env(), static_cast<double>(gContextBuffersFreed.load())));
  return o;
}

SECURITY_STATUS CredState::FreeNow() {
  valid = false;
  CountHandle(HandleKind::kCredentials, -1);
  SECURITY_STATUS status = FreeCredentialsHandle(&handle);
  SecInvalidateHandle(&handle);
  return status;
}

void CredState::EndUse() {
  if (--uses == 0 && freeRequested && valid) FreeNow();
}

CredState::~CredState() {
  if (valid) FreeNow();
}

SECURITY_STATUS CtxtState::DeleteNow() {
  valid = false;
  CountHandle(HandleKind::kContext, -1);
  deleted = true;
  SECURITY_STATUS status = DeleteSecurityContext(&handle);
  SecInvalidateHandle(&handle);
  return status;
}

void CtxtState::EndCall() {
  busy = false;
  if (deleteRequested) {
    deleteRequested = false;
    if (valid) DeleteNow();
    deleted = true;
  }
}

CtxtState::~CtxtState() {
  if (valid) DeleteNow();
}

// ---------------------------------------------------------------- CredHandle

Napi::Function CredHandleWrap::Define(Napi::Env env) {
  return DefineClass(env, "CredHandle",
                     {
                         Method<CredHandleWrap, &CredHandleWrap::Free>("free"),
                         Getter<CredHandleWrap, &CredHandleWrap::GetValid>("valid"),
                     });
}

Napi::Object CredHandleWrap::New(Napi::Env env, const CredHandle& handle) {
  AddonData* data = env.GetInstanceData<AddonData>();
  Napi::Object obj = data->credHandleCtor.New({Napi::External<int>::New(env, &kConstructToken)});
  CredHandleWrap* wrap = Unwrap(obj);
  if (wrap == nullptr) throw Napi::Error::New(env, "CredHandle could not be created");
  wrap->state_->handle = handle;
  wrap->state_->valid = true;
  return obj;
}

std::shared_ptr<CredState> CredHandleWrap::From(const Napi::Value& value, const char* what) {
  if (!HasTag(value, &kCredTag)) {
    throw Napi::TypeError::New(value.Env(), std::string(what) + " must be a CredHandle");
  }
  CredHandleWrap* wrap = Unwrap(value.As<Napi::Object>());
  if (wrap == nullptr) throw Napi::TypeError::New(value.Env(), std::string(what) + " must be a CredHandle");
  if (!wrap->state_->valid || wrap->state_->freeRequested) {
    throw Napi::Error::New(value.Env(), std::string(what) + " has been freed (FreeCredentialsHandle)");
  }
  return wrap->state_;
}

CredHandleWrap::CredHandleWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CredHandleWrap>(info) {
  if (info.Length() != 1 || !info[0].IsExternal() || info[0].As<Napi::External<int>>().Data() != &kConstructToken) {
    throw Napi::TypeError::New(info.Env(), "CredHandle cannot be constructed; use AcquireCredentialsHandle");
  }
  SecInvalidateHandle(&state_->handle);
  info.This().As<Napi::Object>().TypeTag(&kCredTag);
}

// free() -> SECURITY_STATUS of FreeCredentialsHandle, or SEC_E_OK (0) when the handle was already
// freed (idempotent). While asynchronous calls use the handle, the free is deferred until the
// last of them ends, and free() returns undefined.
Napi::Value CredHandleWrap::Free(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CredState& s = *state_;
  if (!s.valid || s.freeRequested) return StatusValue(env, SEC_E_OK);
  if (s.uses > 0) {
    s.freeRequested = true;
    return env.Undefined();
  }
  return StatusValue(env, s.FreeNow());
}

Napi::Value CredHandleWrap::GetValid(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), state_->valid && !state_->freeRequested);
}

// ---------------------------------------------------------------- CtxtHandle

Napi::Function CtxtHandleWrap::Define(Napi::Env env) {
  return DefineClass(env, "CtxtHandle",
                     {
                         Method<CtxtHandleWrap, &CtxtHandleWrap::Delete>("delete"),
                         Getter<CtxtHandleWrap, &CtxtHandleWrap::GetValid>("valid"),
                     });
}

std::shared_ptr<CtxtState> CtxtHandleWrap::From(const Napi::Value& value, const char* what) {
  if (!HasTag(value, &kCtxtTag)) {
    throw Napi::TypeError::New(value.Env(), std::string(what) + " must be a CtxtHandle");
  }
  CtxtHandleWrap* wrap = Unwrap(value.As<Napi::Object>());
  if (wrap == nullptr) throw Napi::TypeError::New(value.Env(), std::string(what) + " must be a CtxtHandle");
  return wrap->state_;
}

CtxtHandleWrap::CtxtHandleWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CtxtHandleWrap>(info) {
  if (info.Length() != 0) {
    throw Napi::TypeError::New(info.Env(), "CtxtHandle takes no arguments; InitializeSecurityContext or AcceptSecurityContext fills it");
  }
  SecInvalidateHandle(&state_->handle);
  info.This().As<Napi::Object>().TypeTag(&kCtxtTag);
}

void CtxtHandleWrap::CheckUsable(Napi::Env env, const CtxtState& s, const char* fn) {
  if (s.deleted || s.deleteRequested) {
    throw Napi::Error::New(env, std::string(fn) + ": the CtxtHandle has been deleted (DeleteSecurityContext)");
  }
  if (s.busy) {
    throw Napi::Error::New(env, std::string(fn) + ": the CtxtHandle is in use by a pending asynchronous call; SSPI contexts take one call at a time");
  }
}

void CtxtHandleWrap::BeginCall(Napi::Env env, CtxtState& s, const char* fn) {
  CheckUsable(env, s, fn);
  s.busy = true;
}

// delete() -> status of DeleteSecurityContext; SEC_E_OK (0) if there was nothing to delete (never
// filled, or already deleted). During a pending asynchronous call the delete is deferred to its end
// and undefined is returned.
Napi::Value CtxtHandleWrap::Delete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CtxtState& s = *state_;
  if (s.deleted || s.deleteRequested) return StatusValue(env, SEC_E_OK);
  if (s.busy) {
    s.deleteRequested = true;
    return env.Undefined();
  }
  if (!s.valid) {
    s.deleted = true;
    return StatusValue(env, SEC_E_OK);
  }
  return StatusValue(env, s.DeleteNow());
}

Napi::Value CtxtHandleWrap::GetValid(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), state_->valid && !state_->deleteRequested);
}

void InitHandles(Napi::Env env, Napi::Object exports) {
  exports.Set("handleFigures", Napi::Function::New<HandleFigures>(env, "handleFigures"));
}

}  // namespace sspi
