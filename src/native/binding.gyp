{
  "targets": [
    {
      "target_name": "vpcflow_native",
      "sources": ["addon.c", "decode_lines.c", "write_rows.c", "gunzip.c", "send_file.c"],
      "cflags": ["-O3", "-std=c11"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3"] }
    }
  ]
}
