// Safety limits: every one has a default sized for real reports and a CLI flag.
// Exceeding one is an ErrorKind::limit_exceeded error, never a crash.
#pragma once

#include <cstdint>

namespace dmarcq {

struct Limits {
  // Archive / decompression.
  std::uint64_t max_decompressed_bytes = 256ull << 20;  // per payload
  std::uint64_t max_compression_ratio = 1000;           // output / input, per payload
  std::uint32_t max_archive_members = 1000;             // zip entries looked at
  std::uint32_t max_nesting = 4;                        // gzip in gzip in zip ...
  // XML.
  std::uint64_t max_records_per_report = 1'000'000;
  std::uint32_t max_xml_depth = 64;
  std::uint64_t max_field_bytes = 1u << 20;  // one text value (org_name, domain, comment, ...)
  // MIME (checked before the message reaches mimetic; see src/mime).
  std::uint64_t max_message_bytes = 64ull << 20;
  std::uint32_t max_mime_depth = 64;
  std::uint32_t max_mime_parts = 10'000;
  std::uint32_t max_header_line_bytes = 64u << 10;
};

}  // namespace dmarcq
