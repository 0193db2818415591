/*
 * Plain bytes of a model's large constant weights, released while no plan reads them.
 *
 * Kernels that pack a constant into the model's weight cache (weights.h; e.g. convolution
 * weights reordered into oneDNN's blocked layout) never read its plain bytes again, so once
 * every node that reads a constant has been seen packing it, a model loaded from a file
 * gives the plain copy's pages back to the OS (madvise) instead of holding every weight
 * twice. The block keeps its address: the bytes are read again from the still-open model
 * file, in place, whenever something needs them:
 *  - a weight-cache fill for a node (a packing a later plan has not seen before);
 *  - a plan whose chosen kernel reads the constant when it runs (the reference backend,
 *    a kernel that does not pack): the plan holds the bytes until it is released;
 *  - onyx_tensor_data() on a view of the initializer (it then stays for the model's life).
 A constant read by a node that is not a kernel step (folded at plan time) is never
 * released, nor are graph outputs, small constants (below ONYXI_CONSTS_MIN_BYTES), ones built
 * by graph passes, and the weights of models loaded from memory (nothing to read them back
 * from).
 *
 * Contract for kernels (ops/op.h, onyxi_exec.packed_inputs): a kernel's init may read a
 * constant input's bytes only inside a weight-cache fill, and marks in packed_inputs the
 * constant inputs its run() never reads; the op's infer never reads the data of an input
 * that a kernel packs (infer reads shape tensors). Thread-safe: one mutex per model; a
 * re-read happens under it, while no plan holds the bytes for a run.
 */
#ifndef ONYXI_CONSTS_H
#define ONYXI_CONSTS_H

#include "../onnx/loader.h"
#include "error.h"
#include "ir.h"

/* Constants smaller than this stay resident: a few pages are not worth a re-read. */
#define ONYXI_CONSTS_MIN_BYTES (16 * 1024)

typedef struct onyxi_consts onyxi_consts;

/* Links every initializer of g that can be read again: still the block the loader read from
 * a file in src, at least ONYXI_CONSTS_MIN_BYTES, not a graph output. Takes over src's open
 * files (src is left empty; files no constant needs are closed) and sets info.constant of the
 * linked values. Initializers nothing reads are released right away. *out is NULL (ONYX_OK)
 * when nothing qualifies. ONYX_NOMEM. */
onyx_status onyxi_consts_create(onyxi_graph *g, onyxi_sources *src, onyxi_consts **out,
                                onyxi_err *e);
/* Closes the files. The bytes belong to the graph. NULL ok. */
void onyxi_consts_free(onyxi_consts *c);

/* Around a weight-cache fill for node (an onyxi_node of c's graph; anything else is
 * ignored): brings the node's released constant inputs back and holds them until
 * onyxi_consts_release_node. ONYX_IO when the file changed since loading, ONYX_NOMEM.
 * c NULL is a no-op. */
onyx_status onyxi_consts_hold_node(onyxi_consts *c, const void *node, onyxi_err *e);
void onyxi_consts_release_node(onyxi_consts *c, const void *node);

/* Around choosing the kernel of node n in a plan (plan: any pointer naming the plan, e.g. the
 * session). step_begin keeps n's constants from being released meanwhile without reading
 * released ones back (a cached packing may serve); step_end is always called after it:
 * chosen says whether a kernel was chosen, packed is its exec's packed_inputs. Constant
 * inputs the kernel does not pack are brought back and held for the plan; the others may be
 * released. ONYX_IO / ONYX_NOMEM (the plan then fails and is released). c NULL: no-op. */
void onyxi_consts_step_begin(onyxi_consts *c, const onyxi_node *n);
onyx_status onyxi_consts_step_end(onyxi_consts *c, const void *plan, const onyxi_node *n,
                                  int chosen, unsigned packed, onyxi_err *e);
/* Drops everything plan holds (releasing what nobody else needs). c NULL: no-op. */
void onyxi_consts_plan_release(onyxi_consts *c, const void *plan);

/* The bytes of the initializer behind a view (onyx_tensor.constant), brought back if released
 * and kept for the model's life; NULL when they cannot be read again. */
const void *onyxi_const_data(const struct onyxi_const *k);

typedef struct onyxi_consts_stats {
    int linked;   /* constants that can be released */
    int released; /* of those, released now */
    size_t linked_bytes, released_bytes;
    long rereads; /* times released bytes were read back */
    size_t reread_bytes;
} onyxi_consts_stats;

/* Counters for tests and logs (all zero for NULL). */
void onyxi_consts_get_stats(onyxi_consts *c, onyxi_consts_stats *st);

#endif
