"""Time one training epoch of the course CNN in convlib and in PyTorch, in the same run.

Run from the repository root::

    python benchmarks/bench_train.py              # 3 timed epochs each, median
    python benchmarks/bench_train.py --repeat 1 --threads 1

Both sides train the same model (:func:`convlib.train.course_cnn`; PyTorch gets a copy of its
initial weights) on the same 4,000 bundled digits in the same batch order, batch 64, with
Adam(lr=2e-3), in float32, without augmentation. An epoch is ``ceil(4000 / 64) = 63`` steps of
forward, softmax cross-entropy, backward and optimizer step. The runs of the two libraries are
interleaved and each is warmed up first; the table shows the median seconds per epoch, the mean
training loss of the last timed epoch (both should fall alike: same model, same data), and the
ratio. convlib's peak memory is measured in a separate, untimed epoch with ``tracemalloc`` (NumPy
reports its array buffers to it), as the peak of traced allocations above what was allocated
before the epoch (the data set and model); the process's maximum resident set size from
``resource.getrusage`` is printed too, for scale (it includes the interpreter, NumPy and PyTorch).
"""
import argparse
import datetime
import os
import statistics
import tracemalloc

import _common


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=3, help="timed epochs per library (default 3)")
    p.add_argument("--batch-size", type=int, default=64, help="minibatch size (default 64)")
    p.add_argument("--threads", type=int, default=None, help="threads for BLAS and torch (default: all usable CPUs)")
    args = p.parse_args(argv)
    for name in ("repeat", "batch_size", "threads"):
        value = getattr(args, name)
        if value is not None and value < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    return args


ARGS = parse_args()
_common.set_threads(ARGS.threads)  # before NumPy loads its BLAS

import numpy as np  # noqa: E402

from _common import LR, alternate_epochs, convlib_epoch, usable_cpus  # noqa: E402
from convlib.data import load_mnist_sample  # noqa: E402
from convlib.optim import Adam  # noqa: E402
from convlib.train import course_cnn  # noqa: E402

torch = _common.import_torch()
try:
    import resource  # Unix only
except ImportError:
    resource = None


def main():
    threads = ARGS.threads or usable_cpus()
    busy = _common.busy_cpus(0.5)
    X, y, _, _ = load_mnist_sample()
    X = X.astype(np.float32)  # (4000, 1, 28, 28)
    rng = np.random.default_rng(0)
    orders = [rng.permutation(len(X)) for _ in range(ARGS.repeat + 1)]  # same batch order for both sides
    if torch is not None:
        torch.set_num_threads(threads)
    runs, losses, model = alternate_epochs(X, y, orders, ARGS.batch_size, torch)

    mem_model = course_cnn(seed=1)
    mem_opt = Adam(lr=LR)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    convlib_epoch(mem_model, mem_opt, X, y, orders[0], ARGS.batch_size)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    maxrss = f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB" if resource else "unknown"  # KiB on Linux

    steps = -(-len(X) // ARGS.batch_size)
    print(f"bench_train: one epoch of the course CNN ({model.num_params():,} parameters), {len(X):,} digits, "
          f"batch {ARGS.batch_size} ({steps} steps), Adam(lr={LR:g}), float32, no augmentation")
    print(f"{datetime.datetime.now():%Y-%m-%d %H:%M}, {usable_cpus()} CPUs, {threads} threads, numpy {np.__version__}, "
          f"torch {torch.__version__ if torch else 'not installed'}; median of {ARGS.repeat} epoch(s) each")
    if busy is not None:
        print(f"CPUs already busy before the run: {busy:.1f} of {os.cpu_count()} (quote ratios only from an idle machine)")
    print(f"{'':10}{'s/epoch':>10}{'ms/step':>10}{'loss':>9}")
    median = {name: statistics.median(times) for name, times in runs.items()}
    for name in runs:
        print(f"{name:10}{median[name]:10.2f}{1e3 * median[name] / steps:10.1f}{losses[name]:9.4f}")
    if torch is not None:
        print(f"convlib / torch: {median['convlib'] / median['torch']:.1f}x")
    print(f"convlib peak memory during one epoch: {peak / 2**20:.1f} MiB above the data and model "
          f"(tracemalloc); process max RSS {maxrss} (resource.getrusage)")


if __name__ == "__main__":
    main()
