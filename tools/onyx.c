/*
 * onyx: the command-line front end of the runtime. This file only dispatches to the
 * subcommands (cmd_*.c) and prints the top-level usage and version. The program is a
 * plain user of the public API in onyx.h, linked against the shared library.
 */
#include <stdio.h>
#include <string.h>

#include "cli_util.h"

static void usage(FILE *f) {
    fprintf(f, "usage: onyx <command> [options]\n"
               "\n"
               "commands:\n"
               "  info MODEL        describe a model: inputs, outputs, ops, weights, memory\n"
               "  run MODEL         run a model once on given or random inputs\n"
               "  test PATH...      run ONNX backend test folders and compare the outputs\n"
               "  bench MODEL       time loading, session creation and runs\n"
               "\n"
               "options:\n"
               "  -h, --help        show this help (also: onyx <command> --help)\n"
               "  --version         show the version of the program and of the library\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (cli_is_help(cmd) || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("onyx %s (library %s)\n", ONYX_VERSION, onyx_version());
        /* a CLI built against one header but run with another library is worth flagging */
        if (onyx_version_number() != ONYX_VERSION_NUMBER)
            fprintf(stderr, "onyx: warning: built for library %s, running with %s\n", ONYX_VERSION,
                    onyx_version());
        return CLI_EXIT_OK;
    }
    if (strcmp(cmd, "info") == 0) return cmd_info(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0) return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "test") == 0) return cmd_test(argc - 1, argv + 1);
    if (strcmp(cmd, "bench") == 0) return cmd_bench(argc - 1, argv + 1);
    fprintf(stderr, "onyx: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return CLI_EXIT_USAGE;
}
