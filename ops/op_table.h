/*
 * The op table's contents: one .def file per op family, each a list of
 * ONYXI_OP(op_type, since_version, min_inputs, max_inputs, min_outputs, max_outputs, o, flags)
 * lines, where o names the family's exports onyxi_<o>_{attrs,check,infer,impls}.
 * Included twice with different ONYXI_OP definitions: by ops.h for the declarations and by
 * registry.c for the table rows, so adding an op version is one line in its family's file.
 * No include guard on purpose.
 */
#include "concat.def"
#include "constant.def"
#include "conv.def"
#include "conv_transpose.def"
#include "data_ops.def"
#include "elementwise.def"
#include "gemm.def"
#include "loss.def"
#include "math.def"
#include "matmul.def"
#include "misc.def"
#include "norm.def"
#include "pool.def"
#include "reduce.def"
#include "resize.def"
#include "shape_ops.def"
#include "softmax.def"
