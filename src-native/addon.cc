// Module entry: one AddonData per environment, so the addon also loads in worker_threads.
#include "common.h"

namespace sspi {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);  // deleted by Node-API when the environment exits

  Napi::Function cred = CredHandleWrap::Define(env);
  Napi::Function ctxt = CtxtHandleWrap::Define(env);
  data->credHandleCtor = Napi::Persistent(cred);
  data->ctxtHandleCtor = Napi::Persistent(ctxt);
  exports.Set("CredHandle", cred);
  exports.Set("CtxtHandle", ctxt);

  InitHandles(env, exports);
  InitPackages(env, exports);
  InitCredentials(env, exports);
  InitContexts(env, exports);
  InitAttributes(env, exports);
  InitTokens(env, exports);
  InitConstants(env, exports);
  InitMessage(env, exports);
  InitSchannel(env, exports);
  InitQueue(env, exports);
  return exports;
}

}  // namespace sspi

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return sspi::Init(env, exports); }

NODE_API_MODULE(sspi_addon, InitAddon)
