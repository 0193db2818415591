/*
 * Helpers shared by the onyx command-line subcommands: strict argument parsing, the
 * seeded input generator, element access for every numeric dtype, and small output
 * helpers. Everything here uses the public API (onyx.h) only.
 */
#ifndef ONYX_CLI_UTIL_H
#define ONYX_CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "onyx.h"

/* Exit statuses of every subcommand: success, a failure (bad model, failed run or test),
 * a usage error (bad or missing arguments). */
enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };

/* The subcommands: argc/argv start at the subcommand's name (argv[0] = "info", ...).
 * Each returns an exit status. */
int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_test(int argc, char **argv);
int cmd_bench(int argc, char **argv);

/* Prints "onyx CMD: <message>\n" to stderr (printf-style). */
void cli_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* True when arg is "-h" or "--help". */
int cli_is_help(const char *arg);

/* Matches the option `name` ("--iters") at argv[*i], in either form "--iters 5" or
 * "--iters=5". Returns 1 and sets *val (and advances *i past a separate value) on a
 * match, 0 when argv[*i] is another argument, -1 (after printing an error for cmd) when
 * the option is there but its value is missing. */
int cli_opt_value(const char *cmd, int argc, char **argv, int *i, const char *name,
                  const char **val);

/* Strict decimal integer in [lo, hi]: no sign tricks, no trailing characters, no overflow.
 * Prints an error naming opt and returns -1 on failure, 0 on success. */
int cli_parse_long(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out);
/* Same for an unsigned 64-bit number (seeds). */
int cli_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t *out);
/* Finite, non-negative floating-point number (tolerances). */
int cli_parse_tolerance(const char *cmd, const char *opt, const char *s, double *out);
/* "auto" or "ref" ("reference" accepted too). */
int cli_parse_backend(const char *cmd, const char *s, onyx_backend *out);
/* "static" or "measure" (--select). */
int cli_parse_selection(const char *cmd, const char *s, int *out);

/* The arguments `run` and `bench` share: MODEL and the options that choose its inputs and
 * kernels. */
typedef struct cli_model_args {
    const char *path;   /* MODEL (NULL until given) */
    const char **specs; /* --input values ("NAME=FILE", .pb or .npy); owned (free) */
    int n_specs;
    long threads;         /* --threads (default 0: the library's choice) */
    onyx_backend backend; /* --backend (default auto) */
    uint64_t seed;        /* --seed of the random inputs (default 1) */
    int select;           /* --select: an onyx_kernel_selection, -1 = the library's default */
} cli_model_args;

/* Sets a's defaults and makes room for up to argc --input values. Returns 0 (free a->specs
 * when done), or -1 after printing an error for cmd (out of memory; nothing to free). */
int cli_model_args_init(const char *cmd, int argc, cli_model_args *a);

/* Takes argv[*i] as --input, --threads, --backend, --select, --seed (advancing *i past a separate
 * value) or as MODEL. Returns 0, or -1 after printing an error for cmd: a missing or bad
 * value, an unknown option (then usage(stderr) too) or a second MODEL. */
int cli_model_arg(const char *cmd, int argc, char **argv, int *i, cli_model_args *a,
                  void (*usage)(FILE *));

/* After the last argument: 0 when MODEL was given, else -1 after printing an error for cmd
 * and usage(stderr). */
int cli_model_args_done(const char *cmd, const cli_model_args *a, void (*usage)(FILE *));

/* Creates options for threads (0 = default) and backend. Returns 0, or -1 after printing
 * an error. *out owned by the caller (onyx_options_free). */
int cli_make_options(const char *cmd, int threads, onyx_backend backend, onyx_options **out);

/* Sets o's kernel selection to select (an onyx_kernel_selection; -1 leaves the default).
 * Returns 0, or -1 after printing an error. */
int cli_set_selection(const char *cmd, onyx_options *o, int select);

/* Loads a model (a folder stands for the model.onnx in it); on failure prints
 * "onyx CMD: cannot load PATH: <message>", frees the failed handle and returns NULL. */
onyx_model *cli_load_model(const char *cmd, const char *path, unsigned flags);

/* splitmix64: small, seedable and the same on every platform, so `--seed` reproduces. */
uint64_t cli_rand_next(uint64_t *state);

/* Input data made for a declared input: the concrete shape (symbolic dims taken as 1)
 * and a malloc'd buffer. */
typedef struct cli_buffer {
    onyx_dtype dtype;
    int rank;
    int64_t dims[16];
    void *data; /* owned (free) */
    size_t nbytes;
} cli_buffer;

/* Fills b for declaration decl: random values from *rng when rng is not NULL (float types
 * uniform in [-1,1), integer types in [0,4), bool 0/1), zeros otherwise. Sets *symbolic
 * when a dim was symbolic. Returns 0, or -1 with a message in err. */
int cli_make_input(const onyx_tensor *decl, uint64_t *rng, cli_buffer *b, int *symbolic, char *err,
                   size_t errlen);

/* Binds tensor t (its dtype, shape and data) as input i of s. Returns the API's status
 * (ONYX_INVALID_ARG for a rank above 16). */
onyx_status cli_bind_tensor(onyx_session *s, int i, const onyx_tensor *t);

/* The inputs bound to a session by cli_bind_inputs; they must outlive the runs. */
typedef struct cli_inputs {
    int n;
    cli_buffer *bufs;    /* owned: generated data (data NULL where a file was given) */
    onyx_tensor **files; /* owned: tensors loaded from --input files (NULL where generated) */
    int symbolic;        /* a generated input had a symbolic dim (taken as 1) */
} cli_inputs;

/* Binds every input of session s (model m): input i comes from the .pb/.npy file given for
 * its name (specs[k] = "NAME=FILE", n_specs of them), else is random data from seed.
 * Returns 0, or -1 after printing an error for cmd. Free *in with cli_inputs_free in
 * both cases. */
int cli_bind_inputs(const char *cmd, onyx_model *m, onyx_session *s, const char *const *specs,
                    int n_specs, uint64_t seed, cli_inputs *in);
void cli_inputs_free(cli_inputs *in);

/* True for dtypes whose elements cli_get_double can read. */
int cli_dtype_is_numeric(onyx_dtype dt);
/* True for float32/float64/float16/bfloat16. */
int cli_dtype_is_float(onyx_dtype dt);
/* Element i of data (dtype dt) as a double. REQUIRES: cli_dtype_is_numeric(dt). */
double cli_get_double(onyx_dtype dt, const void *data, size_t i);

/* Writes "[d0, d1, ?]" for t's shape into buf. */
void cli_format_shape(const onyx_tensor *t, char *buf, size_t len);

/* Monotonic time in seconds. */
double cli_now(void);

/* Joins a and b with '/' into a new malloc'd string (NULL when out of memory). */
char *cli_path_join(const char *a, const char *b);
/* 1 when path is an existing directory / regular file. */
int cli_is_dir(const char *path);
int cli_is_file(const char *path);
/* Creates dir (and missing parents). Returns 0, or -1 with errno set. */
int cli_mkdirs(const char *dir);

#endif
