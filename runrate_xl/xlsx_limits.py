"""One gate for every untrusted .xlsx this tool opens (batch input, `runrate read`, memo from a
workbook): the file size, what the zip inflates to and the number of rows per sheet are capped
*before* openpyxl parses anything, and defusedxml must be present.

A 363 kB workbook can declare 1.5 M rows; openpyxl would then take a minute and gigabytes. The
row count is found by streaming each worksheet's XML through the zip (bounded memory) and
counting ``<row`` elements.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_SHEET_ROWS = 20_000  # the batch reads at most 5,000 BUs; a scenario workbook has a few hundred rows
_CHUNK = 1 << 20
_ROW_TAGS = (b"<row ", b"<row>", b":row ", b":row>")  # also prefixed (<x:row>) elements


def _rows_in(data: bytes) -> int:
    return sum(data.count(tag) for tag in _ROW_TAGS)


class XlsxRefused(ValueError):
    """The file is not an .xlsx we will open; the message says why (and names the file)."""


def check_xlsx(path: Path | str, *, max_file_bytes: int = MAX_FILE_BYTES, max_unpacked_bytes: int = MAX_UNPACKED_BYTES,
               max_rows: int = MAX_SHEET_ROWS) -> None:
    """Raise :class:`XlsxRefused` unless ``path`` is a zip within the caps whose worksheets
    have at most ``max_rows`` rows each."""
    from openpyxl.xml import DEFUSEDXML

    p = Path(path)
    if not DEFUSEDXML:  # openpyxl only uses defusedxml when it is importable
        raise XlsxRefused("refusing to read an untrusted .xlsx without defusedxml (pip install defusedxml)")
    size = p.stat().st_size
    if size > max_file_bytes:
        raise XlsxRefused(f"{p}: {size:,} bytes, expected at most {max_file_bytes:,}")
    not_xlsx = f"{p}: not an .xlsx workbook"
    if not zipfile.is_zipfile(p):
        raise XlsxRefused(not_xlsx)
    try:
        with zipfile.ZipFile(p) as zf:
            infos = zf.infolist()
            unpacked = sum(i.file_size for i in infos)
            if unpacked > max_unpacked_bytes:
                raise XlsxRefused(f"{p}: unpacks to {unpacked:,} bytes, expected at most {max_unpacked_bytes:,}")
            for info in infos:
                if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                    rows = _count_rows(zf, info, max_rows)
                    if rows > max_rows:
                        raise XlsxRefused(f"{p}: sheet {info.filename.rsplit('/', 1)[-1]} has more than {max_rows:,} rows, "
                                          f"expected at most {max_rows:,}")
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
        raise XlsxRefused(not_xlsx) from None


def _count_rows(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> int:
    """``<row`` elements in one worksheet, streamed; stops once past ``limit``. Bytes read are
    bounded by the zip entry's declared size (checked above), so a lying header cannot make
    this read more."""
    count, tail, read = 0, b"", 0
    with zf.open(info) as f:
        while True:
            chunk = f.read(_CHUNK)
            if not chunk:
                break
            read += len(chunk)
            if read > info.file_size + _CHUNK:
                raise XlsxRefused(f"{info.filename}: inflates beyond its declared size")
            data = tail + chunk
            count += _rows_in(data)
            # a tag split across chunks: keep the last 4 bytes and remove what they counted
            tail = data[-5:]
            count -= _rows_in(tail)
            if count > limit:
                return count
    return count + _rows_in(tail)  # the last tail's tags were held back for a next chunk
