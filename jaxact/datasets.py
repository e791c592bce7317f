"""MNIST and Fashion-MNIST as NumPy arrays, found locally or downloaded and verified.

:func:`load` looks for the four IDX files of a data set in this order and uses the first
directory that holds all four (``<base>.gz`` or the uncompressed ``<base>``):

1. ``data_dir`` (the ``--data-dir`` of ``jaxact train``), then ``data_dir/<name>``;
2. ``$JAXACT_DATA``, then ``$JAXACT_DATA/<name>``;
3. the cache, ``$XDG_CACHE_HOME/jaxact/<name>`` (default ``~/.cache/jaxact/<name>``);
4. the system directory of a Debian package (:data:`DEBIAN_DIRS`: Fashion-MNIST from
   ``dataset-fashion-mnist``);
5. a download from the mirrors (:data:`MIRRORS`, or ``mirrors=`` / ``$JAXACT_MIRRORS``)
   into the cache. Each file is streamed to a temporary file beside its destination,
   its size, SHA-256 and MD5 are checked against :data:`CHECKSUMS`, and only then is it
   renamed into place, so an interrupted or corrupt download never leaves a file that
   looks valid.

Local files are checked for structure (IDX magic, sizes, shapes, label range) but not
for digests: files you place yourself (in any directory, the cache included) are taken
as they are. Digests are checked on every download.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from jaxact import _idx
from jaxact._idx import DataError, DataNotFoundError, Digest, download, read_idx, write_idx

__all__ = [
    "CHECKSUMS",
    "DEBIAN_DIRS",
    "FILES",
    "MIRRORS",
    "NAMES",
    "DataError",
    "DataNotFoundError",
    "Dataset",
    "Digest",
    "cache_dir",
    "download",
    "load",
    "read_idx",
    "write_idx",
]

#: The data sets :func:`load` knows.
NAMES: tuple[str, ...] = ("mnist", "fashion_mnist")

#: Dataset field -> IDX file name without ``.gz`` (the same names for both data sets).
FILES: dict[str, str] = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

#: Base URLs tried in order; ``base + file + ".gz"`` is fetched.
MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    "fashion_mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
}

#: Directories where Debian packages install a data set (``dpkg -L <package>``).
DEBIAN_DIRS: dict[str, Path] = {"fashion_mnist": Path("/usr/share/datasets/fashion-mnist")}
_DEBIAN_PACKAGES = {"fashion_mnist": "dataset-fashion-mnist"}


#: Digests of the upstream .gz files. MD5s: the ones torchvision and the data sets' authors
#: publish. MNIST SHA-256: the widely published values (e.g. batchup, many download scripts).
#: Fashion-MNIST SHA-256: of the upstream files rebuilt from Debian's copies, whose gzip
#: headers lack the file name and mtime (2017-08-31 10:50:06/27 UTC); the rebuilt files
#: match the published MD5s, and tests/test_datasets.py repeats that check.
CHECKSUMS: dict[str, dict[str, Digest]] = {
    "mnist": {
        "train-images-idx3-ubyte": Digest(
            9912422,
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        ),
        "train-labels-idx1-ubyte": Digest(
            28881,
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "d53e105ee54ea40749a09fcbcd1e9432",
        ),
        "t10k-images-idx3-ubyte": Digest(
            1648877,
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "9fb629c4189551a2d022fa330f9573f3",
        ),
        "t10k-labels-idx1-ubyte": Digest(
            4542,
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            "ec29112dd5afa0611ce80d1b7f02629c",
        ),
    },
    "fashion_mnist": {
        "train-images-idx3-ubyte": Digest(
            26421880,
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        ),
        "train-labels-idx1-ubyte": Digest(
            29515,
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "25c81989df183df01b3e8a0aad5dffbe",
        ),
        "t10k-images-idx3-ubyte": Digest(
            4422102,
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "bef4ecab320f06d8554ea6380940ec79",
        ),
        "t10k-labels-idx1-ubyte": Digest(
            5148,
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            "bb300cfdad3c16e7a12a480ee83cd310",
        ),
    },
}


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A loaded data set: read-only arrays and where they came from.

    Attributes:
      name: one of :data:`NAMES`.
      source: the directory the files were read from, or the mirror URL they were
        downloaded from (into :func:`cache_dir`).
      train_images, test_images: ``uint8`` arrays of shape ``(N, 28, 28)``, pixel 0 is
        background; read-only (copy before modifying in place).
      train_labels, test_labels: ``int64`` class indices in ``[0, 10)``, shape ``(N,)``.
    """

    name: str
    source: str
    train_images: np.ndarray = dataclasses.field(repr=False)
    train_labels: np.ndarray = dataclasses.field(repr=False)
    test_images: np.ndarray = dataclasses.field(repr=False)
    test_labels: np.ndarray = dataclasses.field(repr=False)


def cache_dir(name: str) -> Path:
    """The cache directory of data set ``name``: ``$XDG_CACHE_HOME/jaxact/<name>``.

    ``XDG_CACHE_HOME`` defaults to ``~/.cache``.
    """
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "jaxact" / name


def _find(directory: Path, base: str) -> Path | None:
    return next((p for p in (directory / f"{base}.gz", directory / base) if p.is_file()), None)


def _find_all(directory: Path) -> dict[str, Path] | None:
    found = {field: _find(directory, base) for field, base in FILES.items()}
    return {k: p for k, p in found.items() if p is not None} if all(found.values()) else None


