"""Reader and writer for the IDX file format used by MNIST and Fashion-MNIST.

Layout: two zero bytes, a type code, the number of dimensions D, then D
big-endian uint32 sizes, then the data in big-endian order. Files may be
gzip-compressed (detected from the content, whatever the file name).
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib

import numpy as np

__all__ = ["IDXFormatError", "read_idx", "write_idx"]

# type code -> big-endian dtype
_IDX_DTYPES = {
    0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


class IDXFormatError(ValueError):
    """Raised when a file is not a well-formed IDX file; the message names the file."""


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        raise IDXFormatError(f"{path}: corrupted or truncated gzip data ({e})") from e


def read_idx(path) -> np.ndarray:
    """Read an IDX file (raw or .gz) into an ndarray with the stored shape.

    Returns native byte order: uint8 for MNIST images (N, 28, 28) and
    labels (N,). Raises FileNotFoundError if missing and IDXFormatError
    (a ValueError) for a bad magic number, dimensions or data size.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"IDX file not found: {path}")
    buf = _read_bytes(path)
    if len(buf) < 4:
        raise IDXFormatError(f"{path}: file too short for an IDX header ({len(buf)} bytes)")
    zero, code, ndim = struct.unpack(">HBB", buf[:4])
    if zero != 0 or code not in _IDX_DTYPES:
        raise IDXFormatError(
            f"{path}: bad IDX magic number 0x{buf[:4].hex()} (expected 0x0000 followed by a type code "
            f"in {sorted(hex(c) for c in _IDX_DTYPES)} and the number of dimensions)"
        )
    if ndim == 0:
        raise IDXFormatError(f"{path}: IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(buf) < header:
        raise IDXFormatError(f"{path}: truncated IDX header: {ndim} dimensions need {header} bytes, got {len(buf)}")
    shape = struct.unpack(f">{ndim}I", buf[4:header])
    dtype = _IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(buf) - header
    if actual != expected:
        what = "truncated" if actual < expected else "has trailing bytes"
        raise IDXFormatError(
            f"{path}: IDX data {what}: shape {shape} of {dtype.newbyteorder('=').name} "
            f"needs {expected} bytes, found {actual}"
        )
    data = np.frombuffer(buf, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="), copy=True)


def write_idx(path, array, compress: bool | None = None) -> None:
    """Write `array` as an IDX file; gzip it when compress=True or path ends with .gz."""
    path = os.fspath(path)
    arr = np.asarray(array)
    code = next((c for c, dt in _IDX_DTYPES.items() if dt.newbyteorder("=") == arr.dtype.newbyteorder("=")), None)
    if code is None:
        raise TypeError(f"write_idx: dtype {arr.dtype} has no IDX type code")
    if not 1 <= arr.ndim <= 255:
        raise ValueError(f"write_idx: need 1 to 255 dimensions, got {arr.ndim}")
    payload = struct.pack(f">HBB{arr.ndim}I", 0, code, arr.ndim, *arr.shape)
    payload += np.ascontiguousarray(arr, dtype=_IDX_DTYPES[code]).tobytes()
    if compress is None:
        compress = path.endswith(".gz")
    with open(path, "wb") as f:
        f.write(gzip.compress(payload) if compress else payload)
