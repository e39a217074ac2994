{
  "targets": [
    {
      "target_name": "flow_kernel",
      "sources": ["flow_kernel.c"],
      "cflags": ["-O3", "-std=c11"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3"] }
    }
  ]
}
