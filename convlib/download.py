"""Fetch the full MNIST and Fashion-MNIST files so that nothing half-written is ever left behind.

:func:`download` gets the four gzip-compressed IDX files of a data set (the ones
:func:`convlib.data.load_mnist` and :func:`convlib.data.load_fashion_mnist` read), trying public
mirrors in order. Each file is streamed into a hidden ``.part`` file in the target folder while its
SHA-256 is computed, checked against :data:`CHECKSUMS`, and only then renamed into place; on any
failure the ``.part`` file is deleted. The command line (``python -m convlib.data fetch mnist
--dir data/mnist``) is :func:`main`. Notebook 09 (Fashion-MNIST) uses it; the earlier notebooks
need only the bundled sample.
"""
import argparse
import hashlib
import http.client
import numbers
import os
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

__all__ = ["DATASETS", "FILENAMES", "MIRRORS", "CHECKSUMS", "DownloadError", "download", "main"]

DATASETS = ("mnist", "fashion-mnist")
FILENAMES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
# Base URLs, tried in order; a file's URL is the base followed by its name.
MIRRORS = {
    "mnist": ("https://ossci-datasets.s3.amazonaws.com/mnist/",
              "https://storage.googleapis.com/cvdf-datasets/mnist/"),
    "fashion-mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
}
# SHA-256 of the .gz files exactly as the mirrors serve them. MNIST: 9,912,422 / 28,881 /
# 1,648,877 / 4,542 bytes, the values TensorFlow Datasets pins. Fashion-MNIST: 26,421,880 /
# 29,515 / 4,422,102 / 5,148 bytes, the files whose MD5 the Zalando README publishes. (Debian's
# dataset-fashion-mnist re-compresses them, so its copies have other hashes but the same images.)
CHECKSUMS = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
}
_CHUNK = 1 << 16
_MAX_BYTES = 64 << 20  # the largest real file is 26 MB: a server sending more is not a mirror
_HEX = frozenset("0123456789abcdef")


class DownloadError(OSError):
    """No mirror delivered a verified copy of one file.

    Attributes
    ----------
    file : str
        The file that could not be fetched, e.g. ``"train-images-idx3-ubyte.gz"``. (Not
        ``filename``: OSError would then print itself as ``[Errno None] ...``.)
    failures : list of (str, str)
        ``(url, reason)`` for every mirror tried, in order.
    """

    def __init__(self, file, directory, failures):
        self.file, self.failures = file, list(failures)
        lines = "".join(f"\n  {url}: {reason}" for url, reason in self.failures)
        super().__init__(f"could not download {file} into {directory} (no partial copy was "
                         f"kept); tried {len(self.failures)} mirror(s):{lines}")


class _Failure(Exception):
    """One mirror's failure to deliver one file; its message is the reason."""


def _sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _fetch(url, directory, filename, expected, timeout):
    """Stream ``url`` into ``directory/filename`` via a hidden .part file; raise _Failure."""
    part = tempfile.NamedTemporaryFile(dir=directory, prefix=f".{filename}.", suffix=".part",
                                       delete=False)
    done = False
    try:
        with part:
            digest, received, announced = hashlib.sha256(), 0, None
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    length = response.headers.get("Content-Length", "")
                    announced = int(length) if length.strip().isdigit() else None
                    while True:  # ends at the end of the body, at _MAX_BYTES or at a timeout
                        chunk = response.read1(_CHUNK)  # what has arrived, up to _CHUNK bytes
                        if not chunk:
                            break
                        received += len(chunk)
                        if received > _MAX_BYTES:
                            raise _Failure(f"server sent more than {_MAX_BYTES} bytes; gave up")
                        digest.update(chunk)
                        part.write(chunk)
            except urllib.error.HTTPError as exc:
                exc.close()
                raise _Failure(f"HTTP status {exc.code} {exc.reason}") from None
            except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
                raise _Failure(_describe(exc, timeout, received)) from None
            if announced is not None and received != announced:
                raise _Failure(f"truncated body: received {received} of the {announced} bytes "
                               f"announced by Content-Length")
            actual = digest.hexdigest()
            if actual != expected:
                raise _Failure(f"checksum mismatch: expected SHA-256 {expected}, got SHA-256 "
                               f"{actual} ({received} bytes)")
            part.flush()
            os.fsync(part.fileno())
            os.chmod(part.name, 0o644)  # temporary files are made private (0600); data is not
        os.replace(part.name, directory / filename)
        done = True
    finally:
        if not done:
            Path(part.name).unlink(missing_ok=True)


