"""File I/O of :mod:`jaxact.datasets`: IDX reader and writer, verified download, errors.

An IDX file is a 4-byte magic number ``0x00 0x00 <type code> <ndim>``, ``ndim`` big-endian
uint32 dimensions, then the elements in C order, big-endian. Files may be gzipped;
gzip is recognised by its own magic bytes, not by the file name.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import importlib
import os
import sys
import tempfile
import urllib.request
import zlib
from pathlib import Path
from typing import IO, NamedTuple

import numpy as np

__all__ = ["DataError", "DataNotFoundError", "Digest", "download", "read_idx", "write_idx"]

# IDX type code -> big-endian numpy dtype (LeCun's specification, yann.lecun.com/exdb/mnist).
_CODES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 16


class DataError(Exception):
    """A data file is corrupt, or a download failed its checks; the message names the file."""


class DataNotFoundError(DataError, FileNotFoundError):
    """No copy of a data set was found and none could be downloaded."""


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as f:
        head = f.read(2)
        f.seek(0)
        if head != _GZIP_MAGIC:
            return f.read()
        try:
            with gzip.GzipFile(fileobj=f) as g:
                return g.read()
        # EOFError: the gzip stream ends early (a truncated .gz file).
        except (OSError, EOFError, zlib.error) as e:
            raise DataError(f"{path}: corrupt or truncated gzip data ({e})") from e


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (gzipped or raw) into a NumPy array.

    Args:
      path: the file; gzip compression is detected from the content.

    Returns:
      A writable array in native byte order with the file's shape and element type
      (``uint8`` for MNIST images and labels).

    Raises:
      DataError: wrong magic number, unknown type code, or a size that does not match
        the header (truncated file or trailing bytes); the message names the file.

    Examples:
      >>> import tempfile, pathlib
      >>> from jaxact import datasets
      >>> with tempfile.TemporaryDirectory() as d:
      ...     p = pathlib.Path(d) / "labels-idx1-ubyte.gz"
      ...     datasets.write_idx(p, np.array([3, 1, 4], dtype=np.uint8))
      ...     datasets.read_idx(p)
      array([3, 1, 4], dtype=uint8)
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _CODES:
        raise DataError(f"{path}: not an IDX file (magic bytes {data[:4].hex() or 'missing'})")
    dtype, ndim = _CODES[data[2]], data[3]
    offset = 4 + 4 * ndim
    if len(data) < offset:
        raise DataError(f"{path}: truncated IDX header ({len(data)} of {offset} bytes)")
    shape = tuple(int(n) for n in np.frombuffer(data, ">u4", ndim, 4))
    expected = offset + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "trailing bytes after the data"
        raise DataError(
            f"{path}: {what}: header says shape {shape} ({expected} bytes), "
            f"file holds {len(data)} bytes"
        )
    array = np.frombuffer(data, dtype, offset=offset).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write ``array`` as an IDX file, gzipped when ``path`` ends in ``.gz``.

    Args:
      path: the destination (overwritten).
      array: an array of uint8, int8, int16, int32, float32 or float64, at most 255
        dimensions.

    Raises:
      TypeError: for other element types.

    Examples:
      >>> import tempfile, pathlib
      >>> from jaxact import datasets
      >>> images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
      >>> with tempfile.TemporaryDirectory() as d:
      ...     p = pathlib.Path(d) / "images-idx3-ubyte"
      ...     datasets.write_idx(p, images)
      ...     (p.stat().st_size, bool((datasets.read_idx(p) == images).all()))
      (1584, True)
    """
    array = np.asarray(array)
    big_endian = array.dtype.newbyteorder(">")
    code = next((c for c, dt in _CODES.items() if dt == big_endian), None)
    if code is None or array.ndim > 255:
        raise TypeError(f"IDX cannot store dtype {array.dtype} with {array.ndim} dimensions")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    payload = header + np.ascontiguousarray(array, _CODES[code]).tobytes()
    path = Path(path)
    # mtime=0 keeps the bytes (and so any digest of them) reproducible.
    data = gzip.compress(payload, mtime=0) if path.suffix == ".gz" else payload
    path.write_bytes(data)


