#!/usr/bin/env bash
# Prints the markdown table of supported ops from the op families' .def files:
# op | opsets (first version onyx implements, up to ONYXI_MAX_OPSET) | ONNX versions implemented.
# The README embeds its output between the markers <!-- ops:begin --> and <!-- ops:end -->;
# the CTest readme_ops_table checks that it is current.
set -euo pipefail
cd "$(dirname "$0")/.."
max=$(sed -n 's/^#define ONYXI_MAX_OPSET \([0-9]*\).*/\1/p' runtime/ir.h)
echo "| op | opsets | ONNX versions implemented |"
echo "| --- | --- | --- |"
sed -n 's/^ONYXI_OP("\([A-Za-z0-9_]*\)", *\([0-9]*\),.*/\1 \2/p' ops/*.def | sort -k1,1 -k2,2n |
  awk -v max="$max" '
    !($1 in v) { v[$1] = $2; lo[$1] = $2; next }
    { v[$1] = v[$1] ", " $2 }
    END { for (op in v) printf "| %s | %s-%s | %s |\n", op, lo[op], max, v[op] }' |
  sort
