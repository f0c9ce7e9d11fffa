{
  "targets": [
    {
      "target_name": "tycho_datapath",
      "sources": [
        "native/addon.cc",
        "native/errors.cc",
        "native/bpf_object.cc",
        "native/map_ops.cc",
        "native/tc.cc",
        "native/tcx.cc",
        "native/pinned_link.cc",
        "native/cgroup.cc",
        "native/program_info.cc",
        "native/ring_buffer_reader.cc",
        "native/test_run.cc",
        "native/btf_layout.cc",
        "native/clock.cc",
        "native/netdev.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-missing-field-initializers"],
      "libraries": ["-lbpf", "-lelf", "-lz"]
    }
  ]
}
