"""File-system helpers for the adapters: atomic writes and safe file names."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import Iterable, Iterator, Optional, Union

TEMP_MARK = ".runrate-tmp-"  # every temp file/folder this tool makes: .runrate-tmp-<pid>-<random>-<name>.tmp


def temp_prefix() -> str:
    """The start of a temp name: unmistakably ours, and saying which process made it."""
    return f"{TEMP_MARK}{os.getpid()}-"


def temp_suffix(final_name: str) -> str:
    return f"-{final_name[:80]}.tmp"


def temp_owner(name: str) -> Optional[int]:
    """The pid in one of our temp names, else None (not ours)."""
    if not name.startswith(TEMP_MARK):
        return None
    head = name[len(TEMP_MARK):].split("-", 1)[0]
    return int(head) if head.isdigit() else None


_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


@contextlib.contextmanager
def names_file(final: Union[str, Path]) -> Iterator[None]:
    """An OSError raised while writing ``final`` (disk full, quota, permissions) names ``final``,
    not a temp name or nothing: ``[Errno 28] No space left on device: '.../A/A.pdf'``."""
    try:
        yield
    except OSError as exc:
        if exc.filename == str(final) or exc.errno is None:
            raise
        raise OSError(exc.errno, exc.strerror or str(exc), str(final)) from exc


def atomic_write_bytes(path: Union[str, Path], data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temp file in the same folder and a rename, so a crash or
    Ctrl-C never leaves a partial file under the final name. An OSError names ``path``."""
    target = Path(path)
    with names_file(target):
        return _atomic_write_bytes(target, data)


def _atomic_write_bytes(target: Path, data: bytes) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(), suffix=temp_suffix(target.name), dir=target.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a normal file honours the umask
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return target


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_text(path: Union[str, Path], text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def safe_filename(name: str, max_length: int = 80) -> str:
    """A file/folder name derived from untrusted text: ASCII letters, digits, '-', '_' and '.',
    no path separators or traversal, no leading dot, not a Windows reserved name, never empty."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._")
    text = re.sub(r"-{2,}", "-", text)[:max_length].strip("-._")
    if not text:
        text = "unnamed"
    if text.split(".")[0].lower() in _RESERVED:
        text = f"_{text}"
    return text


def unique_names(names: Iterable[str], reserved: Iterable[str] = (), max_length: int = 80) -> list[str]:
    """The one unique-name rule: a safe name per input name (:func:`safe_filename`), in order.
    Names equal when sanitised, compared case-insensitively (macOS and Windows file systems
    are), or equal to a ``reserved`` name get -2, -3, ... suffixes, never colliding with a later
    literal ``x-2``; the same input always gives the same names."""
    taken = {r.lower() for r in reserved}
    out = []
    for name in names:
        base = safe_filename(name, max_length=max_length)
        candidate, n = base, 1
        while candidate.lower() in taken:
            n += 1
            candidate = f"{base}-{n}"
        taken.add(candidate.lower())
        out.append(candidate)
    return out
