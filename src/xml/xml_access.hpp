// Small helpers for walking a pugixml DOM the way DMARC reports need it:
// namespace-agnostic element names, trimmed element text, lazily built
// paths for errors and diagnostics. Internal to src/xml.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

#include "dmarcq/model.hpp"
#include "dmarcq/text.hpp"

namespace dmarcq::xml_detail {

// "dmarc:record" -> "record". Reports use default namespaces, prefixes, or
// none at all; matching the local name accepts every variant.
inline std::string_view local_name(pugi::xml_node element) {
  const char* name = element.name();
  const char* colon = std::strrchr(name, ':');
  return colon ? std::string_view(colon + 1) : std::string_view(name);
}

inline pugi::xml_node next_element(pugi::xml_node node) {
  while (node && node.type() != pugi::node_element) node = node.next_sibling();
  return node;
}
inline pugi::xml_node first_child_element(pugi::xml_node parent) {
  return next_element(parent.first_child());
}
inline pugi::xml_node next_sibling_element(pugi::xml_node element) {
  return next_element(element.next_sibling());
}

// Reads element text. The common case (one text child) is a view into the
// DOM; text split by comments or CDATA sections is joined in `scratch_`.
class TextReader {
 public:
  // Trimmed text of the element's direct text children ("" for <x/>). The
  // view is valid until the next call.
  // With parse_embed_pcdata the first PCDATA child is the element's own
  // value (no node of its own); any further text still comes as children.
  std::string_view text(pugi::xml_node element) {
    const char* own = element.value();  // "" when nothing was embedded
    pugi::xml_node child = element.first_child();
    if (!child) return trim(own);
    if (!*own && !child.next_sibling() && is_text(child)) return trim(child.value());
    scratch_.assign(own);
    for (; child; child = child.next_sibling())
      if (is_text(child)) scratch_ += child.value();
    return trim(scratch_);
  }
  std::string string(pugi::xml_node element) { return std::string(text(element)); }

 private:
  static bool is_text(pugi::xml_node node) {
    return node.type() == pugi::node_pcdata || node.type() == pugi::node_cdata;
  }
  std::string scratch_;
};

// Collects lenient-parse notes, capped so that a million bad records cannot
// produce a million strings.
class Diagnostics {
 public:
  explicit Diagnostics(std::vector<std::string>& sink) : sink_(sink) {}
  Diagnostics(const Diagnostics&) = delete;
  Diagnostics& operator=(const Diagnostics&) = delete;

  void add(std::string note) {
    if (sink_.size() < kMaxNotes) {
      sink_.push_back(std::move(note));
    } else {
      ++dropped_;
    }
  }
  // Appends how many notes the cap dropped, if any.
  void finish() {
    if (dropped_ > 0) sink_.push_back("... and " + std::to_string(dropped_) + " more diagnostics");
  }

 private:
  static constexpr std::size_t kMaxNotes = 1000;
  std::vector<std::string>& sink_;
  std::size_t dropped_ = 0;
};

// Parses an enumerated element; an unrecognised value is kept (unknown + raw)
// and noted as `<path>: unknown value "..."`. `path` builds the path only
// when needed.
template <typename E, typename PathFn>
Enumerated<E> read_enum(TextReader& reader, pugi::xml_node element,
                        Enumerated<E> (*parse)(std::string_view), Diagnostics& diagnostics,
                        PathFn&& path) {
  Enumerated<E> value = parse(reader.text(element));
  if (value.value == E::unknown)
    diagnostics.add(path() + ": unknown value \"" + printable(value.raw) + "\"");
  return value;
}

// First occurrence wins for elements that should appear once (as with
// XPath or ElementTree's find, which other DMARC tools use): returns true the
// first time `bit` is seen in `seen`.
inline bool first_time(std::uint32_t& seen, unsigned bit) {
  const std::uint32_t mask = std::uint32_t{1} << bit;
  if (seen & mask) return false;
  seen |= mask;
  return true;
}

// "name[3]": 1-based, like XPath.
inline std::string indexed(std::string_view name, std::size_t index) {
  std::string out(name);
  out += '[';
  out += std::to_string(index);
  out += ']';
  return out;
}

}  // namespace dmarcq::xml_detail
