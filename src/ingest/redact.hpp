// --redact for failure reports (personal data).
#pragma once

#include "dmarcq/failure_model.hpp"

namespace dmarcq {

// Redacts every field of a failure report that may hold an address.
void redact_failure_report(FailureReport& report);

}  // namespace dmarcq
