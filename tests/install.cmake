# Installs the build tree to a fresh prefix and builds a consumer program against it three
# ways: pkg-config (shared library), find_package(onyx) with onyx::onyx and with
# onyx::onyx_static; runs each, and the installed CLI. Also checks the installed files and
# the shared library's soname.
# -DBUILD_DIR= -DWORK= (scratch folder) -DSRC= (tests/install_consumer) -DMODEL=
# -DCC= -DEXTRA_FLAGS= (sanitizer flags of the build, as a ;-list)
file(REMOVE_RECURSE ${WORK})
set(prefix ${WORK}/prefix)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${cmd}\n${out}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

# libdir: lib, or lib/<multiarch> when configured for /usr
file(GLOB_RECURSE pcs ${prefix}/*/onyx.pc)
list(LENGTH pcs n)
if(NOT n EQUAL 1)
  message(FATAL_ERROR "expected one onyx.pc under ${prefix}, found: ${pcs}")
endif()
get_filename_component(pcdir ${pcs} DIRECTORY)
get_filename_component(libdir ${pcdir} DIRECTORY)
foreach(f ${prefix}/include/onyx.h ${prefix}/bin/onyx ${libdir}/libonyx.a ${libdir}/libonyx.so
          ${libdir}/libonyx.so.0 ${libdir}/cmake/onyx/onyxConfig.cmake
          ${libdir}/cmake/onyx/onyxConfigVersion.cmake)
  if(NOT EXISTS ${f})
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()
file(GLOB sofiles ${libdir}/libonyx.so.0.*)
if(NOT sofiles)
  message(FATAL_ERROR "no versioned libonyx.so.0.x.y in ${libdir}")
endif()
run(objdump -p ${libdir}/libonyx.so)
if(NOT out MATCHES "SONAME +libonyx\\.so\\.0\n")
  message(FATAL_ERROR "libonyx.so has no soname libonyx.so.0:\n${out}")
endif()

# the installed CLI finds the installed library through its RUNPATH
run(${prefix}/bin/onyx --version)
if(NOT out MATCHES "^onyx [0-9]+\\.[0-9]+\\.[0-9]+ \\(library [0-9.]+\\)")
  message(FATAL_ERROR "unexpected onyx --version output: ${out}")
endif()

# 1. pkg-config
run(${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${pcdir} pkg-config --cflags --libs onyx)
string(STRIP "${out}" flags)
separate_arguments(flags UNIX_COMMAND "${flags}")
run(${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${pcdir} pkg-config --modversion onyx)
string(STRIP "${out}" version)
run(${CC} ${EXTRA_FLAGS} ${SRC}/consumer.c -o ${WORK}/consumer_pc ${flags} -Wl,-rpath,${libdir})
run(${WORK}/consumer_pc ${MODEL})
if(NOT out MATCHES "consumer ok: onyx ${version}, output \\[2, 3\\]")
  message(FATAL_ERROR "pkg-config consumer: ${out}")
endif()
message(STATUS "pkg-config consumer: ${out}")

# 2. find_package(onyx): shared and static
string(REPLACE ";" " " cflags "${EXTRA_FLAGS}")
run(${CMAKE_COMMAND} -S ${SRC} -B ${WORK}/consumer-build -DCMAKE_PREFIX_PATH=${prefix}
    -DCMAKE_C_COMPILER=${CC} -DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_FLAGS=${cflags}"
    "-DCMAKE_EXE_LINKER_FLAGS=${cflags}")
run(${CMAKE_COMMAND} --build ${WORK}/consumer-build)
foreach(kind shared static)
  run(${WORK}/consumer-build/consumer_${kind} ${MODEL})
  if(NOT out MATCHES "consumer ok: onyx ${version}, output \\[2, 3\\]")
    message(FATAL_ERROR "find_package consumer (${kind}): ${out}")
  endif()
  message(STATUS "find_package consumer (${kind}): ${out}")
endforeach()
file(REMOVE_RECURSE ${WORK})
