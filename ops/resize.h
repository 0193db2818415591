/*
 * Resize attributes and geometry shared by the reference (resize.c) and oneDNN
 * (resize_dnnl.c) kernels.
 */
#ifndef ONYXI_RESIZE_H
#define ONYXI_RESIZE_H

#include "op.h"

enum { MODE_NEAREST, MODE_LINEAR, MODE_CUBIC };
enum {
    CT_HALF_PIXEL,
    CT_HALF_PIXEL_SYMMETRIC,
    CT_PYTORCH_HALF_PIXEL,
    CT_ALIGN_CORNERS,
    CT_ASYMMETRIC,
    CT_TF_HALF_PIXEL_FOR_NN,
    CT_TF_CROP_AND_RESIZE,
};
enum { NM_ROUND_PREFER_FLOOR, NM_ROUND_PREFER_CEIL, NM_FLOOR, NM_CEIL, NM_OPSET10 };
enum { KEEP_STRETCH, KEEP_NOT_LARGER, KEEP_NOT_SMALLER };

/* Attribute values of one node, parsed and validated. */
typedef struct resize_params {
    int ver; /* since_version of the registry entry the node resolves to */
    int mode, ctm, nearest, keep;
    int exclude_outside, antialias;
    double cubic_a;
    float extrapolation;
} resize_params;

/* Shapes and per-axis scales, shared by infer and init. */
typedef struct resize_geom {
    int rank;
    int64_t in[ONYXI_MAX_RANK], out[ONYXI_MAX_RANK];
    /* coordinate scale: the given float32 scale, or out/in from sizes */
    double scale[ONYXI_MAX_RANK];
    /* scale * in: the reference's (possibly fractional) output width */
    double out_w[ONYXI_MAX_RANK];
    int naxes;
    int axes[ONYXI_MAX_RANK]; /* resized axes in `axes` attribute order (0..rank-1 without it) */
} resize_geom;

/* The node's attributes, validated. */
onyx_status onyxi_resize_params(const onyxi_node *n, resize_params *p, onyxi_err *e);
/* Output shape and per-axis scales from the inputs, whose scales/sizes data is at hand. */
onyx_status onyxi_resize_geometry(const onyxi_node *n, const resize_params *p,
                                  const onyx_tensor *const *in, int n_in, resize_geom *g,
                                  onyxi_err *e);

/* The oneDNN implementation (resize_dnnl.c). */
extern const onyxi_impl onyxi_resize_dnnl;

#endif
