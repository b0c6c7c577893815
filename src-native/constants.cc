// The SDK header values of every constant the TypeScript facade defines, so the test suite can prove
// lib/constants.ts agrees with sspi.h / winerror.h as this compiler sees them.
#include "common.h"

#include <schannel.h>  // SECPKG_ATTR_* of Schannel (QueryContextAttributes (Schannel))

namespace sspi {

void InitConstants(Napi::Env env, Napi::Object exports) {
  Napi::Object c = Napi::Object::New(env);
#define SSPI_CONSTANT(name) c.Set(#name, Napi::Number::New(env, static_cast<double>(static_cast<uint32_t>(name))));
#include "constants.inc"
#undef SSPI_CONSTANT
  exports.Set("headerConstants", c);
}

}  // namespace sspi
