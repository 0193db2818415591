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
  # Sessions of fuzzed models may plan at most 16 MiB: huge shapes must fail cleanly, and
  # legitimate work stays small enough for the per-input time limit under the sanitizers
  # (a 4.7M-element cubic resize, 36 ms in a release build, took 13 s instrumented).
  target_compile_definitions(fuzz_${target} PRIVATE ONYX_FUZZ_MEMORY_LIMIT=16777216)
endforeach()
