// Normalisation and alignment (relaxed / strict, PSL, classes).
#include <catch2/catch.hpp>

#include "dmarcq/normalize.hpp"

using namespace dmarcq;

namespace {

const PublicSuffixList& psl() { return PublicSuffixList::shared(); }

Record record_with(const std::string& header_from) {
  Record r;
  r.source_ip = "192.0.2.1";
  r.count = 1;
  r.header_from = header_from;
  return r;
}

DkimAuthResult dkim(const std::string& domain, DkimResult result) {
  return DkimAuthResult{domain, std::nullopt, {result, {}}, std::nullopt};
}
SpfAuthResult spf(const std::string& domain, SpfResult result, SpfScope scope = SpfScope::mfrom) {
  return SpfAuthResult{domain, {scope, {}}, {result, {}}, std::nullopt};
}

AlignmentVerdict judge(Record r, AlignmentMode adkim = AlignmentMode::relaxed,
                       AlignmentMode aspf = AlignmentMode::relaxed) {
  AggregateReport report;
  report.policy.domain = "example.org";
  report.policy.adkim = {adkim, {}};
  report.policy.aspf = {aspf, {}};
  report.records.push_back(std::move(r));
  compute_alignment(report, psl());
  return report.records[0].verdict;
}

}  // namespace

TEST_CASE("organizational domains come from the Public Suffix List", "[normalize][psl]") {
  CHECK(psl().organizational_domain("mail.example.co.uk") == "example.co.uk");
  CHECK(psl().organizational_domain("example.co.uk") == "example.co.uk");
  CHECK(psl().organizational_domain("a.b.example.org") == "example.org");
  CHECK(psl().organizational_domain("foo.github.io") == "foo.github.io");  // private section
  CHECK(psl().organizational_domain("co.uk") == "co.uk");                  // a bare suffix
  // The cached comparison alignment uses, asked twice so the second answer comes from the cache.
  for (int pass = 0; pass < 2; ++pass) {
    CHECK(psl().same_organization("mail.example.co.uk", "example.co.uk"));
    CHECK_FALSE(psl().same_organization("example.co.uk", "other.co.uk"));
    CHECK_FALSE(psl().same_organization("foo.github.io", "bar.github.io"));
    CHECK(psl().same_organization("a.b.example.org", "example.org"));
  }
  // More distinct domains than the cache keeps: it starts over, answers stay right.
  int aligned = 0, misaligned = 0;
  for (int i = 0; i < 5000; ++i) {
    const std::string host = "host" + std::to_string(i) + ".example.org";
    aligned += psl().same_organization(host, "example.org");
    misaligned += psl().same_organization(host, "example.net");
  }
  CHECK(aligned == 5000);
  CHECK(misaligned == 0);
}

TEST_CASE("domains are normalized", "[normalize]") {
  CHECK(normalize_domain(" EXAMPLE.Org. ") == "example.org");
  CHECK(normalize_domain("") == "");
  AggregateReport report;
  report.policy.domain = "Example.ORG.";
  Record r = record_with("News.Example.org");
  r.source_ip = " ::ffff:192.0.2.9 ";
  r.envelope_from = "BOUNCE.example.org.";
  r.dkim.push_back(dkim("Example.Org", DkimResult::pass));
  report.records.push_back(r);
  Record bad = record_with("example.org");
  bad.source_ip = "not an ip";
  report.records.push_back(bad);
  normalize_report(report);
  CHECK(report.policy.domain == "example.org");
  CHECK(report.records[0].header_from == "news.example.org");
  CHECK(report.records[0].envelope_from == "bounce.example.org");
  CHECK(report.records[0].dkim[0].domain == "example.org");
  CHECK(report.records[0].source_ip == "192.0.2.9");
  CHECK(report.records[0].source_ip_valid);
  CHECK(report.records[1].source_ip == "not an ip");
  CHECK_FALSE(report.records[1].source_ip_valid);
}

