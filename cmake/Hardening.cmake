# Hardening flags (reports arrive from anyone on the internet).
add_compile_options(-fstack-protector-strong)
if(NOT DMARCQ_SANITIZE)
  # _FORTIFY_SOURCE needs optimisation and clashes with ASan's interceptors.
  add_compile_options($<$<NOT:$<CONFIG:Debug>>:-D_FORTIFY_SOURCE=2>)
endif()
