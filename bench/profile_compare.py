#!/usr/bin/python3
"""Per-layer profile of onyx beside ONNX Runtime's own profile, for one model.

Runs `onyx bench --profile` and `node bench/ort_bench.js --profile` (ORT's enableProfiling) on
the model at the given thread count, then prints markdown: time per run by op type on each
side, and the costliest onyx steps next to the ORT node that computes the same output.
ORT renames what it fuses ("<output>_nchwc", "<node>_token_12"); a step is matched by its
node name or by its output name, else shown with "-" for ORT.

usage: /usr/bin/python3 bench/profile_compare.py --onyx BUILD/onyx MODEL.onnx
                                                 [--threads 1] [--iters 20] [--top 25]
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def run(args, **kw):
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit("%s failed:\n%s%s" % (" ".join(args), r.stdout, r.stderr))
    return r.stdout


def onyx_profile(onyx, model, threads, iters, tmp):
    """{step key: (op, ms per run, names)} from onyx's Chrome trace of the timed runs."""
    path = os.path.join(tmp, "onyx.json")
    run([onyx, "bench", model, "--threads", str(threads), "--iters", str(iters),
         "--profile", path])
    events = json.load(open(path))
    events = events["traceEvents"] if isinstance(events, dict) else events
    runs = {e["args"]["run"] for e in events if e.get("cat") == "run"}
    steps = collections.OrderedDict()
    for e in events:
        if e.get("ph") != "X" or e.get("cat") == "run":
            continue
        a = e.get("args", {})
        key = (e["name"], a.get("step"))
        outs = [o.split(" ")[0] for o in a.get("outputs", [])]
        op = a.get("op", e.get("cat", "?"))
        label = op if a.get("impl") in (None, "dnnl") else "%s (%s)" % (op, a.get("impl"))
        prev = steps.get(key, (label, 0.0, [e["name"]] + outs))
        steps[key] = (label, prev[1] + e["dur"] / 1000.0, prev[2])
    n = max(len(runs), 1)
    return {k: (op, ms / n, names) for k, (op, ms, names) in steps.items()}


def ort_profile(model, threads, iters, tmp):
    """{node name: (op, ms per run)} over ORT's last `iters` runs (the timed ones)."""
    out = run(["node", os.path.join(HERE, "ort_bench.js"), "--threads", str(threads),
               "--iters", str(iters), "--profile", os.path.join(tmp, "ort"),
               os.path.abspath(model)], cwd=tmp)
    info = json.loads(out)
    path = info.get("profile") or ""
    if not os.path.isabs(path):
        path = os.path.join(tmp, path)
    if not os.path.isfile(path):
        found = [f for f in os.listdir(tmp) if f.startswith("ort") and f.endswith(".json")]
        if not found:
            sys.exit("ORT wrote no profile")
        path = os.path.join(tmp, found[0])
    events = json.load(open(path))
    runs = sorted((e["ts"], e["ts"] + e["dur"]) for e in events
                  if e.get("cat") == "Session" and e.get("name") == "model_run")
    runs = runs[-iters:]
    nodes = collections.OrderedDict()
    for e in events:
        if e.get("cat") != "Node" or not e["name"].endswith("_kernel_time"):
            continue
        if not any(lo <= e["ts"] <= hi for lo, hi in runs):
            continue
        name = e["name"][: -len("_kernel_time")]
        op = e.get("args", {}).get("op_name", "?")
        prev = nodes.get(name, (op, 0.0))
        nodes[name] = (op, prev[1] + e["dur"] / 1000.0)
    n = max(len(runs), 1)
    return {k: (op, ms / n) for k, (op, ms) in nodes.items()}, info["median_ms"]


def ort_match(ort, names):
    """The ORT node computing one of `names` (a node or an output name), or None."""
    for nm in names:
        # a fused Conv's output is the last fused node's; ORT keeps the Conv's own output name
        for cand in (nm, nm + "_nchwc", nm + "_output_0", nm + "_output_0_nchwc"):
            if cand in ort:
                return cand
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--onyx", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("model")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        steps = onyx_profile(os.path.abspath(a.onyx), a.model, a.threads, a.iters, tmp)
        ort, ort_median = ort_profile(a.model, a.threads, a.iters, tmp)
    by_op = collections.defaultdict(lambda: [0.0, 0.0])
    for op, ms, _ in steps.values():
        by_op[op][0] += ms
    for op, ms in ort.values():
        by_op[op][1] += ms
    total_onyx = sum(ms for _, ms, _ in steps.values())
    total_ort = sum(ms for _, ms in ort.values())
    print("## %s, %d thread(s): kernels %.2f ms (onyx) vs %.2f ms (ORT; its run median %.2f ms)"
          % (os.path.basename(a.model), a.threads, total_onyx, total_ort, ort_median))
    print()
    print("| op (onyx impl) | onyx ms/run | ORT ms/run |")
    print("|---|---:|---:|")
    for op, (mo, mr) in sorted(by_op.items(), key=lambda kv: -max(kv[1])):
        print("| %s | %s | %s |" % (op, "%.3f" % mo if mo else "-", "%.3f" % mr if mr else "-"))
    print()
    print("| onyx step | op | onyx ms | ORT node | ORT op | ORT ms |")
    print("|---|---|---:|---|---|---:|")
    top = sorted(steps.items(), key=lambda kv: -kv[1][1])[: a.top]
    for (name, _), (op, ms, names) in top:
        m = ort_match(ort, names)
        if m:
            print("| %s | %s | %.3f | %s | %s | %.3f |" % (name, op, ms, m, ort[m][0], ort[m][1]))
        else:
            print("| %s | %s | %.3f | - | - | - |" % (name, op, ms))


if __name__ == "__main__":
    main()
