"""Tests for convlib.download without the internet: a loopback HTTP server plays every mirror.

The server (127.0.0.1, a free port, one per test) serves a small fake MNIST made here, and each
URL prefix ``/<fault>/<victim>/`` makes it misbehave on one file (or ``all``): HTTP 404 or 500, a
body cut short of its Content-Length, wrong bytes of the right length, a stall before the headers
or in the middle of the body, a connection reset. Every test checks that the target folder holds
only complete, verified files afterwards: no ``.part`` file, nothing unverified.
"""
import gzip
import hashlib
import http.server
import importlib
import re
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from convlib.data import DEBIAN_FASHION_DIR, load_fashion_mnist, load_mnist
from convlib.download import CHECKSUMS, FILENAMES, MIRRORS, DownloadError, download, main

DL = importlib.import_module("convlib.download")  # the module, whatever convlib.download names
VICTIM = "t10k-images-idx3-ubyte.gz"  # the third file: the first two arrive before the fault
SLOW = 0.5  # client timeout (s) in the stall tests; the server stalls until the test ends


def _idx(arr):
    header = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.tobytes()


def _fake_set():
    rng = np.random.default_rng(7)
    arrays = [rng.integers(0, 256, size=(12, 28, 28), dtype=np.uint8),
              rng.integers(0, 10, size=12, dtype=np.uint8),
              rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8),
              rng.integers(0, 10, size=5, dtype=np.uint8)]
    return arrays, {name: gzip.compress(_idx(a), mtime=0) for name, a in zip(FILENAMES, arrays)}


ARRAYS, FILES = _fake_set()
TABLE = {name: hashlib.sha256(data).hexdigest() for name, data in FILES.items()}


