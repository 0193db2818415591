# libFuzzer targets, built only with -DONYX_FUZZ=ON and clang:
#   cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DONYX_FUZZ=ON && cmake --build build-fuzz
# The whole library is instrumented (fuzzer coverage + ASan + UBSan); fuzz/run.sh runs them.
if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "ONYX_FUZZ needs clang (libFuzzer): -DCMAKE_C_COMPILER=clang")
endif()
foreach(target load run tensor)
  add_executable(fuzz_${target} ${CMAKE_SOURCE_DIR}/fuzz/fuzz_${target}.c)
  target_link_libraries(fuzz_${target} PRIVATE onyx_static)
  target_link_options(fuzz_${target} PRIVATE -fsanitize=fuzzer)
  # sessions of fuzzed models may plan at most 64 MiB: huge shapes must fail, not swap
  target_compile_definitions(fuzz_${target} PRIVATE ONYX_FUZZ_MEMORY_LIMIT=67108864)
endforeach()
