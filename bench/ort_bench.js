#!/usr/bin/env node
/*
 * ONNX Runtime side of onyx's benchmarks: loads one model on the CPU provider with
 * --threads intra-op threads (inter-op 1, all graph optimizations), feeds seeded random
 * inputs, runs --warmup untimed runs and --iters timed ones, and prints one JSON object:
 * median/min/mean ms per run, session creation ms and peak RSS (process.resourceUsage().maxRSS).
 *
 * With --profile PREFIX, ORT's own profiler (enableProfiling) records the timed runs and
 * writes PREFIX_<date>.json (a Chrome trace of per-node kernel times; its path is printed as
 * "profile" in the JSON); bench/profile_compare.py puts it beside onyx's profile.
 *
 * usage: node bench/ort_bench.js [--threads N] [--iters N] [--warmup N] [--seed S]
 *                                [--profile PREFIX] MODEL
 *        node bench/ort_bench.js --baseline   (peak RSS of Node.js with onnxruntime-node loaded)
 * onnxruntime-node is looked up in $ONYX_BENCH_WORK/node_modules (default bench/.work).
 */
'use strict';
const path = require('path');

function usage(code) {
    (code ? process.stderr : process.stdout).write(
        'usage: node ort_bench.js [--threads N] [--iters N] [--warmup N] [--seed S]\n' +
        '                         [--profile PREFIX] MODEL\n' +
        '       node ort_bench.js --baseline\n');
    process.exit(code);
}

function parseArgs(argv) {
    const a = { threads: 1, iters: 10, warmup: 2, seed: 1, model: null, baseline: false,
                profile: null };
    for (let i = 0; i < argv.length; i++) {
        const k = argv[i];
        if (k === '-h' || k === '--help') usage(0);
        if (k === '--baseline') {
            a.baseline = true;
            continue;
        }
        if (k === '--profile') {
            a.profile = argv[++i];
            if (!a.profile) usage(2);
            continue;
        }
        const key = { '--threads': 'threads', '--iters': 'iters', '--warmup': 'warmup',
                      '--seed': 'seed' }[k];
        if (key) {
            const v = argv[++i];
            if (v === undefined || !/^[0-9]+$/.test(v)) {
                process.stderr.write(`ort_bench: ${k} needs a non-negative integer, got ${v}\n`);
                process.exit(2);
            }
            a[key] = Number(v);
        } else if (!a.model && !k.startsWith('-')) {
            a.model = k;
        } else {
            process.stderr.write(`ort_bench: unexpected argument '${k}'\n`);
            usage(2);
        }
    }
    if ((!a.model && !a.baseline) || a.iters < 1) usage(2);
    return a;
}

/* mulberry32: small, seedable, so inputs are the same in every process */
function rng(seed) {
    let s = seed >>> 0;
    return () => {
        s = (s + 0x6d2b79f5) >>> 0;
        let t = s;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

function median(xs) {
    const s = [...xs].sort((x, y) => x - y), n = s.length;
    return n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

/* A random tensor for input `name` (symbolic dims taken as 1, as `onyx bench` does). */
function makeInput(ort, meta, next) {
    const dims = (meta.shape || []).map((d) => (typeof d === 'number' && d > 0 ? d : 1));
    const n = dims.reduce((p, d) => p * d, 1);
    switch (meta.type) {
    case 'float32': {
        const x = new Float32Array(n);
        for (let i = 0; i < n; i++) x[i] = 2 * next() - 1;
        return new ort.Tensor('float32', x, dims);
    }
    case 'int64': {
        const x = new BigInt64Array(n);
        for (let i = 0; i < n; i++) x[i] = BigInt(Math.floor(next() * 10));
        return new ort.Tensor('int64', x, dims);
    }
    default:
        throw new Error(`input '${meta.name}': unsupported type ${meta.type}`);
    }
}

async function main() {
    const a = parseArgs(process.argv.slice(2));
    const work = process.env.ONYX_BENCH_WORK || path.join(__dirname, '.work');
    const ort = require(path.join(work, 'node_modules', 'onnxruntime-node'));
    if (a.baseline) {
        process.stdout.write(JSON.stringify({ peak_rss_kb: process.resourceUsage().maxRSS }) + '\n');
        return;
    }
    const opts = {
        executionProviders: ['cpu'],
        intraOpNumThreads: a.threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
    };
    if (a.profile) {
        opts.enableProfiling = true;
        opts.profileFilePrefix = a.profile;
    }
    let t0 = process.hrtime.bigint();
    const sess = await ort.InferenceSession.create(a.model, opts);
    const createMs = Number(process.hrtime.bigint() - t0) / 1e6;

    const next = rng(a.seed);
    const feeds = {};
    const metas = sess.inputMetadata;
    sess.inputNames.forEach((name, i) => {
        const meta = Array.isArray(metas) ? metas[i] : { name, type: 'float32', shape: [] };
        feeds[name] = makeInput(ort, { ...meta, name }, next);
    });

    t0 = process.hrtime.bigint();
    await sess.run(feeds);
    const firstMs = Number(process.hrtime.bigint() - t0) / 1e6;
    for (let i = 0; i < a.warmup; i++) await sess.run(feeds);
    const times = [];
    for (let i = 0; i < a.iters; i++) {
        t0 = process.hrtime.bigint();
        await sess.run(feeds);
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    /* the profile holds creation, first and warm-up runs too: profile_compare.py averages
     * per node over the runs it finds */
    let profile = null;
    if (a.profile) {
        const r = sess.endProfiling();
        profile = (r && typeof r.then === 'function' ? await r : r) || null;
    }
    const ru = process.resourceUsage(); /* maxRSS is in KiB */
    process.stdout.write(JSON.stringify({
        model: a.model,
        runtime: 'onnxruntime-node',
        version: ort.env.versions ? ort.env.versions.common : null,
        threads: a.threads,
        iters: a.iters,
        warmup: a.warmup,
        create_ms: createMs,
        first_run_ms: firstMs,
        min_ms: Math.min(...times),
        median_ms: median(times),
        mean_ms: times.reduce((p, t) => p + t, 0) / times.length,
        peak_rss_kb: ru.maxRSS,
        profile,
    }) + '\n');
    await sess.release();
}

main().catch((e) => {
    process.stderr.write(`ort_bench: ${e && e.message ? e.message : e}\n`);
    process.exit(1);
});
