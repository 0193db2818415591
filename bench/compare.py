#!/usr/bin/python3
"""Compares `onyx bench` with ONNX Runtime (onnxruntime-node) on the models of export_models.py.

For every model and thread count it runs fresh processes, interleaved onyx, "oneDNN only",
ORT, onyx, "oneDNN only", ORT... for --rounds rounds. "onyx" is onyx as it comes (kernels
chosen by measurement, own kernels included); "oneDNN only" is onyx with
ONYX_KERNEL_SELECTION=static and ONYX_OWN_KERNELS=0 (oneDNN's first choice for every node
it takes, the C reference kernels for the rest), which shows what the own kernels and the
measured choice add. Each process reports the median of its timed runs, and the table gives
the median of those per-process medians (likewise for session creation and peak RSS), and
the planned arena as a share of the sum of all intermediate tensor sizes. It
prints a markdown table (and writes it with --out), plus the raw results as JSON in
.work/results/. Only the Python standard library is needed here: torch and onnx are used by
export_models.py, which is run only when a model file is missing.

usage: /usr/bin/python3 bench/compare.py --onyx BUILD/onyx [--rounds 5] [--threads 1,2]
                                         [--models a,b] [--iters 20] [--warmup 3] [--out F.md]
                                         [--no-dnnl-only]
"""
import argparse
import datetime
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_MODELS = ["squeezenet1_1", "resnet18", "mobilenet_v2", "googlenet", "densenet121",
                  "efficientnet_b0", "unet_small", "vit_small"]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def sh(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


def ensure_ort(work):
    """Installs the pinned onnxruntime-node from bench/package.json into work/."""
    want = json.load(open(os.path.join(HERE, "package.json")))["dependencies"]["onnxruntime-node"]
    have_pkg = os.path.join(work, "node_modules", "onnxruntime-node", "package.json")
    if os.path.exists(have_pkg) and json.load(open(have_pkg)).get("version") == want:
        return
    log("installing onnxruntime-node %s into %s" % (want, work))
    os.makedirs(work, exist_ok=True)
    shutil.copy(os.path.join(HERE, "package.json"), os.path.join(work, "package.json"))
    # the npm package carries the CPU binaries; its install script would fetch GPU extras
    env = dict(os.environ, ONNXRUNTIME_NODE_INSTALL="skip")
    r = sh(["npm", "install", "--no-audit", "--no-fund"], cwd=work, env=env)
    if r.returncode != 0:
        sys.exit("npm install failed:\n" + r.stdout + r.stderr)


def ort_version(work):
    try:
        path = os.path.join(work, "node_modules", "onnxruntime-node", "package.json")
        return json.load(open(path)).get("version", "?")
    except (OSError, ValueError):
        return "?"


def ensure_models(models, model_dir):
    missing = [m for m in models if not os.path.exists(os.path.join(model_dir, m + ".onnx"))]
    if not missing:
        return
    log("exporting %s" % ", ".join(missing))
    r = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "export_models.py"), "--out",
                        model_dir, "--only", ",".join(missing)])
    if r.returncode != 0:
        sys.exit("export_models.py failed (needs Debian's python3-torch, python3-torchvision, "
                 "python3-onnx)")


def first_error_line(text):
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    return lines[-1] if lines else "no output"


def run_json(args, env=None):
    """Runs one benchmark process; returns (result dict, None) or (None, why it failed)."""
    try:
        r = sh(args, timeout=900, env=env)
    except subprocess.TimeoutExpired:
        return None, "timed out"
    if r.returncode != 0:
        return None, first_error_line(r.stderr or r.stdout)
    try:
        return json.loads(r.stdout.strip().splitlines()[-1]), None
    except (ValueError, IndexError):
        return None, "unreadable output: " + r.stdout[:200]


def onyx_cmd(a, model, threads):
    return [a.onyx, "bench", "--json", "--threads", str(threads), "--iters", str(a.iters),
            "--warmup", str(a.warmup), model]


def ort_cmd(a, model, threads):
    return ["node", os.path.join(HERE, "ort_bench.js"), "--threads", str(threads), "--iters",
            str(a.iters), "--warmup", str(a.warmup), model]


