"""Deterministic xlsx bytes: the same workbook always zips to the same bytes.

openpyxl stamps every zip entry with the current time; we rewrite the archive with a fixed
timestamp (or ``SOURCE_DATE_EPOCH`` when set), in the original entry order.
"""

from __future__ import annotations

import io
import os
import re
import time
import zipfile
from typing import Iterable, Tuple

import datetime as dt

DEFAULT_DATE_TIME = (2026, 1, 1, 0, 0, 0)
FIXED_TIME = dt.datetime(*DEFAULT_DATE_TIME)  # workbook properties never carry the build time


def fixed_date_time() -> tuple[int, int, int, int, int, int]:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        t = time.gmtime(max(int(epoch), 315532800))  # zip cannot store dates before 1980
        return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)
    return DEFAULT_DATE_TIME


def fixed_core_properties(xml: str) -> str:
    """docProps/core.xml with created/modified set to the fixed stamp (openpyxl writes "now")."""
    stamp = "%04d-%02d-%02dT%02d:%02d:%02dZ" % fixed_date_time()
    for tag in ("created", "modified"):
        xml = re.sub(rf"(<dcterms:{tag}\b[^>]*>)[^<]*(</dcterms:{tag}>)", rf"\g<1>{stamp}\g<2>", xml)
    return xml


def write_zip(entries: Iterable[Tuple[str, bytes]], level: int = 6) -> bytes:
    stamp = fixed_date_time()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            z.writestr(info, data, compresslevel=level)
    return out.getvalue()


def read_zip(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i.filename, z.read(i.filename)) for i in z.infolist()]


def normalise_zip(data: bytes) -> bytes:
    return write_zip(read_zip(data))
