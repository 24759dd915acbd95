#pragma once

namespace dmarcq::cli {

// Grows the heap once and has the kernel map it in one call: for one MDA
// delivery (`dmarcq ingest` reading stdin), before it reads the message.
// See heap_warmup.cpp for why.
void warm_up_heap() noexcept;

}  // namespace dmarcq::cli
