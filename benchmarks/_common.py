"""Helpers shared by the benchmark scripts: thread setup, timing, machine facts, training epochs.

A script must call :func:`set_threads` (when the user asked for a thread count) *before* it imports
this module's NumPy-using parts, because BLAS reads its thread count once, when NumPy loads it.
That is why NumPy, convlib and torch are imported inside the functions that need them.
"""
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # time the working tree's convlib, not an installed copy

LR = 2e-3  # Adam's learning rate in the epoch benchmarks (the course recipe's)


def set_threads(threads):
    """Ask BLAS and OpenMP for ``threads`` threads; call before NumPy or torch is imported."""
    if threads is not None:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(threads)


def usable_cpus():
    """CPUs this process may run on (its affinity mask), falling back to os.cpu_count()."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def import_torch():
    """torch, or None when it is not installed (the tables then show convlib alone)."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def median_ms(fn, repeat, warmup_s=0.05):
    """Median wall time of ``fn()`` in ms over ``repeat`` runs, after warming up.

    The warm-up runs ``fn`` at least once and for at least ``warmup_s`` seconds: long enough for
    the worker threads of the previous implementation's thread pool (OpenBLAS, OpenMP), which spin
    for a while after their last job, to go to sleep instead of competing for the CPUs.
    """
    start = time.perf_counter()
    fn()
    while time.perf_counter() - start < warmup_s:
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def busy_cpus(seconds=1.0):
    """CPUs kept busy by other processes over ``seconds`` (from /proc/stat), or None if unknown.

    Timings on a shared machine are only as good as its idle time; this goes in the header.
    """
    def sample():
        with open("/proc/stat") as f:
            ticks = [int(v) for v in f.readline().split()[1:]]
        return sum(ticks), ticks[3] + ticks[4]  # total, idle + iowait

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    return (os.cpu_count() or 1) * (1 - (idle1 - idle0) / max(1, total1 - total0))


def blas_info():
    """'name, N threads' for NumPy's BLAS, as far as it can be known without guessing."""
    import numpy as np
    try:
        name = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    except Exception:  # the config layout is not a stable API
        name = "BLAS"
    try:
        from threadpoolctl import threadpool_info
        counts = {p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"}
        if counts:
            return f"{name}, threads={max(counts)}"
    except ImportError:
        pass
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(var):
            return f"{name}, threads={os.environ[var]} from {var}"
    return f"{name}, threads unknown (no *_NUM_THREADS set)"


def machine_header(threads):
    """Two comment lines: date, versions, BLAS threads, and how busy the machine already was."""
    import datetime
    import platform

    import numpy as np
    torch = import_torch()
    busy = busy_cpus()
    versions = f"numpy {np.__version__} ({blas_info()}), " + (
        f"torch {torch.__version__} with set_num_threads({threads})" if torch else "torch not installed")
    return (f"# {datetime.datetime.now():%Y-%m-%d %H:%M}  {platform.machine()}  python {platform.python_version()}  "
            f"cpus available {usable_cpus()} of {os.cpu_count()}\n# {versions}\n"
            f"# before the run other processes kept {'?' if busy is None else f'{busy:.2f}'} cpus busy (1 s sample), "
            f"load average {os.getloadavg()[0]:.2f}: quote ratios only from an idle machine")


# --- training epochs: the same model, data, batch order and optimizer in convlib and torch -------


def convlib_epoch(model, opt, X, y, order, batch_size):
    """One epoch of convlib training over ``X[order]`` without augmentation; returns the mean loss."""
    from convlib.layers import softmax_cross_entropy
    total = 0.0
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        loss, dlogits = softmax_cross_entropy(model.forward(X[idx], training=True), y[idx])
        model.backward(dlogits, need_dx=False)
        opt.step(model.params, model.grads)
        total += loss * len(idx)
    return total / len(order)


def torch_model_like(model):
    """The course CNN in torch.nn, starting from convlib's weights (same layouts: no transposes)."""
    import torch
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 64, 5), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1024, 10))
    with torch.no_grad():
        for i in (0, 3, 7):
            net[i].weight.copy_(torch.from_numpy(model.params[f"{i}.w"]))
            net[i].bias.copy_(torch.from_numpy(model.params[f"{i}.b"]))
    return net


def torch_epoch(net, opt, X, y, order, batch_size):
    """One epoch of torch training over ``X[order]`` (torch tensors X, y); returns the mean loss."""
    import torch
    total = 0.0
    for start in range(0, len(order), batch_size):
        idx = torch.from_numpy(order[start:start + batch_size])
        loss = torch.nn.functional.cross_entropy(net(X[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
    return total / len(order)


def alternate_epochs(X, y, orders, batch_size, torch=None):
    """Train the course CNN in convlib, and in torch from the same initial weights, one epoch per
    order in ``orders[1:]``, alternating the libraries; ``orders[0]`` warms each up for 8 steps.

    Returns ({library: [seconds per epoch]}, {library: mean loss of its last epoch}, convlib's model).
    """
    from convlib.optim import Adam
    from convlib.train import course_cnn
    model, opt = course_cnn(seed=0), Adam(lr=LR)
    sides = {"convlib": lambda order: convlib_epoch(model, opt, X, y, order, batch_size)}
    if torch is not None:
        net = torch_model_like(model)
        opt_t = torch.optim.Adam(net.parameters(), lr=LR)
        tX, ty = torch.from_numpy(X), torch.from_numpy(y)
        sides["torch"] = lambda order: torch_epoch(net, opt_t, tX, ty, order, batch_size)
    for side in sides.values():
        side(orders[0][:8 * batch_size])
    seconds, losses = {name: [] for name in sides}, {}
    for order in orders[1:]:
        for name, side in sides.items():
            time.sleep(0.3)  # let the other library's spinning worker threads go to sleep first
            start = time.perf_counter()
            losses[name] = side(order)
            seconds[name].append(time.perf_counter() - start)
    return seconds, losses, model
