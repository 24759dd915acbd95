#include <libpsl.h>

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

const PublicSuffixList& PublicSuffixList::shared() {
  static const PublicSuffixList instance;
  return instance;
}

}  // namespace dmarcq
