// unpack(): payload -> the XML/JSON documents it holds, through any nesting
// of gzip, zip and raw zlib, under the limits.
//
// gzip and zip go through libarchive (archive_reader.cpp). Its gzip filter
// already does what real senders need: concatenated members are read as one
// stream (RFC 1952 multi-member), and bytes after a member that do not start
// a new gzip header, such as the CRLF Mimecast appends, end the stream
// cleanly. Raw zlib, which libarchive does not read, goes through zlib.
#include <algorithm>
#include <string>
#include <utility>

#include "archive_reader.hpp"
#include "bounded_output.hpp"
#include "dmarcq/archive.hpp"
#include "zlib_inflate.hpp"

namespace dmarcq {

namespace {

using archive_internal::ArchiveEntry;
using archive_internal::ArchiveKind;
using archive_internal::ArchiveReader;
using archive_internal::BoundedOutput;
using archive_internal::ContainerMeter;
using archive_internal::UnpackBudget;
using archive_internal::describe_content;
using archive_internal::estimate_output_size;

bool is_document(ContentFormat format) {
  return format == ContentFormat::xml || format == ContentFormat::json;
}

bool is_container(ContentFormat format) {
  return format == ContentFormat::gzip || format == ContentFormat::zip ||
         format == ContentFormat::zlib;
}

// Finder and resource-fork litter from macOS zips: never a report.
bool is_macos_junk(std::string_view name) {
  if (name.starts_with("__MACOSX/") || name.find("/__MACOSX/") != std::string_view::npos) {
    return true;
  }
  const std::size_t slash = name.rfind('/');
  const std::string_view base = slash == std::string_view::npos ? name : name.substr(slash + 1);
  return base.starts_with("._") || base == ".DS_Store";
}

std::string what_it_is(std::string_view bytes, ContentFormat format) {
  switch (format) {
    case ContentFormat::empty: return "empty";
    case ContentFormat::mail: return "an email message";
    case ContentFormat::mbox: return "an mbox mailbox";
    default: return describe_content(bytes);
  }
}

// "a.txt: not XML ...; b.bin: ..." with at most a handful of entries.
std::string summarize(const std::vector<std::string>& skipped, std::size_t first) {
  constexpr std::size_t kShown = 5;
  std::string summary;
  const std::size_t count = skipped.size() - first;
  for (std::size_t i = 0; i < std::min(count, kShown); ++i) {
    if (!summary.empty()) summary += "; ";
    summary += skipped[first + i];
  }
  if (count > kShown) summary += "; and " + std::to_string(count - kShown) + " more";
  return summary;
}

// Where we are in the nesting, e.g. inside member "r.xml.gz" of a zip.
struct Layer {
  std::string chain;  // decode chain so far, "zip>gz>"
  std::string name;   // member path so far, nested zips joined with "!/"
  std::uint32_t depth = 0;
};

Error nesting_error(const Layer& layer, ContentFormat next) {
  return make_error(ErrorKind::limit_exceeded,
                    "archives nested deeper than " + std::to_string(layer.depth) + " levels (" +
                        layer.chain + to_string(next) + ")",
                    layer.name);
}

class Unpacker {
 public:
  explicit Unpacker(const Limits& limits) : budget_{limits} {}

  // Decodes container `bytes` (gzip, zip or zlib) and adds what it holds.
  [[nodiscard]] std::optional<Error> unpack_container(std::string_view bytes,
                                                      ContentFormat format, const Layer& outer);

  UnpackResult& result() { return result_; }

 private:
  std::optional<Error> unpack_stream(std::string_view bytes, ContentFormat format,
                                     const Layer& layer);
  std::optional<Error> unpack_zip(std::string_view bytes, const Layer& layer);
  std::optional<Error> unpack_member(std::string&& data, const Layer& layer,
                                     const std::string& where);