def _describe(exc, timeout, received):
    """A short reason for a network-level failure (exc from urlopen or from reading the body)."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    where = f" after {received} bytes" if received else ""
    if isinstance(reason, TimeoutError):
        return f"timeout: no data for {timeout} s{where}"
    if isinstance(reason, ConnectionResetError):
        return f"connection reset by the server{where}"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, http.client.IncompleteRead):
        return f"truncated body: connection closed{where}"
    if isinstance(reason, str):
        return reason + where
    return f"{type(reason).__name__}: {reason}{where}"


def _check_args(name, directory, mirrors, checksums, timeout):
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {name!r} ({type(name).__name__})")
    if name not in DATASETS:
        raise ValueError(f"name must be one of {', '.join(DATASETS)}; got {name!r}")
    if not isinstance(directory, (str, os.PathLike)):
        raise TypeError(f"directory must be a str or os.PathLike, got {directory!r} "
                        f"({type(directory).__name__})")
    given = MIRRORS[name] if mirrors is None else mirrors
    try:
        mirrors = None if isinstance(given, (str, bytes)) else list(given)
    except TypeError:  # not iterable
        mirrors = None
    if mirrors is None or not all(isinstance(m, str) for m in mirrors):
        raise TypeError(f"mirrors must be a list of base URL strings, got {given!r}")
    if not mirrors:
        raise ValueError("mirrors must name at least one base URL, got an empty list")
    for m in mirrors:
        if urllib.parse.urlsplit(m).scheme not in ("http", "https", "file"):
            raise ValueError(f"mirrors must be http://, https:// or file:// URLs, got {m!r}")
    checksums = CHECKSUMS[name] if checksums is None else checksums
    for filename in FILENAMES:
        value = checksums.get(filename) if hasattr(checksums, "get") else None
        if not (isinstance(value, str) and len(value) == 64 and set(value) <= _HEX):
            raise ValueError(f"checksums must map {filename} to a lowercase 64-digit SHA-256 "
                             f"hex string, got {value!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):
        raise TypeError(f"timeout must be a number of seconds, got {timeout!r}")
    if not timeout > 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
    return Path(directory), [m if m.endswith("/") else m + "/" for m in mirrors], checksums


def download(name, directory, mirrors=None, checksums=None, timeout=30, log=None):
    """Download and verify the four IDX ``.gz`` files of ``name`` into ``directory``.

    For each file, in :data:`FILENAMES` order: a copy already in ``directory`` whose SHA-256
    matches is kept and not fetched again; a copy that does not match is deleted (and reported
    through ``log``) and fetched again. Mirrors are tried in order until one delivers bytes
    with the right length and SHA-256. The bytes go to a hidden ``.<file>.*.part`` file in
    ``directory`` that is renamed to its real name only once verified, and deleted on any
    failure, so after this returns or raises every data file in ``directory`` is complete and
    verified. Stale ``.part`` files that a killed earlier run left are removed first.

    Parameters
    ----------
    name : {"mnist", "fashion-mnist"}
    directory : str or os.PathLike
        Created, with its parents, if missing.
    mirrors : list of str, optional
        Base URLs tried in order (default ``MIRRORS[name]``); tests pass a loopback server.
    checksums : dict, optional
        File name -> SHA-256 hex digest, for all four files (default ``CHECKSUMS[name]``).
    timeout : float, default 30
        Seconds to wait for a connection or for the next bytes before giving up on a mirror.
    log : callable, optional
        Called with one line of text per file saying what was done; ``None`` is silent.

    Returns
    -------
    pathlib.Path
        ``directory``, ready for ``load_mnist(directory)`` or ``load_fashion_mnist(directory)``.

    Raises
    ------
    DownloadError
        Naming the file and, for every mirror tried, its URL and what failed: HTTP status,
        truncated body, checksum mismatch, timeout, connection reset or refused.
    """
    directory, mirrors, checksums = _check_args(name, directory, mirrors, checksums, timeout)
    say = log if log is not None else (lambda line: None)
    created = not directory.exists()
    directory.mkdir(parents=True, exist_ok=True)
    for filename in FILENAMES:
        for stale in directory.glob(f".{filename}.*.part"):
            stale.unlink(missing_ok=True)
        target, expected = directory / filename, checksums[filename]
        if target.is_file():
            actual = _sha256_of(target)
            if actual == expected:
                say(f"{filename}: already present, SHA-256 verified")
                continue
            target.unlink()
            say(f"{filename}: existing copy failed its check (expected SHA-256 {expected}, got "
                f"{actual}); deleted it, fetching again")
        failures = []
        for base in mirrors:
            url = base + filename
            try:
                _fetch(url, directory, filename, expected, timeout)
            except _Failure as exc:
                failures.append((url, str(exc)))
                say(f"{filename}: {url} failed: {exc}")
                continue
            say(f"{filename}: fetched from {url}, SHA-256 verified")
            break
        else:
            if created and not any(directory.iterdir()):
                directory.rmdir()  # leave no trace of a folder made for nothing
            raise DownloadError(filename, directory, failures)
    return directory


def main(argv=None):
    """Run the command line ``python -m convlib.data fetch NAME [--dir DIR]``; return the exit code.

    ``--dir`` defaults to ``data_dir() / NAME`` (the repository's ``data/`` folder, or
    ``$CONVLIB_DATA_DIR``). ``--mirror URL`` (repeatable) replaces the built-in mirror list and
    ``--timeout`` sets the per-mirror timeout in seconds. Returns 0 on success and 1 when a
    download fails (the reasons go to stderr); bad arguments exit with status 2, as argparse does.
    """
    parser = argparse.ArgumentParser(prog="python -m convlib.data",
                                     description="Fetch the full MNIST or Fashion-MNIST files.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    fetch = commands.add_parser("fetch", help="download and verify the four IDX .gz files")
    fetch.add_argument("name", choices=DATASETS)
    fetch.add_argument("--dir", type=Path, default=None,
                       help="target folder (default: the repository's data/NAME)")
    fetch.add_argument("--mirror", action="append", default=None, metavar="URL",
                       help="base URL to try instead of the built-in mirrors; repeatable")
    fetch.add_argument("--timeout", type=float, default=30.0, help="seconds (default 30)")
    args = parser.parse_args(argv)
    if args.dir is None:
        from .data import data_dir  # here, not at the top: data.py imports this module

        args.dir = data_dir() / args.name
    try:
        directory = download(args.name, args.dir, mirrors=args.mirror, timeout=args.timeout,
                             log=print)
    except (DownloadError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    loader = "load_mnist" if args.name == "mnist" else "load_fashion_mnist"
    print(f"{args.name} is ready in {directory}: load it with "
          f"convlib.data.{loader}({str(directory)!r})")
    return 0
