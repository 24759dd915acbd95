#include <libpsl.h>

#include <string>
#include <unordered_map>

#include "dmarcq/normalize.hpp"

namespace dmarcq {

struct PublicSuffixList::Impl {
  psl_ctx_t* context = nullptr;
  bool owned = false;
  ~Impl() {
    if (owned) psl_free(context);
  }
};

PublicSuffixList::PublicSuffixList() : impl_(std::make_unique<Impl>()) {
  // psl_latest reads the newest of Debian's `publicsuffix` file and the
  // built-in list; it can fail when the file is missing.
  impl_->context = psl_latest(nullptr);
  impl_->owned = impl_->context != nullptr;
  if (!impl_->context) impl_->context = const_cast<psl_ctx_t*>(psl_builtin());
}

PublicSuffixList::~PublicSuffixList() = default;

std::string PublicSuffixList::organizational_domain(std::string_view domain) const {
  if (domain.empty() || !impl_->context) return std::string(domain);
  const std::string name(domain);
  const char* registrable = psl_registrable_domain(impl_->context, name.c_str());
  return registrable ? std::string(registrable) : name;
}

namespace {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};

// One per thread, so no lock: the parse workers share one list.
struct OrganizationCache {
  const PublicSuffixList* owner = nullptr;
  std::unordered_map<std::string, std::string, StringHash, std::equal_to<>> domains;
};

// Hostile reports may name any number of distinct domains: start over rather
// than grow without bound.
constexpr std::size_t kMaxCachedDomains = 4096;

}  // namespace

bool PublicSuffixList::same_organization(std::string_view a, std::string_view b) const {
  thread_local OrganizationCache cache;
  if (cache.owner != this) {
    cache.domains.clear();
    cache.owner = this;
  }
  // Room for both answers first: references into the map stay valid as it grows.
  if (cache.domains.size() + 2 > kMaxCachedDomains) cache.domains.clear();
  auto organization_of = [&](std::string_view domain) -> const std::string& {
    if (auto it = cache.domains.find(domain); it != cache.domains.end()) return it->second;
    return cache.domains.emplace(std::string(domain), organizational_domain(domain)).first->second;
  };
  const std::string& organization_a = organization_of(a);
  return organization_a == organization_of(b);
}

const PublicSuffixList& PublicSuffixList::shared() {
  static const PublicSuffixList instance;
  return instance;
}

}  // namespace dmarcq