  UnpackBudget budget_;
  UnpackResult result_;
};

std::optional<Error> Unpacker::unpack_container(std::string_view bytes, ContentFormat format,
                                                const Layer& outer) {
  if (outer.depth >= budget_.limits.max_nesting) return nesting_error(outer, format);
  const Layer layer{outer.chain + to_string(format) + ">", outer.name, outer.depth + 1};
  if (format == ContentFormat::zip) return unpack_zip(bytes, layer);
  return unpack_stream(bytes, format, layer);
}

// gzip or zlib: one stream holding one payload, which may itself be packed.
std::optional<Error> Unpacker::unpack_stream(std::string_view bytes, ContentFormat format,
                                             const Layer& layer) {
  ContainerMeter meter{bytes.size(), 0};
  std::size_t hint = estimate_output_size(bytes.size(), budget_.limits);
  // A gzip stream ends with its uncompressed size (mod 2^32). Only a hint
  // (trailing junk, concatenated or nested streams make it wrong), capped
  // by the limits; a right one saves the doubling copies of a big payload,
  // a wrong one costs untouched address space or the usual doubling.
  if (format == ContentFormat::gzip && bytes.size() >= 18) {
    const auto* tail = reinterpret_cast<const unsigned char*>(bytes.data() + bytes.size() - 4);
    const std::uint64_t isize = tail[0] | (tail[1] << 8) | (tail[2] << 16) |
                                (std::uint64_t{tail[3]} << 24);
    const std::uint64_t ceiling = std::min<std::uint64_t>(
        budget_.limits.max_decompressed_bytes, bytes.size() * budget_.limits.max_compression_ratio);
    if (isize > hint) hint = static_cast<std::size_t>(std::min(isize, ceiling));
  }
  BoundedOutput output(budget_, meter, layer.name, hint);
  Layer decoded = layer;
  if (format == ContentFormat::zlib) {
    if (auto error = archive_internal::inflate_zlib(bytes, output, layer.name)) return error;
  } else {
    auto reader = ArchiveReader::open(bytes, ArchiveKind::gzip, layer.name);
    if (!reader) return reader.error();
    // libarchive has already peeled any gzip-in-gzip layers: count them here
    // as if we had recursed, before inflating anything.
    for (int extra = reader->gzip_layers() - 1; extra > 0; --extra) {
      if (decoded.depth >= budget_.limits.max_nesting) return nesting_error(decoded, format);
      decoded.chain += "gz>";
      ++decoded.depth;
    }
    auto entry = reader->next_entry();
    if (!entry) return entry.error();
    if (entry->has_value()) {
      if (auto error = reader->read_data(output, layer.name)) return error;
    }
  }

  std::string data = std::move(output).take();
  const ContentFormat inner = sniff_format(data);
  if (is_document(inner)) {
    result_.documents.push_back(
        UnpackedDocument{layer.name, decoded.chain + to_string(inner), inner, std::move(data)});
    return std::nullopt;
  }
  if (is_container(inner)) return unpack_container(data, inner, decoded);
  const char* label = format == ContentFormat::zlib ? "zlib stream" : "gzip";
  return make_error(ErrorKind::not_a_report,
                    std::string(label) + " holds no XML report (content: " +
                        what_it_is(data, inner) + ")",
                    layer.name);
}

std::optional<Error> Unpacker::unpack_zip(std::string_view bytes, const Layer& layer) {
  auto reader = ArchiveReader::open(bytes, ArchiveKind::zip, layer.name);
  if (!reader) return reader.error();
  ContainerMeter meter{bytes.size(), 0};
  const std::size_t documents_before = result_.documents.size();
  const std::size_t skipped_before = result_.skipped.size();
  const std::uint32_t max_members = budget_.limits.max_archive_members;
  std::uint64_t index = 0;

  for (;;) {
    auto next = reader->next_entry();
    if (!next) return next.error();
    if (!next->has_value()) break;
    const ArchiveEntry& entry = **next;
    ++index;
    if (++budget_.members_seen > max_members) {
      return make_error(ErrorKind::limit_exceeded,
                        "archive has more than " + std::to_string(max_members) + " members",
                        layer.name);
    }
    const std::string member = entry.name.empty()
                                   ? "(member " + std::to_string(index) + ", no name)"
                                   : entry.name;
    const std::string where = layer.name.empty() ? member : layer.name + "!/" + member;
    if (entry.is_directory) {
      result_.skipped.push_back(where + ": directory");
      continue;
    }
    if (is_macos_junk(entry.name)) {
      result_.skipped.push_back(where + ": macOS metadata");
      continue;
    }
    if (entry.is_encrypted) {
      result_.skipped.push_back(where + ": encrypted");
      continue;
    }
    // The declared size only ever lowers the guess made from the input size.
    std::size_t hint = estimate_output_size(bytes.size(), budget_.limits);
    if (entry.declared_size) {
      hint = static_cast<std::size_t>(std::min<std::uint64_t>(hint, *entry.declared_size));
    }
    BoundedOutput output(budget_, meter, where, hint);
    if (auto error = reader->read_data(output, where)) return error;

    // Documents keep the real (possibly empty) member name.
    const std::string name =
        layer.name.empty() ? entry.name : layer.name + "!/" + entry.name;
    if (auto error = unpack_member(std::move(output).take(),
                                   Layer{layer.chain, name, layer.depth}, where)) {
      return error;
    }
  }

  if (result_.documents.size() > documents_before) return std::nullopt;
  const std::string why = result_.skipped.size() > skipped_before
                              ? "skipped: " + summarize(result_.skipped, skipped_before)
                              : std::string("no members");
  return make_error(ErrorKind::not_a_report, "zip holds no XML report (" + why + ")", layer.name);
}

// One zip member's data: a document, a nested archive, or something skipped.
std::optional<Error> Unpacker::unpack_member(std::string&& data, const Layer& layer,
                                             const std::string& where) {
  const ContentFormat format = sniff_format(data);
  if (is_document(format)) {
    result_.documents.push_back(
        UnpackedDocument{layer.name, layer.chain + to_string(format), format, std::move(data)});
    return std::nullopt;
  }
  if (is_container(format)) {
    auto error = unpack_container(data, format, layer);
    // A nested archive without a report is skipped like any other non-report
    // member; a corrupt one or a limit hit fails the whole payload.
    if (error && error->kind == ErrorKind::not_a_report) {
      result_.skipped.push_back(where + ": " + error->message);
      return std::nullopt;
    }
    return error;
  }
  if (format == ContentFormat::empty) {
    result_.skipped.push_back(where + ": empty");
  } else {
    result_.skipped.push_back(where + ": not XML (" + what_it_is(data, format) + ")");
  }
  return std::nullopt;
}

}  // namespace

Expected<UnpackResult> unpack(std::string_view bytes, const Limits& limits) {
  const ContentFormat format = sniff_format(bytes);
  if (is_document(format)) {
    UnpackResult result;
    result.documents.push_back(
        UnpackedDocument{"", to_string(format), format, std::string(bytes)});
    return result;
  }
  if (is_container(format)) {
    Unpacker unpacker(limits);
    if (auto error = unpacker.unpack_container(bytes, format, Layer{})) return *std::move(error);
    return std::move(unpacker.result());
  }
  switch (format) {
    case ContentFormat::empty:
      return make_error(ErrorKind::not_a_report,
                        bytes.empty() ? "empty file" : "empty file (only whitespace)");
    case ContentFormat::mail:
    case ContentFormat::mbox:
      return make_error(ErrorKind::not_a_report,
                        "not a report: " + what_it_is(bytes, format) +
                            " (its MIME parts must be decoded first)");
    default:
      return make_error(ErrorKind::not_a_report, "not a report: " + describe_content(bytes));
  }
}

}  // namespace dmarcq
