// Content sniffing and unpacking (zip / gzip / zlib) of report payloads.
// The only module that touches libarchive (and zlib).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dmarcq/error.hpp"
#include "dmarcq/limits.hpp"

namespace dmarcq {

// What a byte string is, decided from its content only (never a file name).
enum class ContentFormat {
  empty,    // zero bytes or only whitespace
  xml,      // starts (after BOM / whitespace) with '<', or UTF-16 XML
  gzip,     // 1f 8b
  zip,      // PK\3\4 (or an empty zip's PK\5\6)
  zlib,     // raw zlib stream (78 01 / 78 5e / 78 9c / 78 da with a valid FCHECK)
  mail,     // an RFC 5322 message: starts with a header field
  mbox,     // starts with "From "
  json,     // '{' or '[' (TLS-RPT and the like)
  unknown,
};

const char* to_string(ContentFormat format);
ContentFormat sniff_format(std::string_view bytes);

// One document found inside a payload.
struct UnpackedDocument {
  std::string name;     // zip member name ("" for gzip/zlib/plain)
  std::string chain;    // decode chain, e.g. "zip>xml", "gz>gz>xml", "xml"
  ContentFormat format; // xml or json (after unpacking)
  std::string bytes;
};

struct UnpackResult {
  std::vector<UnpackedDocument> documents;
  // Members skipped on purpose (directories, __MACOSX junk, non-XML), with why.
  std::vector<std::string> skipped;
};

// Unpacks `bytes` (plain XML, gzip, gzip-in-gzip, gzip with trailing junk,
// zip with any number of members, raw zlib) into the XML/JSON documents it
// holds. Nothing is ever written to disk. Errors: not_a_report (no document
// inside, junk, empty), malformed (corrupt archive/stream), limit_exceeded.
Expected<UnpackResult> unpack(std::string_view bytes, const Limits& limits);

}  // namespace dmarcq
