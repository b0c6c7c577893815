// EnumerateSecurityPackagesW, QuerySecurityPackageInfoW, and status message text.
#include "common.h"

namespace sspi {

namespace {

// enumerateSecurityPackages(async) -> { status, packages: SecPkgInfo[] }
// The array SSPI allocates is copied and released with FreeContextBuffer (also on a failure status, or
// when the call's environment ended before the result was delivered).
class EnumerateCall : public SspiCall {
 public:
  ~EnumerateCall() override { Release(); }
  void Execute() override { status_ = EnumerateSecurityPackagesW(&count_, &list_); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("status", StatusValue(env, status_));
    Napi::Array packages = Napi::Array::New(env);
    if (status_ == SEC_E_OK && list_ != nullptr) {
      for (unsigned long i = 0; i < count_; i++) packages.Set(i, PackageInfoValue(env, &list_[i]));
    }
    Release();
    result.Set("packages", packages);
    return result;
  }

 private:
  void Release() { FreePackageBuffer(list_); }
  unsigned long count_ = 0;
  PSecPkgInfoW list_ = nullptr;
  SECURITY_STATUS status_ = SEC_E_INTERNAL_ERROR;
};

// querySecurityPackageInfo(pszPackageName: string, async) -> { status, info?: SecPkgInfo }
class QueryInfoCall : public SspiCall {
 public:
  explicit QueryInfoCall(const Napi::CallbackInfo& info) : name_(ToWide(info[0], "pszPackageName")) {}
  ~QueryInfoCall() override { Release(); }
  void Execute() override { status_ = QuerySecurityPackageInfoW(&name_[0], &info_); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("status", StatusValue(env, status_));
    if (status_ == SEC_E_OK && info_ != nullptr) result.Set("info", PackageInfoValue(env, info_));
    Release();
    return result;
  }

 private:
  void Release() { FreePackageBuffer(info_); }
  std::wstring name_;
  PSecPkgInfoW info_ = nullptr;
  SECURITY_STATUS status_ = SEC_E_INTERNAL_ERROR;
};

Napi::Value EnumeratePackages(const Napi::CallbackInfo& info) {
  return Dispatch(info.Env(), new EnumerateCall(), info[0].ToBoolean());
}

Napi::Value QueryPackageInfo(const Napi::CallbackInfo& info) {
  return Dispatch(info.Env(), new QueryInfoCall(info), info[1].ToBoolean());
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
