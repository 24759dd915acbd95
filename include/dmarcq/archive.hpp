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

// The token used in decode chains: "xml", "gz", "zip", "zlib", "json", ...
const char* to_string(ContentFormat format);
// Checks, in order: empty/whitespace, gzip/zip/zlib magic, '<' (after an
// optional UTF-8 BOM and whitespace), '{' / '[', UTF-16 XML, "From ", a
// header field on line one; otherwise unknown. Looks only at the start
// (after any leading whitespace).
ContentFormat sniff_format(std::string_view bytes);

// One document found inside a payload.
struct UnpackedDocument {
  // Zip member name as stored ("" for gzip/zlib/plain, and for a member with
  // an empty name); members of a nested zip are "outer.zip!/inner.xml". Only
  // ever a label: names like "../x.xml" or "/etc/x" are never used as paths.
  std::string name;
  std::string chain;    // decode chain, e.g. "zip>xml", "gz>gz>xml", "xml"
  ContentFormat format = ContentFormat::unknown;  // xml or json (after unpacking)
  std::string bytes;
};

struct UnpackResult {
  std::vector<UnpackedDocument> documents;
  // Members skipped on purpose, as "name: why" (directories, __MACOSX and ._*
  // junk, empty or non-XML members, nested archives without a report).
  std::vector<std::string> skipped;
};

// Unpacks `bytes` (plain XML, gzip, gzip-in-gzip, gzip with trailing junk,
// zip with any number of members, raw zlib) into the XML/JSON documents it
// holds, in archive order. Nothing is ever written to disk. Errors:
// - not_a_report: empty, junk, mail, or an archive with no document inside
//   (the message says what was seen / skipped);
// - malformed: corrupt or truncated archive/stream (libarchive's or zlib's
//   message; `where` names the member);
// - limit_exceeded: all decompressed bytes of the call (every layer, every
//   member) > max_decompressed_bytes; one container's output / its input >
//   max_compression_ratio once that output is over 1 MiB; zip entries seen
//   in the call > max_archive_members; archive layers > max_nesting.
// Never throws for bad input; memory stays within about max_decompressed_bytes.
Expected<UnpackResult> unpack(std::string_view bytes, const Limits& limits);

}  // namespace dmarcq
