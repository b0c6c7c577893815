// CredHandle and CtxtHandle as native objects with finalizers.
//
// JavaScript only ever holds these objects, never the handle values, so a handle cannot be forged
// from a number or string. Each object carries a Node-API type tag: a CtxtHandle passed where a
// CredHandle is expected (or any other object) is rejected before it is unwrapped.
#include "common.h"

namespace sspi {

namespace {

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

}  // namespace

// ---------------------------------------------------------------- CredHandle

Napi::Function CredHandleWrap::Define(Napi::Env env) {
  return DefineClass(env, "CredHandle",
                     {
                         InstanceMethod<&CredHandleWrap::Free>("free"),
                         InstanceAccessor<&CredHandleWrap::GetValid>("valid"),
                     });
}

Napi::Object CredHandleWrap::New(Napi::Env env, const CredHandle& handle) {
  AddonData* data = env.GetInstanceData<AddonData>();
  Napi::Object obj = data->credHandleCtor.New({Napi::External<int>::New(env, &kConstructToken)});
  CredHandleWrap* wrap = Unwrap(obj);
  wrap->handle_ = handle;
  wrap->valid_ = true;
  return obj;
}

CredHandleWrap* CredHandleWrap::From(const Napi::Value& value, const char* what) {
  if (!HasTag(value, &kCredTag)) {
    throw Napi::TypeError::New(value.Env(), std::string(what) + " must be a CredHandle");
  }
  CredHandleWrap* wrap = Unwrap(value.As<Napi::Object>());
  if (!wrap->valid_ || wrap->freeRequested_) {
    throw Napi::Error::New(value.Env(), std::string(what) + " has been freed (FreeCredentialsHandle)");
  }
  return wrap;
}

CredHandleWrap::CredHandleWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CredHandleWrap>(info) {
  if (info.Length() != 1 || !info[0].IsExternal() || info[0].As<Napi::External<int>>().Data() != &kConstructToken) {
    throw Napi::TypeError::New(info.Env(), "CredHandle cannot be constructed; use AcquireCredentialsHandle");
  }
  SecInvalidateHandle(&handle_);
  info.This().As<Napi::Object>().TypeTag(&kCredTag);
}

CredHandleWrap::~CredHandleWrap() {
  // Finalizer: the object is unreachable, so no asynchronous call can be using it (calls hold a
  // reference). Free what dispose() did not.
  if (valid_) FreeNow();
}

SECURITY_STATUS CredHandleWrap::FreeNow() {
  valid_ = false;
  SECURITY_STATUS status = FreeCredentialsHandle(&handle_);
  SecInvalidateHandle(&handle_);
  return status;
}

void CredHandleWrap::ReleaseUse() {
  if (--uses_ == 0 && freeRequested_ && valid_) FreeNow();
}

// free() -> SECURITY_STATUS of FreeCredentialsHandle, or SEC_E_OK (0) when the handle was already
// freed (idempotent). While asynchronous calls use the handle, the free is deferred until the
// last of them ends, and free() returns undefined.
Napi::Value CredHandleWrap::Free(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!valid_ || freeRequested_) return StatusValue(env, SEC_E_OK);
  if (uses_ > 0) {
    freeRequested_ = true;
    return env.Undefined();
  }
  return StatusValue(env, FreeNow());
}

Napi::Value CredHandleWrap::GetValid(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), valid_ && !freeRequested_);
}

// ---------------------------------------------------------------- CtxtHandle

Napi::Function CtxtHandleWrap::Define(Napi::Env env) {
  return DefineClass(env, "CtxtHandle",
                     {
                         InstanceMethod<&CtxtHandleWrap::Delete>("delete"),
                         InstanceAccessor<&CtxtHandleWrap::GetValid>("valid"),
                     });
}

CtxtHandleWrap* CtxtHandleWrap::From(const Napi::Value& value, const char* what) {
  if (!HasTag(value, &kCtxtTag)) {
    throw Napi::TypeError::New(value.Env(), std::string(what) + " must be a CtxtHandle");
  }
  return Unwrap(value.As<Napi::Object>());
}

CtxtHandleWrap::CtxtHandleWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CtxtHandleWrap>(info) {
  if (info.Length() != 0) {
    throw Napi::TypeError::New(info.Env(), "CtxtHandle takes no arguments; InitializeSecurityContext or AcceptSecurityContext fills it");
  }
  SecInvalidateHandle(&handle_);
  info.This().As<Napi::Object>().TypeTag(&kCtxtTag);
}

CtxtHandleWrap::~CtxtHandleWrap() {
  if (valid_) DeleteNow();
}

SECURITY_STATUS CtxtHandleWrap::DeleteNow() {
  valid_ = false;
  deleted_ = true;
  SECURITY_STATUS status = DeleteSecurityContext(&handle_);
  SecInvalidateHandle(&handle_);
  return status;
}

void CtxtHandleWrap::CheckUsable(Napi::Env env, const char* fn) {
  if (deleted_ || deleteRequested_) {
    throw Napi::Error::New(env, std::string(fn) + ": the CtxtHandle has been deleted (DeleteSecurityContext)");
  }
  if (busy_) {
    throw Napi::Error::New(env, std::string(fn) + ": the CtxtHandle is in use by a pending asynchronous call; SSPI contexts take one call at a time");
  }
}

void CtxtHandleWrap::EndUse() {
  busy_ = false;
  if (deleteRequested_) {
    deleteRequested_ = false;
    if (valid_) DeleteNow();
    deleted_ = true;
  }
}

// delete() -> status of DeleteSecurityContext; SEC_E_OK (0) if there was nothing to delete (never
// filled, or already deleted). During a pending asynchronous call the delete is deferred to its end
// and undefined is returned.
Napi::Value CtxtHandleWrap::Delete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (deleted_ || deleteRequested_) return StatusValue(env, SEC_E_OK);
  if (busy_) {
    deleteRequested_ = true;
    return env.Undefined();
  }
  if (!valid_) {
    deleted_ = true;
    return StatusValue(env, SEC_E_OK);
  }
  return StatusValue(env, DeleteNow());
}

Napi::Value CtxtHandleWrap::GetValid(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), valid_ && !deleteRequested_);
}

}  // namespace sspi
