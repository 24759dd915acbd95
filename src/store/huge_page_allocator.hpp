// An allocator for the large arrays a query reads in random order (the
// per-source sums: 55 MB for a month, 110 MB for a year). Above 2 MB it maps
// memory the kernel may back with 2 MB pages (madvise(MADV_HUGEPAGE); with
// transparent huge pages in "madvise" mode nothing else gets them): the
// random reads then miss the TLB far less. Below that, or where the kernel
// says no, it is plain memory.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <new>

namespace dmarcq::store {

template <typename T>
struct HugePageAllocator {
  using value_type = T;
  static constexpr std::size_t kHugePage = std::size_t{2} << 20;

  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}  // NOLINT: rebinding

  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kHugePage) return static_cast<T*>(::operator new(bytes));
    void* memory = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) throw std::bad_alloc();
    ::madvise(memory, bytes, MADV_HUGEPAGE);  // a hint: refused, the memory still works
    return static_cast<T*>(memory);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kHugePage) ::operator delete(p);
    else ::munmap(p, bytes);
  }
  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const noexcept { return true; }
};

}  // namespace dmarcq::store
