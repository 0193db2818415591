#!/usr/bin/python3
"""Survey the ONNX backend test folders against onyx's op table and write the conformance lists.

For every folder in node/, pytorch-converted/, pytorch-operator/ and simple/ of Debian's
libonnx-testdata, reads model.onnx, lists its op types (also those inside If/Loop/Scan bodies)
with the model's opset, and classifies it:

  * supported: every op is in onyx's op table (the first argument of every ONYXI_OP line of
    ops/*.def) with a row whose since_version is <= the model's opset;
  * unsupported: "needs X, Y" (ops missing from the table, ops only in later versions, or ops of
    another domain).

Writes (next to this script):
  all.txt          folders that must pass: all ops supported and not listed in any
                   *_excluded.txt (`folder: reason`) of this directory;
  unsupported.txt  `folder: needs X, Y` for the others.

Run with Debian's interpreter:  /usr/bin/python3 tests/conformance/survey.py
  --check   write nothing; exit 1 when all.txt or unsupported.txt would change.
  -v        print every folder with its ops.
"""

import argparse
import collections
import glob
import os
import re
import sys

import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DATA = "/usr/share/libonnx-testdata/data"
SUITES = ("node", "pytorch-converted", "pytorch-operator", "simple")
DEFAULT_DOMAINS = ("", "ai.onnx")
OP_LINE = re.compile(r'^\s*ONYXI_OP\(\s*"([A-Za-z0-9_]+)"\s*,\s*([0-9]+)\s*,')


def read_op_table(ops_dir):
    """op type -> smallest since_version onyx has a row for."""
    table = {}
    for path in sorted(glob.glob(os.path.join(ops_dir, "*.def"))):
        with open(path) as f:
            for line in f:
                m = OP_LINE.match(line)
                if m:
                    op, since = m.group(1), int(m.group(2))
                    table[op] = min(since, table.get(op, since))
    return table


def read_excluded(conf_dir):
    """folder -> reason, from every *_excluded.txt."""
    excluded = {}
    for path in sorted(glob.glob(os.path.join(conf_dir, "*_excluded.txt"))):
        with open(path) as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                folder, sep, reason = line.partition(":")
                if not sep or not reason.strip():
                    sys.exit(f"{path}:{n}: expected 'folder: reason', got {line!r}")
                excluded[folder.strip()] = reason.strip()
    return excluded


def graph_ops(graph, acc):
    """Adds (domain, op_type) of every node of graph and of its subgraphs to acc."""
    for node in graph.node:
        acc.add((node.domain, node.op_type))
        for a in node.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                graph_ops(a.g, acc)
            elif a.type == onnx.AttributeProto.GRAPHS:
                for g in a.graphs:
                    graph_ops(g, acc)
    return acc


def survey_folder(path, table):
    """Returns (opset, sorted op list, list of missing-op descriptions)."""
    model = onnx.load(os.path.join(path, "model.onnx"), load_external_data=False)
    opsets = {o.domain: o.version for o in model.opset_import}
    opset = opsets.get("", opsets.get("ai.onnx", 1))
    ops = graph_ops(model.graph, set())
    missing = []
    for domain, op in sorted(ops, key=lambda d: (d[1], d[0])):
        if domain not in DEFAULT_DOMAINS:
            missing.append(f"{domain}.{op}")
        elif op not in table:
            missing.append(op)
        elif table[op] > opset:
            missing.append(f"{op} at opset {opset} (onyx has it from {table[op]})")
    names = sorted(op if d in DEFAULT_DOMAINS else f"{d}.{op}" for d, op in ops)
    return opset, names, missing


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if the lists are stale")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--data", default=DATA)
    args = ap.parse_args()

    table = read_op_table(os.path.join(REPO, "ops"))
    excluded = read_excluded(HERE)
    must_pass, unsupported = [], []
    counts = collections.OrderedDict((s, [0, 0, 0, 0]) for s in SUITES)
    missing_hist = collections.Counter()
    for suite in SUITES:
        root = os.path.join(args.data, suite)
        for name in sorted(os.listdir(root)):
            path = os.path.join(root, name)
            if not os.path.isfile(os.path.join(path, "model.onnx")):
                continue
            folder = f"{suite}/{name}"
            opset, ops, missing = survey_folder(path, table)
            c = counts[suite]
            c[0] += 1
            if args.verbose:
                state = "ok" if not missing else "needs " + ", ".join(missing)
                print(f"{folder} (opset {opset}): {' '.join(ops)} -> {state}")
            if missing:
                unsupported.append(f"{folder}: needs {', '.join(missing)}")
                missing_hist.update(m.split(" ")[0] for m in missing)
                c[3] += 1
            elif folder in excluded:
                c[2] += 1
            else:
                must_pass.append(folder)
                c[1] += 1
    stale = [f for f in excluded if not os.path.isdir(os.path.join(args.data, f))]
    for f in stale:
        print(f"warning: excluded folder {f} does not exist", file=sys.stderr)

    outputs = {
        "all.txt": "".join(f + "\n" for f in must_pass),
        "unsupported.txt": "".join(f + "\n" for f in unsupported),
    }
    print(f"{len(table)} op types in ops/*.def, {len(excluded)} excluded folders")
    print(f"{'suite':20} {'folders':>8} {'must pass':>10} {'excluded':>9} {'unsupported':>12}")
    for suite, (n, ok, exc, uns) in counts.items():
        print(f"{suite:20} {n:8} {ok:10} {exc:9} {uns:12}")
    if missing_hist:
        top = ", ".join(f"{op} {n}" for op, n in missing_hist.most_common(25))
        print(f"most wanted: {top}")

    changed = []
    for fname, text in outputs.items():
        path = os.path.join(HERE, fname)
        old = open(path).read() if os.path.exists(path) else None
        if old != text:
            changed.append(fname)
            if not args.check:
                with open(path, "w") as f:
                    f.write(text)
    if args.check:
        if changed:
            print(f"stale: {', '.join(changed)} (run tests/conformance/survey.py)")
            return 1
        print("lists are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
