{
  # node-gyp build (MSVC) of the same sources CMakeLists.txt builds with cmake-js / MinGW-w64.
  # Used on Windows by `npm install` when no prebuilt binary matches (node-gyp-build), or by hand:
  #   npx node-gyp rebuild
  "targets": [
    {
      "target_name": "sspi",
      "conditions": [
        ["OS=='win'", {
          "sources": [
            "src-native/addon.cc",
            "src-native/attributes.cc",
            "src-native/buffers.cc",
            "src-native/constants.cc",
            "src-native/contexts.cc",
            "src-native/credentials.cc",
            "src-native/handles.cc",
            "src-native/message.cc",
            "src-native/packages.cc",
            "src-native/schannel.cc",
            "src-native/tokens.cc",
            "src-native/queue.cc",
            "src-native/util.cc"
          ],
          "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
          "defines": ["NAPI_VERSION=8", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS", "UNICODE", "_UNICODE"],
          "libraries": ["secur32.lib", "advapi32.lib", "crypt32.lib"],
          "msvs_settings": {
            "VCCLCompilerTool": { "AdditionalOptions": ["/std:c++17", "/utf-8"] }
          }
        }, {
          # SSPI exists only on Windows: elsewhere the target is empty and nothing is compiled.
          "type": "none"
        }]
      ]
    }
  ]
}