TEST_CASE("relaxed and strict alignment", "[normalize][alignment]") {
  CHECK(domains_align("mail.example.co.uk", "example.co.uk", AlignmentMode::relaxed, psl()));
  CHECK_FALSE(domains_align("mail.example.co.uk", "example.co.uk", AlignmentMode::strict, psl()));
  CHECK_FALSE(domains_align("example.co.uk", "other.co.uk", AlignmentMode::relaxed, psl()));
  CHECK(domains_align("example.org", "example.org", AlignmentMode::strict, psl()));
  CHECK_FALSE(domains_align("a.github.io", "b.github.io", AlignmentMode::relaxed, psl()));
  CHECK_FALSE(domains_align("", "example.org", AlignmentMode::relaxed, psl()));
}

TEST_CASE("traffic classes", "[normalize][alignment]") {
  SECTION("aligned") {
    Record r = record_with("example.org");
    r.dkim.push_back(dkim("example.org", DkimResult::pass));
    r.spf.push_back(spf("bounce.example.org", SpfResult::pass));
    const auto v = judge(r);
    CHECK(v.dkim_aligned);
    CHECK(v.spf_aligned);
    CHECK(v.dmarc_pass);
    CHECK(v.traffic_class == TrafficClass::aligned);
  }
  SECTION("dkim-only: SPF passes for a forwarder") {
    Record r = record_with("example.org");
    r.dkim.push_back(dkim("example.org", DkimResult::pass));
    r.spf.push_back(spf("forwarder.example.net", SpfResult::pass));
    const auto v = judge(r);
    CHECK(v.traffic_class == TrafficClass::dkim_only);
    CHECK(v.unaligned_spf_pass_domain == "forwarder.example.net");
  }
  SECTION("spf-only under strict DKIM alignment") {
    Record r = record_with("example.org");
    r.dkim.push_back(dkim("mail.example.org", DkimResult::pass));
    r.spf.push_back(spf("example.org", SpfResult::pass));
    CHECK(judge(r, AlignmentMode::strict).traffic_class == TrafficClass::spf_only);
    CHECK(judge(r, AlignmentMode::relaxed).traffic_class == TrafficClass::aligned);
  }
  SECTION("forwarded: the receiver says so") {
    Record r = record_with("example.org");
    r.dkim.push_back(dkim("example.org", DkimResult::fail));
    r.spf.push_back(spf("lists.example.net", SpfResult::pass));
    r.reasons.push_back({{ReasonType::mailing_list, {}}, std::nullopt});
    CHECK(judge(r).traffic_class == TrafficClass::forwarded);
  }
  SECTION("misaligned: a third party authenticates as itself") {
    Record r = record_with("example.org");
    r.dkim.push_back(dkim("mailer.example.com", DkimResult::pass));
    const auto v = judge(r);
    CHECK_FALSE(v.dmarc_pass);
    CHECK(v.traffic_class == TrafficClass::misaligned);
    CHECK(v.unaligned_dkim_pass_domain == "mailer.example.com");
  }
  SECTION("impersonation: nothing passed") {
    Record r = record_with("example.org");
    r.dkim.push_back(dkim("example.org", DkimResult::fail));
    r.spf.push_back(spf("example.org", SpfResult::softfail));
    CHECK(judge(r).traffic_class == TrafficClass::impersonation);
  }
  SECTION("SPF falls back to envelope_from when the domain is empty") {
    Record r = record_with("example.org");
    r.envelope_from = "example.org";
    r.spf.push_back(spf("", SpfResult::pass));
    CHECK(judge(r).spf_aligned);
  }
  SECTION("a HELO result counts only without a MAIL FROM result") {
    Record r = record_with("example.org");
    r.spf.push_back(spf("example.org", SpfResult::pass, SpfScope::helo));
    CHECK(judge(r).spf_aligned);
    r.spf.push_back(spf("evil.example.com", SpfResult::fail, SpfScope::mfrom));
    CHECK_FALSE(judge(r).spf_aligned);
  }
  SECTION("a subdomain under relaxed alignment via the PSL") {
    Record r = record_with("news.example.org");
    r.dkim.push_back(dkim("example.org", DkimResult::pass));
    CHECK(judge(r).dkim_aligned);
    CHECK_FALSE(judge(r, AlignmentMode::strict).dkim_aligned);
  }
}
