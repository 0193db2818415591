# Runs protoc-c at build time on Debian's onnx.proto (libonnx-dev). The generated
# onnx.pb-c.{c,h} live in the build tree only; they are never committed.
set(ONYX_PROTO_DIR ${CMAKE_BINARY_DIR}/proto)
file(MAKE_DIRECTORY ${ONYX_PROTO_DIR})
get_filename_component(_onyx_proto_dir ${ONYX_ONNX_PROTO} DIRECTORY)
add_custom_command(
  OUTPUT ${ONYX_PROTO_DIR}/onnx.pb-c.c ${ONYX_PROTO_DIR}/onnx.pb-c.h
  COMMAND ${PROTOC_C} --c_out=${ONYX_PROTO_DIR} --proto_path=${_onyx_proto_dir} ${ONYX_ONNX_PROTO}
  DEPENDS ${ONYX_ONNX_PROTO}
  COMMENT "protoc-c: generating onnx.pb-c.{c,h} from ${ONYX_ONNX_PROTO}")
set(ONYX_PROTO_SOURCES ${ONYX_PROTO_DIR}/onnx.pb-c.c)
