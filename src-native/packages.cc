// EnumerateSecurityPackagesW, QuerySecurityPackageInfoW, and status message text.
#include "common.h"

namespace sspi {

namespace {

// enumerateSecurityPackages() -> { status, packages: SecPkgInfo[] }
// The array SSPI allocates is copied and released with FreeContextBuffer before returning.
Napi::Value EnumeratePackages(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  unsigned long count = 0;
  PSecPkgInfoW list = nullptr;
  SECURITY_STATUS status = EnumerateSecurityPackagesW(&count, &list);
  Napi::Object result = Napi::Object::New(env);
  result.Set("status", StatusValue(env, status));
  Napi::Array packages = Napi::Array::New(env);
  if (status == SEC_E_OK && list != nullptr) {
    for (unsigned long i = 0; i < count; i++) packages.Set(i, PackageInfoValue(env, &list[i]));
  }
  if (list != nullptr) FreeContextBuffer(list);
  result.Set("packages", packages);
  return result;
}

// querySecurityPackageInfo(name: string) -> { status, info?: SecPkgInfo }
Napi::Value QueryPackageInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::wstring name = ToWide(info[0], "package name");
  PSecPkgInfoW p = nullptr;
  SECURITY_STATUS status = QuerySecurityPackageInfoW(&name[0], &p);
  Napi::Object result = Napi::Object::New(env);
  result.Set("status", StatusValue(env, status));
  if (status == SEC_E_OK && p != nullptr) result.Set("info", PackageInfoValue(env, p));
  if (p != nullptr) FreeContextBuffer(p);
  return result;
}

// formatMessage(status) -> the system's text for a status (FormatMessageW), or "" if it has none.
Napi::Value FormatStatus(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t status = ToUint32(info[0], "status");
  wchar_t* text = nullptr;
  DWORD n = FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS | FORMAT_MESSAGE_ALLOCATE_BUFFER,
                           nullptr, status, 0, reinterpret_cast<LPWSTR>(&text), 0, nullptr);
  std::wstring s = (n && text) ? std::wstring(text, n) : std::wstring();
  if (text) LocalFree(text);
  while (!s.empty() && (s.back() == L'\r' || s.back() == L'\n' || s.back() == L' ' || s.back() == L'.')) s.pop_back();
  return FromWide(env, s.c_str(), s.size());
}

// hostInfo() -> { wine: string | null }: whether secur32 is Wine's (ntdll exports wine_get_version),
// so diagnostics and tests can say which SSPI implementation answered.
Napi::Value HostInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  using WineGetVersion = const char*(__cdecl*)();
  auto fn = ntdll ? reinterpret_cast<WineGetVersion>(reinterpret_cast<void*>(GetProcAddress(ntdll, "wine_get_version"))) : nullptr;
  o.Set("wine", fn ? Napi::Value(Napi::String::New(env, fn())) : env.Null());
  return o;
}

}  // namespace

void InitPackages(Napi::Env env, Napi::Object exports) {
  exports.Set("enumerateSecurityPackages", Napi::Function::New<EnumeratePackages>(env, "enumerateSecurityPackages"));
  exports.Set("querySecurityPackageInfo", Napi::Function::New<QueryPackageInfo>(env, "querySecurityPackageInfo"));
  exports.Set("formatMessage", Napi::Function::New<FormatStatus>(env, "formatMessage"));
  exports.Set("hostInfo", Napi::Function::New<HostInfo>(env, "hostInfo"));
}

}  // namespace sspi
