"""Time convlib's conv2d and pool2d against their loop twins and against PyTorch.

Run from the repository root::

    python benchmarks/bench_conv.py            # full: batch 128, 5 repeats
    python benchmarks/bench_conv.py --quick    # smoke run: batch 16, 2 repeats
    python benchmarks/bench_conv.py --repeat 9 --threads 1

For each layer shape (N, C, H, F, k) below (stride 1, no padding), input (N, C, H, H) and
weights (F, C, k, k), it times in float32 and float64:

- ``conv`` forward, and forward + backward (dx, dw, db);
- ``maxpool`` / ``avgpool`` (kernel 2) forward + backward on the conv output's shape (N, F, OH, OW).

Every timing is the median of ``--repeat`` runs after a warm-up (at least one run and 50 ms), all
in the same process. The runs are not interleaved between implementations: NumPy's OpenBLAS and
torch's OpenMP threads each spin for a while after a job, and alternating them makes each slow the
other down. The ``_naive`` loops are too slow for a full batch, so they run on ``--naive-batch``
images and their time is scaled to the full batch (marked ``*``). PyTorch columns show ``-``
without torch.
"""
import argparse
import datetime
import os
import platform
import sys

import _common

CASES = [(128, 1, 28, 16, 5), (128, 16, 12, 32, 3), (128, 32, 14, 64, 3)]  # (N, C, H, F, k)
DTYPES = ["float32", "float64"]
POOL_KERNEL = 2


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=None, help="timed runs per measurement (default 5, quick 2)")
    p.add_argument("--quick", action="store_true", help="batch 16 instead of 128, 2 repeats: a smoke run")
    p.add_argument("--threads", type=int, default=None,
                   help="threads for BLAS and torch (default: the CPUs this process may use)")
    p.add_argument("--naive-batch", type=int, default=2, help="images the naive loops run on (default 2)")
    args = p.parse_args(argv)
    if args.repeat is None:
        args.repeat = 2 if args.quick else 5
    for name in ("repeat", "naive_batch"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.threads is not None and args.threads < 1:
        p.error(f"--threads must be >= 1, got {args.threads}")
    return args


ARGS = parse_args()
_common.set_threads(ARGS.threads)  # must happen before NumPy loads its BLAS
THREADS = ARGS.threads or _common.usable_cpus()

import numpy as np  # noqa: E402

from convlib.conv import conv2d, conv2d_backward, conv2d_backward_naive, conv2d_naive  # noqa: E402
from convlib.pool import pool2d, pool2d_backward, pool2d_backward_naive, pool2d_naive  # noqa: E402

torch = _common.import_torch()
if torch is not None:
    import torch.nn.functional as torch_F


def conv_funcs(x, w, b, dout):
    """(convlib, naive, torch) zero-argument callables for conv forward and forward+backward."""
    n = ARGS.naive_batch
    xs, douts = x[:n], dout[:n]
    fwd = (lambda: conv2d(x, w, b), lambda: conv2d_naive(xs, w, b))

    def lib_both():  # as a layer runs it: the backward reuses the forward's window columns
        cache = {}
        conv2d(x, w, b, cache=cache)
        return conv2d_backward(dout, x, w, cache=cache)

    def naive_both():
        conv2d_naive(xs, w, b)
        return conv2d_backward_naive(douts, xs, w)

    torch_fwd = torch_both = None
    if torch is not None:
        tx, tw, tb, tdout = (torch.from_numpy(a) for a in (x, w, b, dout))
        gx, gw, gb = (t.clone().requires_grad_(True) for t in (tx, tw, tb))

        def torch_fwd():
            with torch.no_grad():
                return torch_F.conv2d(tx, tw, tb)

        def torch_both():
            out = torch_F.conv2d(gx, gw, gb)
            return torch.autograd.grad(out, (gx, gw, gb), tdout)

    return {"fwd": fwd + (torch_fwd,), "fwd+bwd": (lib_both, naive_both, torch_both)}


def pool_funcs(x, dout, mode):
    """(convlib, naive, torch) callables for pooling forward+backward with kernel POOL_KERNEL."""
    n, k = ARGS.naive_batch, POOL_KERNEL
    xs, douts = x[:n], dout[:n]

    def lib_both():  # as a layer runs it: max mode finds the window maxima in the cache
        cache = {}
        pool2d(x, k, mode=mode, cache=cache)
        return pool2d_backward(dout, x, k, mode=mode, cache=cache)

    def naive_both():
        pool2d_naive(xs, k, mode=mode)
        return pool2d_backward_naive(douts, xs, k, mode=mode)

    torch_both = None
    if torch is not None:
        gx = torch.from_numpy(x).clone().requires_grad_(True)
        tdout = torch.from_numpy(dout)
        torch_pool = torch_F.max_pool2d if mode == "max" else torch_F.avg_pool2d

        def torch_both():
            return torch.autograd.grad(torch_pool(gx, k), (gx,), tdout)

    return {"fwd+bwd": (lib_both, naive_both, torch_both)}


def agree(lib, ref, dtype):
    """'ok' if convlib's arrays match torch's to the dtype's tolerance, else the worst error."""
    rtol = 1e-4 if dtype == "float32" else 1e-10
    lib = lib if isinstance(lib, tuple) else (lib,)
    ref = ref if isinstance(ref, tuple) else (ref,)
    worst = 0.0
    for a, t in zip(lib, ref):
        t = t.detach().numpy()
        worst = max(worst, float(np.max(np.abs(a - t)) / (np.max(np.abs(t)) + 1e-30)))
    return "ok" if worst <= rtol else f"DIFF {worst:.1e}"


def measure(label, funcs, dtype, batch, rows):
    """Time every pass in ``funcs`` and append one table row per pass."""
    scale = batch / min(ARGS.naive_batch, batch)
    for pass_name, (lib, naive, ref) in funcs.items():
        lib_ms = _common.median_ms(lib, ARGS.repeat)
        naive_ms = _common.median_ms(naive, ARGS.repeat) * scale
        ref_ms = _common.median_ms(ref, ARGS.repeat) if ref is not None else None
        check = agree(lib(), ref(), dtype) if ref is not None else "-"
        rows.append((label, pass_name, dtype, lib_ms, naive_ms, ref_ms, check))
        print(".", end="", file=sys.stderr, flush=True)


def run():
    rng = np.random.default_rng(0)
    rows = []
    for N, C, H, F, k in CASES:
        batch = 16 if ARGS.quick else N
        OH = H - k + 1
        for dtype in DTYPES:
            x = rng.standard_normal((batch, C, H, H)).astype(dtype)
            w = (rng.standard_normal((F, C, k, k)) / np.sqrt(C * k * k)).astype(dtype)
            b = rng.standard_normal(F).astype(dtype)
            dout = rng.standard_normal((batch, F, OH, OH)).astype(dtype)
            measure(f"conv N{batch} C{C} H{H} F{F} k{k}", conv_funcs(x, w, b, dout), dtype, batch, rows)
            feat = rng.standard_normal((batch, F, OH, OH)).astype(dtype)
            PH = OH // POOL_KERNEL
            dpool = rng.standard_normal((batch, F, PH, PH)).astype(dtype)
            for mode, name in (("max", "maxpool"), ("mean", "avgpool")):
                label = f"{name} N{batch} C{F} H{OH} k{POOL_KERNEL}"
                measure(label, pool_funcs(feat, dpool, mode), dtype, batch, rows)
    print(file=sys.stderr)
    return rows


def fmt_ms(v):
    return "-" if v is None else f"{v:.2f}" if v < 100 else f"{v:.0f}"


def fmt_ratio(a, b):
    return "-" if a is None or b is None else f"{a / b:.1f}x" if a / b < 100 else f"{a / b:.0f}x"


def print_table(rows):
    header = ("case", "pass", "dtype", "convlib ms", "naive ms*", "torch ms", "convlib/torch",
              "naive/convlib", "vs torch")
    lines = [header] + [
        (label, pass_name, dtype, fmt_ms(lib), fmt_ms(naive), fmt_ms(ref), fmt_ratio(lib, ref),
         fmt_ratio(naive, lib), check)
        for label, pass_name, dtype, lib, naive, ref, check in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for n, line in enumerate(lines):
        cells = [c.ljust(wd) if i < 3 else c.rjust(wd) for i, (c, wd) in enumerate(zip(line, widths))]
        print("  ".join(cells).rstrip())
        if n == 0:
            print("  ".join("-" * wd for wd in widths))


def main():
    today = datetime.date.today().isoformat()
    busy = _common.busy_cpus()
    print(f"# {today}  {platform.machine()}  python {platform.python_version()}  numpy {np.__version__} "
          f"({_common.blas_info()})  cpus available {_common.usable_cpus()} of {os.cpu_count()}")
    print(f"# before the run, other processes kept {'?' if busy is None else f'{busy:.2f}'} cpus busy "
          f"(1 s sample); load average {os.getloadavg()[0]:.2f}")
    if torch is not None:
        torch.set_num_threads(THREADS)
        print(f"# torch {torch.__version__}, torch.set_num_threads({THREADS})")
    else:
        print("# torch not importable: torch columns show '-'")
    batch = 16 if ARGS.quick else 128
    print(f"# batch {batch}{' (--quick)' if ARGS.quick else ''}; median of {ARGS.repeat} runs after a warm-up; "
          f"stride 1, padding 0; pooling kernel {POOL_KERNEL} on the conv output")
    print(f"# * naive loops timed on {ARGS.naive_batch} image(s) and scaled x{batch / ARGS.naive_batch:g} "
          f"to the batch; 'vs torch': convlib's outputs/gradients match torch's ('ok') or not")
    rows = run()
    print_table(rows)
    print(f"# load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