def _read_split(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(
            f"{images_path}: expected uint8 images of shape (N, 28, 28), "
            f"got {images.dtype} {images.shape}"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataError(f"{labels_path}: expected uint8 labels of shape (N,), got {labels.shape}")
    if len(images) != len(labels):
        raise DataError(
            f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels"
        )
    if labels.size and labels.max() > 9:
        raise DataError(f"{labels_path}: label {labels.max()} outside [0, 10)")
    labels = labels.astype(np.int64)
    images.flags.writeable = labels.flags.writeable = False
    return images, labels


def _from_files(name: str, source: str, paths: dict[str, Path]) -> Dataset:
    train = _read_split(paths["train_images"], paths["train_labels"])
    test = _read_split(paths["test_images"], paths["test_labels"])
    return Dataset(name, source, *train, *test)


def _mirrors(name: str, mirrors: Sequence[str] | None) -> tuple[str, ...]:
    if mirrors is None and os.environ.get("JAXACT_MIRRORS"):
        mirrors = os.environ["JAXACT_MIRRORS"].split()
    if mirrors is None:
        return MIRRORS[name]
    return tuple(m.format(name=name).rstrip("/") + "/" for m in mirrors)


def _partial(directory: Path) -> str:
    n = sum(_find(directory, base) is not None for base in FILES.values())
    return f"  (holds only {n} of the 4 files)" if n else ""


def _not_found(
    name: str, searched: list[Path], mirrors: Sequence[str], failures: list[str]
) -> DataNotFoundError:
    lines = [f"{name}: no local copy in any of"]
    lines += [f"  {d}{_partial(d)}" for d in searched]
    lines += [f"and no download ({f})" for f in failures] or ["and no download (download=False)"]
    lines.append("Get it in one of these ways:")
    if name in _DEBIAN_PACKAGES:
        lines.append(
            f"  - apt-get install {_DEBIAN_PACKAGES[name]}   (puts it in {DEBIAN_DIRS[name]})"
        )
    lines.append("  - fetch these four files (from any mirror listed below; keep the names):")
    lines += [f"      {mirrors[0]}{base}.gz" for base in FILES.values()]
    lines += [f"    other mirror: {m}" for m in mirrors[1:]]
    lines.append(
        f"    into {cache_dir(name)}, or into a directory given as --data-dir "
        "(data_dir=) or as $JAXACT_DATA"
    )
    lines.append("  - or run online with downloads allowed (download=True, the default)")
    return DataNotFoundError("\n".join(lines))


def load(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    mirrors: Sequence[str] | None = None,
    timeout: float = 30.0,
) -> Dataset:
    """Load MNIST or Fashion-MNIST (60000 training, 10000 test images of 28x28 pixels).

    The search order and the checks are in the module docstring.

    Args:
      name: ``"mnist"`` or ``"fashion_mnist"``.
      data_dir: a directory searched first (directly, then its ``<name>`` subdirectory).
      download: fetch missing files into the cache when no local copy is found.
      mirrors: base URLs to download from, in order; ``{name}`` in a URL is replaced by
        ``name``. Default: ``$JAXACT_MIRRORS`` (whitespace-separated) or :data:`MIRRORS`.
      timeout: seconds per connection or read when downloading.

    Returns:
      A :class:`Dataset`.

    Raises:
      ValueError: unknown ``name``.
      DataError: a found file is corrupt (wrong magic, truncated, image/label count
        mismatch) or every mirror served a file that failed its checks; names the file.
      DataNotFoundError: nothing found and nothing downloaded; the message lists every
        way to get the data.

    Examples:
      >>> import tempfile, pathlib
      >>> from jaxact import datasets
      >>> rng = np.random.default_rng(0)
      >>> with tempfile.TemporaryDirectory() as d:
      ...     for field, base in datasets.FILES.items():
      ...         n = 3 if field.startswith("train") else 2
      ...         a = rng.integers(0, 10, (n, 28, 28) if "images" in field else n)
      ...         datasets.write_idx(pathlib.Path(d) / f"{base}.gz", a.astype(np.uint8))
      ...     ds = datasets.load("mnist", d, download=False)
      >>> ds.train_images.shape, ds.train_labels.dtype, ds.test_labels.shape
      ((3, 28, 28), dtype('int64'), (2,))
    """
    if name not in NAMES:
        raise ValueError(f"unknown data set {name!r}; choose from {NAMES}")
    if data_dir is not None and not Path(data_dir).is_dir():
        raise DataNotFoundError(f"data_dir {data_dir} is not a directory")
    candidates = []
    for root in (data_dir, os.environ.get("JAXACT_DATA") or None):
        if root is not None:
            candidates += [Path(root), Path(root) / name]
    cache = cache_dir(name)
    candidates.append(cache)
    if name in DEBIAN_DIRS:
        candidates.append(DEBIAN_DIRS[name])
    for directory in candidates:
        if (found := _find_all(directory)) is not None:
            return _from_files(name, str(directory), found)

    urls = _mirrors(name, mirrors)
    if not download:
        raise _not_found(name, candidates, urls, [])
    # Only verified downloads enter the cache, so files already there are kept.
    paths: dict[str, Path] = {}
    used = None
    for field, base in FILES.items():
        if (cached := _find(cache, base)) is not None:
            paths[field] = cached
            continue
        unreachable: list[str] = []
        bad: list[str] = []
        for mirror in urls:
            url = f"{mirror}{base}.gz"
            try:
                paths[field] = _idx.download(
                    url, cache / f"{base}.gz", CHECKSUMS[name][base], timeout=timeout
                )
            except DataError as e:
                bad.append(str(e))
            except OSError as e:
                unreachable.append(f"{url}: {e}")
            else:
                used = used or mirror
                break
        else:
            if bad:  # a server answered with a bad file: corruption, not absence
                raise DataError(
                    "\n".join([f"{name}: no good copy of {base}.gz:", *bad, *unreachable])
                )
            raise _not_found(name, candidates, urls, unreachable)
    return _from_files(name, used or str(cache), paths)