class _Mirror(http.server.BaseHTTPRequestHandler):
    """GET /<fault>/<victim>/<file>: serve <file>, misbehaving if <victim> is it or ``all``."""

    def log_message(self, *args):  # keep the test output clean
        pass

    def do_GET(self):
        self.server.requests.append(self.path)
        fault, victim, name = (self.path.strip("/").split("/") + ["", "", ""])[:3]
        body = FILES.get(name)
        fault = fault if victim in ("all", name) else "good"
        if body is None or fault in ("404", "500"):
            return self.send_error(404 if body is None else int(fault))
        if fault == "stall-head":
            return self.server.release.wait(10)
        self.send_response(200)
        if fault != "nolength":  # without Content-Length the body ends where the socket closes
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if fault in ("good", "nolength"):
            self.wfile.write(body)
        elif fault == "wrong":  # the right length, one byte changed
            self.wfile.write(body[:-9] + bytes([body[-9] ^ 0xFF]) + body[-8:])
        else:  # "truncated" closes cleanly after half the body; "stall-body" waits, "reset" RSTs
            self.wfile.write(body[: len(body) // 2])
        if fault == "stall-body":
            self.server.release.wait(10)
        elif fault == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # clients that gave up are expected here
        pass


@pytest.fixture
def server():
    srv = _Server(("127.0.0.1", 0), _Mirror)
    srv.requests, srv.release = [], threading.Event()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    root = f"http://127.0.0.1:{srv.server_address[1]}"
    try:
        yield SimpleNamespace(url=lambda fault="good", victim="all": f"{root}/{fault}/{victim}/",
                              requests=srv.requests)
    finally:
        srv.release.set()
        srv.shutdown()
        srv.server_close()
        thread.join(5)


def refused_url():
    """A loopback URL where nothing listens: connecting to it is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def assert_clean(directory, present=()):
    """``directory`` holds exactly the files ``present``, each complete and verified."""
    names = sorted(p.name for p in directory.iterdir()) if directory.exists() else []
    assert names == sorted(present), names  # also: no hidden .part file
    for name in names:
        assert hashlib.sha256((directory / name).read_bytes()).hexdigest() == TABLE[name], name


def fetch(directory, *mirrors, timeout=5.0, **kwargs):
    return download("mnist", directory, mirrors=list(mirrors), checksums=TABLE, timeout=timeout,
                    **kwargs)


def timeout_for(fault):
    return SLOW if fault.startswith("stall") else 5.0


def assert_loads(directory):
    X_train, y_train, X_test, y_test = load_mnist(directory)
    np.testing.assert_array_equal(X_train[:, 0], ARRAYS[0] / 255.0)
    np.testing.assert_array_equal(y_train, ARRAYS[1])
    np.testing.assert_array_equal(X_test[:, 0], ARRAYS[2] / 255.0)
    np.testing.assert_array_equal(y_test, ARRAYS[3])


# ---------------------------------------------------------------- good downloads

@pytest.mark.parametrize("fault", ["good", "nolength"])
def test_good_download_verifies_and_loads(tmp_path, server, fault):
    lines = []
    target = tmp_path / "a" / "mnist"  # parents are created
    assert fetch(target, server.url(fault), log=lines.append) == target
    assert_clean(target, FILENAMES)
    assert all((target / name).stat().st_mode & 0o777 == 0o644 for name in FILENAMES)
    assert_loads(target)
    assert [line.split(":")[0] for line in lines] == list(FILENAMES)
    assert all("SHA-256 verified" in line for line in lines)


def test_a_folder_can_be_a_mirror(tmp_path):
    source = tmp_path / "usb stick"
    source.mkdir()
    for name, data in FILES.items():
        (source / name).write_bytes(data)
    fetch(tmp_path / "m", source.as_uri())
    assert_clean(tmp_path / "m", FILENAMES)
    (source / VICTIM).unlink()
    with pytest.raises(DownloadError, match=f"{VICTIM}: .*No such file"):
        fetch(tmp_path / "n", source.as_uri())
    assert_clean(tmp_path / "n", FILENAMES[:2])


def test_present_verified_files_are_not_fetched_again(tmp_path, server):
    fetch(tmp_path, server.url())
    assert len(server.requests) == 4
    lines = []
    fetch(tmp_path, server.url(), log=lines.append)
    assert len(server.requests) == 4
    assert all("already present" in line for line in lines)
    assert_clean(tmp_path, FILENAMES)


def test_a_bad_existing_file_is_replaced(tmp_path, server):
    fetch(tmp_path, server.url())
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(b"not the labels")
    lines = []
    fetch(tmp_path, server.url(), log=lines.append)
    assert server.requests[4:] == ["/good/all/train-labels-idx1-ubyte.gz"]
    assert "failed its check" in lines[1] and "deleted it" in lines[1]
    assert_clean(tmp_path, FILENAMES)


def test_a_bad_existing_file_is_not_kept_when_the_download_fails(tmp_path):
    (tmp_path / FILENAMES[0]).write_bytes(b"garbage")
    with pytest.raises(DownloadError, match="connection refused"):
        fetch(tmp_path, refused_url())
    assert_clean(tmp_path, [])


def test_stale_part_files_from_a_killed_run_are_removed(tmp_path, server):
    stale = tmp_path / f".{FILENAMES[2]}.k1ll3d.part"
    stale.write_bytes(b"half a file")
    fetch(tmp_path, server.url().rstrip("/"))  # a base URL without its trailing slash works too
    assert_clean(tmp_path, FILENAMES)


def test_default_mirrors_and_checksums_come_from_the_module_tables(tmp_path, server, monkeypatch):
    monkeypatch.setitem(MIRRORS, "fashion-mnist", (refused_url(), server.url()))
    monkeypatch.setitem(CHECKSUMS, "fashion-mnist", TABLE)
    download("fashion-mnist", tmp_path, timeout=5)
    assert_clean(tmp_path, FILENAMES)
    X_train, y_train, _, y_test = load_fashion_mnist(tmp_path)
    assert X_train.shape == (12, 1, 28, 28) and y_test.shape == (5,)


# ---------------------------------------------------------------- faults

FAULTS = {
    "404": r"HTTP status 404",
    "500": r"HTTP status 500",
    "truncated": r"truncated body: received \d+ of the \d+ bytes announced by Content-Length",
    "wrong": r"checksum mismatch: expected SHA-256 [0-9a-f]{64}, got SHA-256 [0-9a-f]{64}",
    "stall-head": rf"timeout: no data for {SLOW} s",
    "stall-body": rf"timeout: no data for {SLOW} s after \d+ bytes",
    "reset": r"connection reset by the server",
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_each_fault_names_file_url_and_reason_and_leaves_nothing_partial(tmp_path, server, fault):
    base = server.url(fault, VICTIM)
    with pytest.raises(DownloadError) as info:
        fetch(tmp_path, base, timeout=timeout_for(fault))
    message = str(info.value)
    assert VICTIM in message and base + VICTIM in message, message
    assert re.search(FAULTS[fault], message), message
    assert info.value.file == VICTIM and [u for u, _ in info.value.failures] == [base + VICTIM]
    assert isinstance(info.value, OSError)
    assert_clean(tmp_path, FILENAMES[:2])  # the two files before the fault are kept, verified
    fetch(tmp_path, server.url())  # a later run fetches only what is missing
    assert [p.rsplit("/", 1)[1] for p in server.requests[-2:]] == list(FILENAMES[2:])
    assert_clean(tmp_path, FILENAMES)
    assert_loads(tmp_path)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_each_fault_falls_back_to_the_next_mirror(tmp_path, server, fault):
    lines = []
    fetch(tmp_path, server.url(fault, VICTIM), server.url(), timeout=timeout_for(fault),
          log=lines.append)
    assert_clean(tmp_path, FILENAMES)
    assert_loads(tmp_path)
    assert [p for p in server.requests if p.endswith(VICTIM)] == [
        f"/{fault}/{VICTIM}/{VICTIM}", f"/good/all/{VICTIM}"]
    assert re.search(f"{VICTIM}: .* failed: {FAULTS[fault]}", lines[2]), lines[2]
    assert lines[3] == f"{VICTIM}: fetched from {server.url()}{VICTIM}, SHA-256 verified"


def test_first_mirror_down_second_good(tmp_path, server):
    mirrors = (server.url(fault) for fault in ("500", "good"))  # any iterable of str will do
    download("mnist", tmp_path, mirrors=mirrors, checksums=TABLE, timeout=5)
    assert server.requests == [f"/{m}/all/{f}" for f in FILENAMES for m in ("500", "good")]
    assert_loads(tmp_path)


def test_all_mirrors_failing_gives_one_error_listing_each(tmp_path, server):
    refused = refused_url()
    mirrors = [server.url("404"), refused, server.url("wrong")]
    target = tmp_path / "new" / "mnist"
    with pytest.raises(DownloadError) as info:
        fetch(target, *mirrors)
    message = str(info.value)
    assert "tried 3 mirror(s)" in message
    reasons = ["HTTP status 404", "connection refused", "checksum mismatch"]
    for base, reason, (url, got) in zip(mirrors, reasons, info.value.failures):
        assert url == base + FILENAMES[0] and reason in got
        assert f"{url}: {got}" in message
    assert not target.exists()  # a folder made for a failed download is removed again
    assert (tmp_path / "new").is_dir()


def test_a_server_sending_too_much_is_cut_off(tmp_path, server, monkeypatch):
    monkeypatch.setattr(DL, "_MAX_BYTES", 4096)
    with pytest.raises(DownloadError, match="more than 4096 bytes"):
        fetch(tmp_path, server.url("nolength"))
    assert_clean(tmp_path, [])


# ---------------------------------------------------------------- arguments

@pytest.mark.parametrize("kwargs, error, pattern", [
    (dict(name="cifar"), ValueError, r"name must be one of mnist, fashion-mnist; got 'cifar'"),
    (dict(name=7), TypeError, r"name must be a str, got 7"),
    (dict(directory=3), TypeError, r"directory must be a str or os.PathLike, got 3"),
    (dict(mirrors="http://x/"), TypeError, r"mirrors must be a list of base URL strings"),
    (dict(mirrors=[b"http://x/"]), TypeError, r"mirrors must be a list"),
    (dict(mirrors=5), TypeError, r"mirrors must be a list of base URL strings, got 5"),
    (dict(mirrors=[]), ValueError, r"mirrors must name at least one"),
    (dict(mirrors=["127.0.0.1/mnist/"]), ValueError, r"mirrors must be http.*'127.0.0.1/mnist/'"),
    (dict(mirrors=["ftp://x/"]), ValueError, r"mirrors must be http.*'ftp://x/'"),
    (dict(checksums={}), ValueError, r"checksums must map train-images-idx3-ubyte.gz.*None"),
    (dict(checksums=dict(TABLE, **{VICTIM: "ABC"})), ValueError, r"t10k-images.*'ABC'"),
    (dict(timeout=0), ValueError, r"timeout must be > 0 seconds, got 0"),
    (dict(timeout="5"), TypeError, r"timeout must be a number of seconds, got '5'"),
    (dict(timeout=True), TypeError, r"timeout must be a number"),
])
def test_bad_arguments(tmp_path, kwargs, error, pattern):
    args = dict(name="mnist", directory=tmp_path / "d", mirrors=["http://127.0.0.1:1/"],
                checksums=TABLE, timeout=1)
    args.update(kwargs)
    with pytest.raises(error, match=pattern):
        download(**args)
    assert not (tmp_path / "d").exists()


def test_checksum_tables_are_well_formed():
    assert set(CHECKSUMS) == set(MIRRORS) == {"mnist", "fashion-mnist"}
    for name, table in CHECKSUMS.items():
        assert sorted(table) == sorted(FILENAMES)
        assert all(re.fullmatch("[0-9a-f]{64}", v) for v in table.values())
        assert all(m.startswith(("https://", "http://")) and m.endswith("/") for m in MIRRORS[name])
    assert not set(CHECKSUMS["mnist"].values()) & set(CHECKSUMS["fashion-mnist"].values())


# Debian's dataset-fashion-mnist re-compressed the upstream files with a blank name and its build
# time in the gzip header. Putting back the upstream header (file name, 2017-08-31 time stamps)
# rebuilds the exact files whose MD5 the Fashion-MNIST README publishes; their SHA-256 must be
# the ones pinned in CHECKSUMS.
_UPSTREAM_MTIMES = dict(zip(FILENAMES, (1504176606, 1504176606, 1504176627, 1504176627)))


@pytest.mark.skipif(not all((DEBIAN_FASHION_DIR / f).is_file() for f in FILENAMES),
                    reason="needs Debian's dataset-fashion-mnist package")
def test_fashion_checksums_match_debians_copies():
    for name, mtime in _UPSTREAM_MTIMES.items():
        packed = (DEBIAN_FASHION_DIR / name).read_bytes()
        assert packed[:4] == b"\x1f\x8b\x08\x00", name  # deflate, no name field
        header = b"\x1f\x8b\x08\x08" + struct.pack("<I", mtime) + packed[8:10]
        upstream = header + name[:-3].encode() + b"\x00" + packed[10:]
        assert hashlib.sha256(upstream).hexdigest() == CHECKSUMS["fashion-mnist"][name], name


# ---------------------------------------------------------------- command line

def test_cli_fetches_into_dir(tmp_path, server, monkeypatch, capsys):
    monkeypatch.setitem(CHECKSUMS, "mnist", TABLE)
    code = main(["fetch", "mnist", "--dir", str(tmp_path / "m"), "--mirror", server.url("404"),
                 "--mirror", server.url(), "--timeout", "5"])
    out = capsys.readouterr().out
    assert code == 0
    assert "failed: HTTP status 404" in out and "convlib.data.load_mnist(" in out
    assert_clean(tmp_path / "m", FILENAMES)
    assert_loads(tmp_path / "m")


def test_cli_default_dir_is_under_data_dir(tmp_path, server, monkeypatch, capsys):
    monkeypatch.setenv("CONVLIB_DATA_DIR", str(tmp_path))
    monkeypatch.setitem(CHECKSUMS, "fashion-mnist", TABLE)
    assert main(["fetch", "fashion-mnist", "--mirror", server.url()]) == 0
    assert "convlib.data.load_fashion_mnist(" in capsys.readouterr().out
    assert_clean(tmp_path / "fashion-mnist", FILENAMES)
    assert load_fashion_mnist()[0].shape == (12, 1, 28, 28)  # found there without a directory


def test_cli_failure_exits_1_with_the_reasons(tmp_path, server, capsys):
    code = main(["fetch", "mnist", "--dir", str(tmp_path), "--mirror", server.url("wrong")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: could not download train-images-idx3-ubyte.gz")
    assert "checksum mismatch" in err
    assert_clean(tmp_path, [])


@pytest.mark.parametrize("argv", [[], ["fetch"], ["fetch", "cifar"],
                                  ["fetch", "mnist", "--timeout", "x"]])
def test_cli_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "usage: python -m convlib.data" in capsys.readouterr().err


def test_python_dash_m_convlib_data_runs_the_cli(tmp_path):
    url = refused_url()
    result = subprocess.run(
        [sys.executable, "-m", "convlib.data", "fetch", "mnist", "--dir", str(tmp_path / "m"),
         "--mirror", url, "--timeout", "2"],
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).parent)
    assert result.returncode == 1, result.stderr
    assert f"{url}train-images-idx3-ubyte.gz: connection refused" in result.stderr
    assert not (tmp_path / "m").exists()
