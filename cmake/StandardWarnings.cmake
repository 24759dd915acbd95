# Warnings for dmarcq's own targets. -Werror is on by default: a warning is a bug
# report we have not read yet. DMARCQ_WERROR=OFF for exotic compilers.
option(DMARCQ_WERROR "Treat warnings as errors" ON)

add_library(dmarcq_warnings INTERFACE)
target_compile_options(dmarcq_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
  -Wimplicit-fallthrough -Wformat=2
  $<$<BOOL:${DMARCQ_WERROR}>:-Werror>)
