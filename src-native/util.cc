// String conversions and argument checks.
#include "common.h"

namespace sspi {

static_assert(sizeof(wchar_t) == sizeof(char16_t), "wchar_t is UTF-16 on Windows");

namespace {

// The length in UTF-16 code units of a JS string, or a TypeError if it is not one.
size_t Utf16Length(const Napi::Value& value, const char* what) {
  if (!value.IsString()) {
    throw Napi::TypeError::New(value.Env(), std::string(what) + " must be a string");
  }
  size_t length = 0;
  napi_status status = napi_get_value_string_utf16(value.Env(), value, nullptr, 0, &length);
  NAPI_THROW_IF_FAILED(value.Env(), status, 0);
  return length;
}

// Copies the string's `length` code units and a NUL into `buffer` (length + 1 elements).
void CopyUtf16(const Napi::Value& value, wchar_t* buffer, size_t length) {
  size_t copied = 0;
  napi_status status =
      napi_get_value_string_utf16(value.Env(), value, reinterpret_cast<char16_t*>(buffer), length + 1, &copied);
  if (status != napi_ok) throw Napi::Error::New(value.Env());
}

bool HasNul(const wchar_t* s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (s[i] == 0) return true;
  }
  return false;
}

Napi::TypeError NulError(const Napi::Value& value, const char* what) {
  return Napi::TypeError::New(value.Env(), std::string(what) + " must not contain NUL characters");
}

}  // namespace

std::wstring ToWide(const Napi::Value& value, const char* what) {
  size_t length = Utf16Length(value, what);
  std::wstring out(length, L'\0');
  CopyUtf16(value, &out[0], length);  // writes the NUL at out[length], which std::wstring provides
  if (HasNul(out.data(), length)) throw NulError(value, what);
  return out;
}

bool ToWideOptional(const Napi::Value& value, const char* what, std::wstring* out) {
  if (value.IsUndefined() || value.IsNull()) return false;
  *out = ToWide(value, what);
  return true;
}

// V8 may keep its own copies of the string (the JavaScript value itself, a flattened cons string);
// those are the caller's and the garbage collector's. What the addon makes, it wipes: the one buffer
// here, filled straight from the string.
bool Secret::Read(const Napi::Value& value, const char* what) {
  Wipe();
  if (value.IsUndefined() || value.IsNull()) return false;
  size_t length = Utf16Length(value, what);
  chars_.reset(new wchar_t[length + 1]());
  size_ = length;
  CopyUtf16(value, chars_.get(), length);
  if (HasNul(chars_.get(), length)) {
    Wipe();
    throw NulError(value, what);
  }
  return true;
}

void Secret::Wipe() {
  if (chars_) SecureZeroMemory(chars_.get(), (size_ + 1) * sizeof(wchar_t));
  chars_.reset();
  size_ = 0;
}

Napi::String FromWide(Napi::Env env, const wchar_t* s) {
  if (s == nullptr) return Napi::String::New(env, u"");
  return Napi::String::New(env, reinterpret_cast<const char16_t*>(s));
}

Napi::String FromWide(Napi::Env env, const wchar_t* s, size_t chars) {
  if (s == nullptr) return Napi::String::New(env, u"");
  return Napi::String::New(env, reinterpret_cast<const char16_t*>(s), chars);
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

}  // namespace sspi
