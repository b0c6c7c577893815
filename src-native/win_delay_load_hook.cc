// MinGW builds link Node-API through a delay-load import library naming "node.exe". This hook
// answers that load with the running executable, so the addon also works in hosts whose executable
// has another name (a renamed node.exe, Electron), which export the same Node-API symbols.
// MSVC builds get the equivalent hook from node-gyp / cmake-js, so this file is MinGW-only.
#if defined(__MINGW32__)

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <delayimp.h>
#include <string.h>

static FARPROC WINAPI SspiDelayLoadHook(unsigned dliNotify, PDelayLoadInfo pdli) {
  if (dliNotify == dliNotePreLoadLibrary && _stricmp(pdli->szDll, "node.exe") == 0) {
    return reinterpret_cast<FARPROC>(GetModuleHandleW(nullptr));
  }
  return nullptr;
}

// The definition of delayimp.h's hook variable, which mingw-w64's __delayLoadHelper2 reads. C linkage
// spelled out: the name must be the C symbol (__pfnDliNotifyHook2 on x86-64, ___pfnDliNotifyHook2 on
// i386, whose C names carry a leading underscore), or the linker silently takes libmingwex's null
// default instead. scripts/build-native.sh checks in the link map that this file defines it.
extern "C" {
PfnDliHook __pfnDliNotifyHook2 = SspiDelayLoadHook;
}

#endif
