# Third-party libraries linked from the static archives Debian ships (issue 7,
# MDA mode). A delivery runs `dmarcq ingest < message` once per message, so
# process start-up is part of every delivery: with the shared libraries the
# dynamic loader mapped and relocated ~24 of them (libarchive alone drags in
# libxml2, ICU, acl, lzma, zstd, lz4 and bz2) before main(). Linking the .a
# pulls in only the objects dmarcq calls: for libarchive the zip and raw
# format readers and the gzip filter, which need zlib, lzma, zstd, bz2 (zip
# methods) and nettle (zip encryption), and no libxml2/ICU at all.
#
# Each stage links `dmarcq::<name>` (never the library's own target), which is
# either the static archive with its dependencies or, when
# DMARCQ_STATIC_DEPS=OFF or an archive is missing, the shared library as before.
option(DMARCQ_STATIC_DEPS
       "Link libarchive, SQLite, libpsl, mimetic, pugixml, nettle and zlib from their .a (faster start)"
       ON)
# Once those are static, only libfmt (no .a in Debian) still needs libstdc++.so
# and libgcc_s.so: fmt header-only plus -static-libstdc++ -static-libgcc leave
# libc and libm. Costs ~3 s more compile time per file that includes fmt.
# Not with sanitizers: a static libstdc++'s operator new would shadow ASan's.
include(CMakeDependentOption)
cmake_dependent_option(DMARCQ_STATIC_RUNTIME
  "fmt header-only, libstdc++ and libgcc linked statically into dmarcq (needs DMARCQ_STATIC_DEPS)" ON
  "DMARCQ_STATIC_DEPS;NOT DMARCQ_SANITIZE;NOT DMARCQ_FUZZ" OFF)

# The static archive `lib<name>.a` in DMARCQ_STATIC_<NAME> (cached), or empty.
function(dmarcq_find_archive name out)
  string(TOUPPER "${name}" upper)
  string(MAKE_C_IDENTIFIER "${upper}" upper)
  find_library(DMARCQ_STATIC_${upper} NAMES lib${name}.a)
  if(DMARCQ_STATIC_${upper})
    set(${out} ${DMARCQ_STATIC_${upper}} PARENT_SCOPE)
  else()
    set(${out} "" PARENT_SCOPE)
  endif()
endfunction()

# dmarcq_dependency(<name> SHARED <target> [ARCHIVES <lib>...] [STATIC_DEPS <dep>...]
#                   [SHARED_DEPS <lib>...])
# Defines dmarcq::<name>. ARCHIVES are linked statically (the first one is the
# library itself, the others its dependencies); STATIC_DEPS are other
# dmarcq::<name> targets; SHARED_DEPS are linked as shared libraries (-l).
# Headers and compile definitions always come from the SHARED target.
function(dmarcq_dependency name)
  cmake_parse_arguments(D "" "SHARED" "ARCHIVES;STATIC_DEPS;SHARED_DEPS" ${ARGN})
  add_library(dmarcq_dep_${name} INTERFACE)
  add_library(dmarcq::${name} ALIAS dmarcq_dep_${name})
  set(archives)
  set(found ${DMARCQ_STATIC_DEPS})
  if(found)
    foreach(lib ${D_ARCHIVES})
      dmarcq_find_archive(${lib} path)
      if(NOT path)
        set(found OFF)
        break()
      endif()
      list(APPEND archives ${path})
    endforeach()
    foreach(lib ${D_SHARED_DEPS})
      string(MAKE_C_IDENTIFIER "DMARCQ_SHARED_${lib}" var)
      find_library(${var} NAMES ${lib})
      if(NOT ${var})
        set(found OFF)
        break()
      endif()
    endforeach()
  endif()
  if(found)
    foreach(property INTERFACE_INCLUDE_DIRECTORIES INTERFACE_COMPILE_DEFINITIONS)
      get_target_property(value ${D_SHARED} ${property})
      if(value)
        set_property(TARGET dmarcq_dep_${name} APPEND PROPERTY ${property} ${value})
      endif()
    endforeach()
    target_link_libraries(dmarcq_dep_${name} INTERFACE ${archives} ${D_STATIC_DEPS} ${D_SHARED_DEPS})
    set(how "static")
  else()
    target_link_libraries(dmarcq_dep_${name} INTERFACE ${D_SHARED})
    set(how "shared")
  endif()
  set(DMARCQ_DEPENDENCY_${name} ${how} PARENT_SCOPE)
  message(STATUS "dmarcq: ${name}: ${how}")
endfunction()

dmarcq_dependency(zlib SHARED ZLIB::ZLIB ARCHIVES z)
dmarcq_dependency(nettle SHARED PkgConfig::NETTLE ARCHIVES nettle)
dmarcq_dependency(sqlite3 SHARED SQLite::SQLite3 ARCHIVES sqlite3 SHARED_DEPS m)
dmarcq_dependency(pugixml SHARED pugixml::pugixml ARCHIVES pugixml)
dmarcq_dependency(mimetic SHARED mimetic::mimetic ARCHIVES mimetic)
# libpsl's one object also holds its IDNA conversion (psl_str_to_utf8lower),
# hence libidn2 and libunistring (libunistring-dev ships the .a).
dmarcq_dependency(psl SHARED PkgConfig::PSL ARCHIVES psl idn2 unistring)
# libarchive's zip reader decompresses deflate (zlib), bzip2, lzma/xz and zstd
# members and decrypts with nettle; none of the other readers are linked.
dmarcq_dependency(archive SHARED LibArchive::LibArchive ARCHIVES archive lzma zstd bz2
                  STATIC_DEPS dmarcq::zlib dmarcq::nettle)

# fmt for every module; dmarcq_runtime for the dmarcq executable.
add_library(dmarcq_dep_fmt INTERFACE)
add_library(dmarcq::fmt ALIAS dmarcq_dep_fmt)
add_library(dmarcq_runtime INTERFACE)
# A shared C++ library (a fallback above) would bring libstdc++.so back beside
# the static copy: then the runtime stays shared too.
if(DMARCQ_STATIC_RUNTIME AND NOT (DMARCQ_DEPENDENCY_mimetic STREQUAL "static"
                                  AND DMARCQ_DEPENDENCY_pugixml STREQUAL "static"))
  message(STATUS "dmarcq: mimetic or pugixml is shared: libstdc++ stays shared")
  set(DMARCQ_STATIC_RUNTIME OFF)
endif()
if(DMARCQ_STATIC_RUNTIME)
  target_link_libraries(dmarcq_dep_fmt INTERFACE fmt::fmt-header-only)
  target_link_options(dmarcq_runtime INTERFACE -static-libstdc++ -static-libgcc)
  message(STATUS "dmarcq: fmt header-only, static libstdc++ and libgcc")
else()
  target_link_libraries(dmarcq_dep_fmt INTERFACE fmt::fmt)
endif()
