// Helpers shared by the files of src/arf.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dmarcq/arf.hpp"

namespace dmarcq::arf {

// Splits text into lines at CRLF, LF or CR (ends not included).
std::vector<std::string_view> split_lines(std::string_view text);

bool is_whitespace_only(std::string_view line);

// "Name: value" on one physical line -> the name (trimmed), or nullopt when
// the line is not a field start (no colon, empty name, or a name with
// characters outside RFC 5322 ftext).
std::optional<std::string_view> field_name_of(std::string_view line);

// Splits a message text at its first blank (or whitespace-only) line:
// {header block, body}. body is nullopt when there is no blank line.
struct HeaderAndBody {
  std::string_view headers;
  std::optional<std::string_view> body;
};
HeaderAndBody split_header_body(std::string_view message);

// Reads the original message's fields from its header block.
void read_original_headers(OriginalMessage& original, std::string_view headers);

// DKIM-Signature tag value ("d", "s") or "" when absent.
std::string dkim_tag(std::string_view signature, std::string_view tag);

// Source-IP text -> SourceIp (address token, optional "(hostname)").
SourceIp parse_source_ip(std::string_view text);

// Recovery for reports without a feedback part: fills `report` from the
// reporter's text (and the subject as a last resort for Source-IP). The
// text may contain a copy of the original headers; that block is returned
// (empty when none) so it can be read as the original message.
std::string_view recover_from_text(FailureReport& report, std::string_view text,
                                   std::string_view subject);

}  // namespace dmarcq::arf