def machine():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = sh(["git", "-C", REPO, "rev-parse", "--short", "HEAD"]).stdout.strip() or "unknown"
    dirty = sh(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"]).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu": cpu,
            "commit": commit + (" + uncommitted changes" if dirty else ""),
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M")}


def check_idle(limit):
    load1 = os.getloadavg()[0]
    if load1 > limit:
        log("WARNING: load average %.2f > %.2f: the machine is busy, timings will be noisy "
            "and slower than on an idle machine" % (load1, limit))
    return load1


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def geomean(xs):
    xs = [x for x in xs if x > 0 and math.isfinite(x)]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def fmt(x, spec):
    return spec % x if isinstance(x, (int, float)) and math.isfinite(x) else "-"


def table(rows, thread_counts):
    out = ["| model | GFLOP | threads | onyx ms | oneDNN-only ms | ORT ms "
           "| ORT/onyx (>1: onyx faster) | ORT/oneDNN-only | onyx session ms "
           "| oneDNN-only session ms | ORT session ms | arena / intermediates "
           "| onyx peak RSS MB | ORT peak RSS MB |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if r.get("error"):
            out.append("| %s | %s | %d | %s | | | | | | | | | | |" % (
                r["model"], r.get("gflop", "-"), r["threads"], r["error"].replace("|", "/")))
            continue
        out.append("| %s | %.3f | %d | %.2f | %s | %.2f | %.2f | %s | %.1f | %s | %.1f | %s "
                   "| %.0f | %.0f |" % (
            r["model"], r["gflop"], r["threads"], r["onyx_ms"], fmt(r["dnnl_ms"], "%.2f"),
            r["ort_ms"], r["ratio"], fmt(r["dnnl_ratio"], "%.2f"), r["onyx_create_ms"],
            fmt(r["dnnl_create_ms"], "%.1f"), r["ort_create_ms"],
            fmt(100 * r["arena_share"], "%.0f%%"), r["onyx_rss_mb"], r["ort_rss_mb"]))
    def gm_row(label, t, sel):
        picked = [r for r in rows if not r.get("error") and sel(r)]
        g, gd = geomean([r["ratio"] for r in picked]), geomean([r["dnnl_ratio"] for r in picked])
        return "| **%s** (%d models) | | %s | | | | **%s** | **%s** | | | | | | |" % (
            label, len(picked), t, fmt(g, "%.2f"), fmt(gd, "%.2f"))
    for t in thread_counts:
        out.append(gm_row("geomean", t, lambda r, t=t: r["threads"] == t))
    if len(thread_counts) > 1:
        out.append(gm_row("geomean, all", "", lambda r: True))
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--onyx", default=os.path.join(REPO, "build", "onyx"),
                   help="the onyx CLI (default: build/onyx of this repo)")
    p.add_argument("--rounds", type=int, default=5, help="processes per runtime (default 5)")
    p.add_argument("--threads", default="1,2", help="thread counts (default 1,2)")
    p.add_argument("--models", default=",".join(DEFAULT_MODELS))
    p.add_argument("--iters", type=int, default=20, help="timed runs per process (default 20)")
    p.add_argument("--warmup", type=int, default=3, help="untimed runs per process (default 3)")
    p.add_argument("--work", default=os.environ.get("ONYX_BENCH_WORK",
                                                      os.path.join(HERE, ".work")))
    p.add_argument("--max-load", type=float, default=0.5,
                   help="warn when the 1-minute load average exceeds this (default 0.5)")
    p.add_argument("--onyx-env", action="append", default=[], metavar="VAR=VALUE",
                   help="set VAR for the onyx processes only (repeatable), e.g. "
                        "OMP_WAIT_POLICY=passive")
    p.add_argument("--no-dnnl-only", action="store_true",
                   help='skip the "oneDNN only" processes (static selection, no own kernels)')
    p.add_argument("--out", help="also write the report (markdown) to this file")
    a = p.parse_args()
    if a.rounds < 1 or a.iters < 1 or a.warmup < 0:
        p.error("--rounds and --iters must be at least 1, --warmup at least 0")
    threads = [int(t) for t in a.threads.split(",") if t]
    bad = [e for e in a.onyx_env if "=" not in e or e.startswith("=")]
    if bad:
        p.error("--onyx-env needs VAR=VALUE, got %s" % bad[0])
    onyx_env = dict(os.environ, **dict(e.split("=", 1) for e in a.onyx_env))
    # "oneDNN only": the first implementation that accepts each node, own kernels left out
    dnnl_env = dict(onyx_env, ONYX_KERNEL_SELECTION="static", ONYX_OWN_KERNELS="0")
    onyx_env.pop("ONYX_KERNEL_SELECTION", None)  # onyx as it comes: measured selection
    onyx_env.pop("ONYX_OWN_KERNELS", None)
    models = [m for m in a.models.split(",") if m]
    if not os.access(a.onyx, os.X_OK):
        sys.exit("no onyx CLI at %s: build it (cmake -DCMAKE_BUILD_TYPE=Release) or pass --onyx"
                 % a.onyx)
    a.onyx = os.path.abspath(a.onyx)
    os.environ["ONYX_BENCH_WORK"] = a.work  # where ort_bench.js finds onnxruntime-node
    model_dir = os.path.join(a.work, "models")
    ensure_ort(a.work)
    ensure_models(models, model_dir)

    info = machine()
    load_start = check_idle(a.max_load)
    baseline, _ = run_json(["node", os.path.join(HERE, "ort_bench.js"), "--baseline"])
    t_start = time.time()
    rows, raw = [], []
    for name in models:
        path = os.path.join(model_dir, name + ".onnx")
        # one short probe: an unsupported op fails here, and it gives the FLOP count
        probe, why = run_json([a.onyx, "bench", "--json", "--iters", "1", "--warmup", "0", path],
                              onyx_env)
        if probe is None:
            log("%s: onyx fails: %s" % (name, why))
            for t in threads:
                rows.append({"model": name, "threads": t, "error": "onyx fails: " + why})
            continue
        gflop = probe.get("gflop", float("nan"))
        for t in threads:
            check_idle(a.max_load)
            ox, dn, ort, err = [], [], [], None
            sides = [("onyx", onyx_cmd, ox, onyx_env)]
            if not a.no_dnnl_only:
                sides.append(("oneDNN only", onyx_cmd, dn, dnnl_env))
            sides.append(("ORT", ort_cmd, ort, None))
            for rnd in range(a.rounds):
                for side, cmd, acc, env in sides:
                    res, why = run_json(cmd(a, path, t), env)
                    if res is None:
                        err = "%s fails: %s" % (side, why)
                        break
                    acc.append(res)
                    raw.append(dict(res, side=side, round=rnd, name=name))
                if err:
                    break
            if err:
                log("%s, %d threads: %s" % (name, t, err))
                rows.append({"model": name, "threads": t, "gflop": "%.3f" % gflop, "error": err})
                continue
            r = {"model": name, "threads": t, "gflop": gflop,
                 "onyx_ms": med([x["median_ms"] for x in ox]),
                 "ort_ms": med([x["median_ms"] for x in ort]),
                 "onyx_create_ms": med([x["create_ms"] for x in ox]),
                 "ort_create_ms": med([x["create_ms"] for x in ort]),
                 "dnnl_ms": med([x["median_ms"] for x in dn]),
                 "dnnl_create_ms": med([x["create_ms"] for x in dn]),
                 "onyx_rss_mb": med([x["peak_rss_kb"] for x in ox]) / 1024,
                 "ort_rss_mb": med([x["peak_rss_kb"] for x in ort]) / 1024}
            r["ratio"] = r["ort_ms"] / r["onyx_ms"]
            r["dnnl_ratio"] = r["ort_ms"] / r["dnnl_ms"] if dn else float("nan")
            # planned arena against the sum of all intermediates (1 = no sharing at all)
            shares = [x["arena_bytes"] / x["intermediate_bytes"] for x in ox
                      if x.get("intermediate_bytes")]
            r["arena_share"] = med(shares)
            rows.append(r)
            log("%-16s threads %d: onyx %8.2f ms  oneDNN-only %s ms  ORT %8.2f ms  ratio %.2f" % (
                name, t, r["onyx_ms"], fmt(r["dnnl_ms"], "%8.2f"), r["ort_ms"], r["ratio"]))
    load_end = os.getloadavg()[0]
    minutes = (time.time() - t_start) / 60

    cmd = " ".join(["/usr/bin/python3", os.path.relpath(sys.argv[0], REPO)] + sys.argv[1:])
    lines = [
        "Date: %s. Machine: %d CPUs (nproc), %s. onyx commit %s, onnxruntime-node %s." % (
            info["date"], info["nproc"], info["cpu"], info["commit"],
            ort_version(a.work)),
        "Command: `%s` (%d rounds, %d timed runs after %d warm-up runs per process; %.1f min)."
        % (cmd, a.rounds, a.iters, a.warmup, minutes),
        "Load average (1 min): %.2f at the start, %.2f at the end%s." % (
            load_start, load_end,
            " -- NOT idle: timings are noisy" if max(load_start, load_end) > a.max_load else ""),
        "",
        table(rows, threads),
        "",
        "Times are the median over processes of each process's median run; session and RSS "
        "likewise. GFLOP = 2 x multiply-adds of Conv/ConvTranspose/MatMul/Gemm as `onyx bench` "
        "counts them. oneDNN-only = onyx with ONYX_KERNEL_SELECTION=static ONYX_OWN_KERNELS=0. "
        "Arena / intermediates = the planned arena over the sum of all intermediate tensor "
        "sizes (onyx, default settings).",
    ]
    if baseline:
        lines.append("ORT's peak RSS includes Node.js with onnxruntime-node loaded, which alone "
                     "peaks at %.0f MB." % (baseline["peak_rss_kb"] / 1024))
    report = "\n".join(lines)
    print(report)
    os.makedirs(os.path.join(a.work, "results"), exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    with open(os.path.join(a.work, "results", "compare-%s.json" % stamp), "w") as f:
        json.dump({"machine": info, "args": vars(a), "rows": rows, "runs": raw}, f, indent=1)
    if a.out:
        with open(a.out, "w") as f:
            f.write(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
