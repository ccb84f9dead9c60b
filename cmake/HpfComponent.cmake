# hpf_add_component(<folder> SOURCES ... DEPS ...) -> hpf_<folder>, alias hpf::<folder>.
# One library per source folder (its internal/ included); DEPS is the dependency arrow of
# DESIGN.md §2 made executable: schemas <- events <- ledger <- projections <- tools.
function(hpf_add_component name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(hpf_${name} STATIC ${ARG_SOURCES})
  add_library(hpf::${name} ALIAS hpf_${name})
  target_include_directories(hpf_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(hpf_${name} PUBLIC ${ARG_DEPS} PRIVATE hpf_warnings)
endfunction()

# hpf_add_executable(<name> SOURCES ... DEPS ...): a tool or test binary with our warnings.
function(hpf_add_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} hpf_warnings)
endfunction()
