// Structured MIME header values: "type/subtype; name=value; ..." as used by
// Content-Type and Content-Disposition, with RFC 2231 extended parameters
// (charset'language'%XX, continuations name*0*, name*1) and RFC 2047 words in
// quoted values, all decoded to UTF-8. mimetic decodes neither.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace dmarcq::mime {

struct ParameterizedValue {
  std::string token;                          // lowercased, e.g. "application/zip"
  std::map<std::string, std::string> params;  // lowercased name -> decoded UTF-8 value

  // The value of `name` (lowercase), or "" when absent.
  [[nodiscard]] std::string param(const std::string& name) const;
};

ParameterizedValue parse_parameterized_value(std::string_view raw);

}  // namespace dmarcq::mime
