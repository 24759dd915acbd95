// Normalisation and DMARC alignment (libpsl lives behind this header).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "dmarcq/model.hpp"

namespace dmarcq {

// Organizational domains through the Public Suffix List. Loads Debian's
// `publicsuffix` list (psl_latest) once; falls back to libpsl's built-in copy.
class PublicSuffixList {
 public:
  PublicSuffixList();
  ~PublicSuffixList();
  PublicSuffixList(const PublicSuffixList&) = delete;
  PublicSuffixList& operator=(const PublicSuffixList&) = delete;

  // The registrable ("organizational") domain of a normalized domain name;
  // the name itself when it is a public suffix or a single label.
  [[nodiscard]] std::string organizational_domain(std::string_view domain) const;

  // organizational_domain(a) == organizational_domain(b), answered from a
  // per-thread cache: alignment asks it for every record, about the same few
  // domains again and again.
  [[nodiscard]] bool same_organization(std::string_view a, std::string_view b) const;

  // Process-wide instance, loaded on first use (one per process is enough).
  static const PublicSuffixList& shared();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "EXAMPLE.com." -> "example.com": trimmed, lowercased, one trailing dot cut.
std::string normalize_domain(std::string_view domain);

// Domains, IPs in place: lowercases domains (policy, header_from,
// envelope_from/to, auth domains), canonicalises source IPs (sets
// source_ip_valid / source_ip_key).
void normalize_report(AggregateReport& report);

// Whether `domain` aligns with `header_from` in `mode` (strict: identical;
// relaxed / absent / unknown: same organizational domain).
bool domains_align(std::string_view domain, std::string_view header_from, AlignmentMode mode,
                   const PublicSuffixList& psl);

// Computes Record::verdict for every record (alignment + traffic class).
void compute_alignment(AggregateReport& report, const PublicSuffixList& psl);

}  // namespace dmarcq
