"""The performance targets in one table: convlib against PyTorch, measured in the same run.

Run from the repository root, with nothing else busy on the machine::

    python benchmarks/targets.py             # every target, about a minute
    python benchmarks/targets.py --quick     # layers only, fewer repeats: a smoke run
    python benchmarks/targets.py --threads 1

Each row is one target. ``convlib`` and ``PyTorch`` are times of the same work on the same data
with the same number of threads, in float32:

- conv: ``conv2d`` then ``conv2d_backward`` (dx, dw, db) on a batch of 128, with the forward's
  ``cache`` handed to the backward as a layer does; PyTorch: ``F.conv2d`` and ``autograd.grad``.
  Median of ``--repeat`` runs after a warm-up.
- pool: ``pool2d`` then ``pool2d_backward``, kernel 2, on the maps the course CNN pools (batch 128).
- epoch: one epoch of the course CNN on the 4,000 bundled training digits (Adam, lr 2e-3, no
  augmentation), both libraries starting from the same weights and seeing the same batches; the
  epochs of the two libraries alternate, median of ``--epochs`` each.
- accuracy: the course recipe (``python -m convlib.train``: 12 epochs of batch 32, cosine learning
  rate, random shifts of up to 2 pixels), run by both libraries on the same batches and shifts;
  the time is the training and evaluation time until held-out accuracy first reaches 98.0 %.

``result`` is ``pass`` or ``short`` against the target (``-`` without PyTorch, whose columns then
show ``-``), and ``WRONG`` if convlib's outputs or gradients disagree with PyTorch's.
"""
import argparse
import sys
import time
from functools import partial

import _common

CONV_CASES = [(128, 1, 28, 16, 5), (128, 16, 12, 32, 3), (128, 32, 14, 64, 3)]  # (N, C, H, F, k)
POOL_CASES = [(128, 16, 24, 24), (128, 64, 8, 8)]  # the course CNN's two pooled maps, batch 128
LAYER_TARGET, EPOCH_TARGET, ACCURACY, SECONDS = 1.5, 2.0, 0.98, 30.0


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="layer rows only, 3 repeats: a smoke run")
    p.add_argument("--repeat", type=int, default=None, help="timed runs per layer case (default 9, quick 3)")
    p.add_argument("--epochs", type=int, default=3, help="timed epochs per library and batch size (default 3)")
    p.add_argument("--threads", type=int, default=None, help="threads for BLAS and torch (default: all usable CPUs)")
    args = p.parse_args(argv)
    if args.repeat is None:
        args.repeat = 3 if args.quick else 9
    for name in ("repeat", "epochs", "threads"):
        value = getattr(args, name)
        if value is not None and value < 1:
            p.error(f"--{name} must be >= 1, got {value}")
    return args


def agrees(ours, theirs, rtol=1e-4):
    """Whether convlib's arrays match torch's tensors to float32 accuracy (relative to the largest)."""
    import numpy as np
    for a, t in zip(ours, theirs):
        t = t.detach().numpy()
        if not np.max(np.abs(a - t)) <= rtol * (np.max(np.abs(t)) + 1e-30):
            return False
    return True


