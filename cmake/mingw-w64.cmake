# CMake toolchain: cross-compile the addon for Windows with Debian's MinGW-w64 (posix thread model).
# Used by scripts/build-native.sh through cmake-js, with the target given as -DMINGW_TRIPLE=:
#   x86_64-w64-mingw32  win32-x64   (package g++-mingw-w64-x86-64-posix)
#   i686-w64-mingw32    win32-ia32  (package g++-mingw-w64-i686-posix)
set(CMAKE_SYSTEM_NAME Windows)
if(NOT MINGW_TRIPLE MATCHES "^(x86_64|i686)-w64-mingw32$")
  message(FATAL_ERROR "MINGW_TRIPLE must be x86_64-w64-mingw32 or i686-w64-mingw32, not '${MINGW_TRIPLE}'")
endif()
# try_compile projects read this file again: hand them the triple too.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES MINGW_TRIPLE)
string(REGEX REPLACE "-.*" "" CMAKE_SYSTEM_PROCESSOR "${MINGW_TRIPLE}")

set(CMAKE_C_COMPILER ${MINGW_TRIPLE}-gcc-posix)
set(CMAKE_CXX_COMPILER ${MINGW_TRIPLE}-g++-posix)
set(CMAKE_RC_COMPILER ${MINGW_TRIPLE}-windres)
set(CMAKE_DLLTOOL ${MINGW_TRIPLE}-dlltool)

set(CMAKE_FIND_ROOT_PATH /usr/${MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
