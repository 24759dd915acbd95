#pragma once

#include <string_view>
#include <vector>

namespace dmarcq::store {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// Every schema/NNN_*.sql file, in order (generated at build time).
const std::vector<Migration>& migrations();

}  // namespace dmarcq::store