def layer_rows(args, torch):
    """(case, convlib ms, torch ms, agree) for every conv and pool case."""
    import numpy as np

    from convlib.conv import conv2d, conv2d_backward
    from convlib.pool import pool2d, pool2d_backward
    rng = np.random.default_rng(0)
    rows = []

    def time_pair(ours, theirs):
        lib_ms = _common.median_ms(ours, args.repeat, warmup_s=0.2)
        if torch is None:
            return lib_ms, None, None
        ref_ms = _common.median_ms(theirs, args.repeat, warmup_s=0.2)
        return lib_ms, ref_ms, agrees(ours(), theirs())

    for N, C, H, F, k in CONV_CASES:
        x = rng.standard_normal((N, C, H, H)).astype(np.float32)
        w = (rng.standard_normal((F, C, k, k)) / np.sqrt(C * k * k)).astype(np.float32)
        b = rng.standard_normal(F).astype(np.float32)
        dout = rng.standard_normal((N, F, H - k + 1, H - k + 1)).astype(np.float32)

        def ours(x=x, w=w, b=b, dout=dout):
            cache = {}
            conv2d(x, w, b, cache=cache)
            return conv2d_backward(dout, x, w, cache=cache)

        theirs = None
        if torch is not None:
            tx, tw, tb = (torch.from_numpy(a).clone().requires_grad_(True) for a in (x, w, b))
            tdout = torch.from_numpy(dout)

            def theirs(tx=tx, tw=tw, tb=tb, tdout=tdout):
                return torch.autograd.grad(torch.nn.functional.conv2d(tx, tw, tb), (tx, tw, tb), tdout)

        rows.append((f"conv2d fwd+bwd (N,C,H,F,k)=({N},{C},{H},{F},{k})",) + time_pair(ours, theirs))
    for shape in POOL_CASES:
        x = rng.standard_normal(shape).astype(np.float32)
        dout = rng.standard_normal(shape[:2] + (shape[2] // 2, shape[3] // 2)).astype(np.float32)
        for mode in ("max", "mean"):
            def ours(x=x, dout=dout, mode=mode):
                cache = {}
                pool2d(x, 2, mode=mode, cache=cache)
                return (pool2d_backward(dout, x, 2, mode=mode, cache=cache),)

            theirs = None
            if torch is not None:
                tx = torch.from_numpy(x).clone().requires_grad_(True)
                tdout = torch.from_numpy(dout)
                op = torch.nn.functional.max_pool2d if mode == "max" else torch.nn.functional.avg_pool2d

                def theirs(tx=tx, tdout=tdout, op=op):
                    return torch.autograd.grad(op(tx, 2), (tx,), tdout)

            label = f"{mode}-pool 2 fwd+bwd on ({', '.join(map(str, shape))})"
            rows.append((label,) + time_pair(ours, theirs))
        print(".", end="", file=sys.stderr, flush=True)
    return rows


def epoch_rows(args, torch, data):
    """One epoch of the course CNN at batch 32 (the course recipe's) and 64: seconds per epoch."""
    import numpy as np
    X, y = data[0], data[1]
    rows = []
    for batch in (32, 64):
        rng = np.random.default_rng(batch)
        orders = [rng.permutation(len(X)) for _ in range(args.epochs + 1)]
        seconds, _, _ = _common.alternate_epochs(X, y, orders, batch, torch)
        ref = 1e3 * float(np.median(seconds["torch"])) if torch is not None else None
        steps = -(-len(X) // batch)
        rows.append((f"one epoch of the course CNN, batch {batch} ({steps} steps, Adam)",
                     1e3 * float(np.median(seconds["convlib"])), ref, None))
        print(".", end="", file=sys.stderr, flush=True)
    return rows


def torch_recipe(net, X, y, X_test, y_test, recipe, seed, torch):
    """The course recipe in torch, fed exactly the batches and shifts convlib's ``fit`` draws.

    Returns the history as ``fit`` does: per-epoch held-out accuracy and seconds.
    """
    import numpy as np

    from convlib.optim import cosine_schedule
    from convlib.train import random_shift
    rng = np.random.default_rng(seed)  # fit's generator: one permutation per epoch, then the shifts
    opt = torch.optim.Adam(net.parameters(), lr=recipe["lr"])
    schedule = cosine_schedule(recipe["lr"], recipe["epochs"])
    ty, tX_test = torch.from_numpy(y), torch.from_numpy(X_test)
    history = {"val_acc": [], "seconds": []}
    batch = recipe["batch_size"]
    for epoch in range(recipe["epochs"]):
        start = time.perf_counter()
        for group in opt.param_groups:
            group["lr"] = float(schedule(epoch))
        order = rng.permutation(len(X))
        for s in range(0, len(X), batch):
            idx = order[s:s + batch]
            xb = random_shift(X[idx], max_shift=recipe["max_shift"], rng=rng)
            loss = torch.nn.functional.cross_entropy(net(torch.from_numpy(xb)), ty[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            pred = net(tX_test).argmax(dim=1).numpy()
        history["val_acc"].append(float(np.mean(pred == y_test)))
        history["seconds"].append(time.perf_counter() - start)
    return history


def time_to_accuracy(history):
    """(seconds, epochs) until held-out accuracy first reached ACCURACY, or (None, best accuracy)."""
    elapsed = 0.0
    for epoch, (acc, seconds) in enumerate(zip(history["val_acc"], history["seconds"]), start=1):
        elapsed += seconds
        if acc >= ACCURACY:
            return elapsed, epoch
    return None, max(history["val_acc"])


def accuracy_row(torch, data):
    """Time for the course recipe to reach 98 % held-out, convlib and torch."""
    from convlib.optim import Adam, cosine_schedule
    from convlib.train import COURSE_RECIPE, course_cnn, fit, random_shift
    X, y, X_test, y_test = data
    r, seed = COURSE_RECIPE, 0
    model = course_cnn(seed)
    net = _common.torch_model_like(model) if torch is not None else None  # same initial weights
    ours = fit(model, X, y, r["epochs"], r["batch_size"], Adam(lr=r["lr"]), X_test, y_test,
               augment=partial(random_shift, max_shift=r["max_shift"]), seed=seed, progress=False,
               lr_schedule=cosine_schedule(r["lr"], r["epochs"]))
    results = [time_to_accuracy(ours)]
    if torch is not None:
        time.sleep(0.3)
        results.append(time_to_accuracy(torch_recipe(net, X, y, X_test, y_test, r, seed, torch)))
    print(".", end="", file=sys.stderr, flush=True)
    return results


def fmt_time(ms):
    return "-" if ms is None else f"{ms / 1e3:.2f} s" if ms >= 300 else f"{ms:.2f} ms"


def fmt_reached(result):
    seconds, info = result
    return f"{seconds:.1f} s ({info} ep)" if seconds is not None else f"not reached (best {info:.1%})"


def table(rows):
    """Print rows of (case, convlib, PyTorch, ratio, target, result) as an aligned text table."""
    header = ("case", "convlib", "PyTorch", "ratio", "target", "result")
    lines = [header] + rows
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for n, line in enumerate(lines):
        print("  ".join(c.ljust(wd) if i == 0 else c.rjust(wd) for i, (c, wd) in enumerate(zip(line, widths))))
        if n == 0:
            print("  ".join("-" * wd for wd in widths))


def main(argv=None):
    args = parse_args(argv)
    _common.set_threads(args.threads)
    threads = args.threads or _common.usable_cpus()
    torch = _common.import_torch()
    if torch is not None:
        torch.set_num_threads(threads)
    print(_common.machine_header(threads), flush=True)
    rows = []
    for case, lib, ref, ok in layer_rows(args, torch):
        ratio = None if ref is None else lib / ref
        result = "-" if ratio is None else "WRONG" if not ok else "pass" if ratio <= LAYER_TARGET else "short"
        rows.append((case, fmt_time(lib), fmt_time(ref), "-" if ratio is None else f"{ratio:.1f}x",
                     f"<= {LAYER_TARGET}x", result))
    if not args.quick:
        import numpy as np

        from convlib.data import load_mnist_sample
        X, y, X_test, y_test = load_mnist_sample()
        data = (X.astype(np.float32), y, X_test.astype(np.float32), y_test)
        for case, lib, ref, _ in epoch_rows(args, torch, data):
            ratio = None if ref is None else lib / ref
            rows.append((case, fmt_time(lib), fmt_time(ref), "-" if ratio is None else f"{ratio:.1f}x",
                         f"<= {EPOCH_TARGET}x", "-" if ratio is None else "pass" if ratio <= EPOCH_TARGET else "short"))
        results = accuracy_row(torch, data)
        ours, theirs = results[0], (results[1] if len(results) > 1 else None)
        ratio = f"{ours[0] / theirs[0]:.1f}x" if theirs and ours[0] is not None and theirs[0] is not None else "-"
        reached = ours[0] is not None and ours[0] < SECONDS
        rows.append((f"course recipe to >= {ACCURACY:.1%} held-out (batch 32, shifts, cosine lr)",
                     fmt_reached(ours), "-" if theirs is None else fmt_reached(theirs), ratio,
                     f"< {SECONDS:.0f} s", "pass" if reached else "short"))
    print(file=sys.stderr)
    table(rows)


if __name__ == "__main__":
    main()