class Digest(NamedTuple):
    """Expected size and digests of a downloaded ``.gz`` file; ``None`` skips a check."""

    size: int | None = None
    sha256: str | None = None
    md5: str | None = None


def _progress(total: int | None, label: str):
    """A tqdm bar on an interactive stderr; otherwise none (also when tqdm is missing)."""
    if not sys.stderr.isatty():
        return None
    try:  # by name: tqdm is an optional extra, so type checkers may not see it
        tqdm = importlib.import_module("tqdm").tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=label, unit="B", unit_scale=True, leave=False)


def download(
    url: str, dest: str | os.PathLike[str], digest: Digest | None = None, *, timeout: float = 30.0
) -> Path:
    """Download ``url`` to ``dest`` atomically, checking its size and digests.

    The body is streamed into a temporary file in ``dest``'s directory, checked against
    the ``Content-Length`` header and ``digest``, and renamed to ``dest`` only if every
    check passes; on any failure the temporary file is removed and ``dest`` is untouched.
    A progress bar is shown when stderr is a terminal and tqdm is installed.

    Args:
      url: what to fetch (any scheme urllib opens).
      dest: the final path; its directory is created.
      digest: expected size, SHA-256 and MD5 (hex); ``None`` (or ``None`` fields): not
        checked.
      timeout: seconds to wait on the connection or any read.

    Returns:
      ``Path(dest)``.

    Raises:
      DataError: a truncated transfer or a size or digest mismatch (naming the URL).
      OSError: the server cannot be reached or answers with an HTTP error
        (``urllib.error.URLError`` / ``HTTPError``).

    Examples:
      >>> import hashlib, tempfile, pathlib
      >>> from jaxact import datasets
      >>> with tempfile.TemporaryDirectory() as d:
      ...     src = pathlib.Path(d) / "src.bin"
      ...     _ = src.write_bytes(b"idx")
      ...     ok = datasets.Digest(3, hashlib.sha256(b"idx").hexdigest())
      ...     got = datasets.download(src.as_uri(), pathlib.Path(d) / "a" / "dst.bin", ok)
      ...     try:
      ...         datasets.download(
      ...             src.as_uri(), pathlib.Path(d) / "a" / "bad.bin", ok._replace(size=4)
      ...         )
      ...     except datasets.DataError as e:
      ...         print("DataError:", str(e).split(": ", 1)[1])
      ...     sorted(p.name for p in got.parent.iterdir())
      DataError: size mismatch: expected 4, got 3
      ['dst.bin']
    """
    dest, digest = Path(dest), digest or Digest()
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    sha256, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            expected = int(length) if length is not None else None
            bar = _progress(expected or digest.size, dest.name)
            try:
                while chunk := _read(resp, url):
                    out.write(chunk)
                    sha256.update(chunk)
                    md5.update(chunk)
                    size += len(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
            finally:
                if bar is not None:
                    bar.close()
        # urllib returns a short body without an error when the server closes early.
        if expected is not None and size != expected:
            raise DataError(f"{url}: truncated transfer, {size} of {expected} bytes")
        for what, want, got in (
            ("size", digest.size, size),
            ("SHA-256", digest.sha256, sha256.hexdigest()),
            ("MD5", digest.md5, md5.hexdigest()),
        ):
            if want is not None and want != got:
                raise DataError(f"{url}: {what} mismatch: expected {want}, got {got}")
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return dest


def _read(resp: IO[bytes], url: str) -> bytes:
    try:
        return resp.read(_CHUNK)
    except http.client.HTTPException as e:  # e.g. IncompleteRead in a chunked body
        raise DataError(f"{url}: truncated transfer ({e!r})") from e
