// The documented JSON shape of a stored report (README "Export format").
#pragma once

#include <nlohmann/json.hpp>

#include "dmarcq/store.hpp"

namespace dmarcq::cli {

nlohmann::ordered_json report_to_json(const StoredReport& stored);
nlohmann::ordered_json failure_to_json(const StoredFailure& stored);

}  // namespace dmarcq::cli
