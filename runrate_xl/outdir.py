"""The output folder is shared with the user: touch only what is provably ours.

* **Temp names** are ``.runrate-tmp-<pid>-<random>...`` (:func:`runrate_xl.fsutil.temp_prefix`):
  a start-up clean-up removes only such entries whose process is dead, never a user's
  ``.my-backup.tmp``, never a live run's in-flight files.
* **A lock** (:class:`OutputLock`, ``flock`` on ``<out>/.runrate.lock``) makes a second batch
  into the same folder refuse with a clear message; the kernel drops the lock when the holder
  dies, so a killed run never leaves a stale lock behind.
* **Stale outputs**: a rerun removes files that the previous run recorded as its own in
  ``summary.json`` and that contradict the new one (an old ``portfolio.pdf`` when there is none
  now; an old workbook beside a new memo) - only inside the units this run processed, never a
  file the tool did not record.
* **A journal** (:class:`Journal`, ``<out>/.runrate-journal.json``) covers a run that never
  writes its record (killed, power cut, disk full): written before the first deliverable, it
  holds what the earlier runs recorded and every deliverable this run may write; the old
  ``summary.*`` and ``run.log`` are removed then (they would describe files this run replaces).
  It is removed only once a run's records are written in full; a run that finds one left over
  counts its files as recorded, so they are removed too if the rerun does not write them.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path
from typing import Iterable, Optional

from .fsutil import TEMP_MARK, temp_owner

try:
    import fcntl
except ImportError:  # Windows: an O_EXCL lock file with the holder's pid (stale when it is dead)
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".runrate.lock"


class OutputBusy(Exception):
    """Another run holds the output folder."""


def _alive(pid: int) -> bool:
    if pid <= 0:
        return True  # unknown: treat as alive (never delete what might be in use)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # Linux: a killed process whose parent died too can stay a zombie (never reaped)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def remove_dead_temps(folders: Iterable[Path]) -> list[Path]:
    """Remove our temp entries (``.runrate-tmp-<pid>-...``) whose process is gone; nothing else."""
    removed = []
    for where in folders:
        if not where.is_dir():
            continue
        for entry in where.iterdir():
            if not entry.name.startswith(TEMP_MARK):
                continue
            pid = temp_owner(entry.name)
            if pid is None or pid == os.getpid() or _alive(pid):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


class OutputLock:
    """An exclusive, non-blocking lock on an output folder for the duration of a run."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / LOCK_NAME
        self.fd: Optional[int] = None

    def acquire(self) -> "OutputLock":
        if fcntl is None:
            return self._acquire_exclusive()
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                holder = _read_pid(fd)
                os.close(fd)
                if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    who = f" (pid {holder})" if holder else ""
                    raise OutputBusy(f"another runrate run{who} is writing to {self.path.parent}; "
                                     "wait for it to finish or choose another --out folder") from None
                raise
            # The holder before us may have unlinked the file after we opened it: lock the
            # file that is at the path now, or try again.
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                self.fd = fd
                return self
            os.close(fd)

    def _acquire_exclusive(self) -> "OutputLock":
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                try:
                    holder = int(self.path.read_text().strip() or 0)
                except (OSError, ValueError):
                    holder = 0
                if holder and not _alive(holder):
                    self.path.unlink(missing_ok=True)  # a dead run's lock
                    continue
                who = f" (pid {holder})" if holder else ""
                raise OutputBusy(f"another runrate run{who} is writing to {self.path.parent}; "
                                 "wait for it to finish or choose another --out folder") from None
            os.write(fd, f"{os.getpid()}\n".encode())
            self.fd = fd
            return self
        raise OutputBusy(f"could not lock {self.path.parent}")

    def release(self) -> None:
        if self.fd is None:
            return
        fd, self.fd = self.fd, None
        ours = _read_pid(fd) == os.getpid()
        try:
            if ours and fcntl is not None:
                os.unlink(self.path)  # still holding the lock: nobody else can be using this file
        except OSError:
            pass
        finally:
            os.close(fd)
        if ours and fcntl is None:  # Windows cannot unlink an open file
            try:
                os.unlink(self.path)
            except OSError:
                pass

    def __enter__(self) -> "OutputLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _read_pid(fd: int) -> int:
    try:
        if hasattr(os, "pread"):
            data = os.pread(fd, 32, 0)
        else:
            os.lseek(fd, 0, os.SEEK_SET)
            data = os.read(fd, 32)
        return int(data.decode().strip() or 0)
    except (OSError, ValueError):
        return 0


# --- stale outputs of the previous run ------------------------------------------------------


def recorded_files(out: Path) -> dict[str, list[str]]:
    """What the previous run recorded as written, from its summary.json: ``{folder: [relative
    paths]}`` per unit and ``{"": [...]}`` for top-level portfolio files. Empty when there is no
    readable record (then nothing is ever removed)."""
    try:
        data = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    record: dict[str, list[str]] = {}
    if not isinstance(data, dict):
        return {}
    for unit in data.get("units", []) if isinstance(data.get("units"), list) else []:
        if isinstance(unit, dict) and isinstance(unit.get("folder"), str) and isinstance(unit.get("files"), list):
            record.setdefault(unit["folder"], []).extend(f for f in unit["files"] if isinstance(f, str))
    portfolio = data.get("portfolio")
    if isinstance(portfolio, dict) and isinstance(portfolio.get("files"), list):
        record[""] = [f for f in portfolio["files"] if isinstance(f, str)]
    return record


JOURNAL_NAME = ".runrate-journal.json"
RECORD_NAMES = ("summary.json", "summary.csv", "run.log")


class Journal:
    """What a run in progress may leave in its output folder (see the module notes)."""

    def __init__(self, out: Path):
        self.out = Path(out)
        self.path = self.out / JOURNAL_NAME

    def left_over(self) -> dict[str, list[str]]:
        """Files a run that did not finish (no full record) may have written: ``{folder: [paths]}``
        as in :func:`recorded_files`; empty when the last run finished."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        files = data.get("files") if isinstance(data, dict) else None
        if not isinstance(files, dict):
            return {}
        return {k: [f for f in v if isinstance(f, str)] for k, v in files.items() if isinstance(k, str) and isinstance(v, list)}

    def start(self, previous: dict[str, list[str]], folders: Iterable[str]) -> None:
        """Before the first deliverable: note what earlier runs left and what this one may write,
        then remove the earlier records (they would contradict what this run replaces)."""
        files = {k: list(v) for k, v in previous.items()}
        for folder in [*folders, ""]:
            have = files.setdefault(folder, [])
            have += sorted(_deliverable_names(folder) - set(have))
        from .fsutil import atomic_write_text

        atomic_write_text(self.path, json.dumps({"pid": os.getpid(), "files": files}, indent=1) + "\n")
        for name in RECORD_NAMES:
            target = self.out / name
            if target.is_file() and not target.is_symlink():
                target.unlink()

    def finish(self) -> None:
        """The run's records are written in full: nothing is left unrecorded."""
        self.path.unlink(missing_ok=True)


def merge_records(*records: dict[str, list[str]]) -> dict[str, list[str]]:
    merged: dict[str, list[str]] = {}
    for record in records:
        for folder, files in record.items():
            have = merged.setdefault(folder, [])
            have += [f for f in files if f not in have]
    return merged


def _deliverable_names(folder: str) -> set[str]:
    if not folder:
        return {"portfolio.xlsx", "portfolio.pdf"}
    return {f"{folder}/scenario.yaml", *(f"{folder}/{folder}{s}" for s in (".xlsx", ".pdf", ".eml"))}


def remove_contradicted(out: Path, previous: dict[str, list[str]], now: dict[str, list[str]]) -> list[str]:
    """Remove files recorded by the previous run for a unit (folder) or the portfolio that this
    run processed (keys of ``now``) but did not write now. Only names this tool writes (a unit's
    scenario.yaml, workbook, memo and draft; the portfolio files) are ever removed, so a forged
    summary.json cannot point at a user's file; symlinks are never followed."""
    removed = []
    root = out.resolve()
    for folder, files in now.items():
        keep = set(files)
        for rel in previous.get(folder, []):
            if rel in keep:
                continue
            parts = Path(rel).parts
            if not parts or Path(rel).is_absolute() or ".." in parts:
                continue
            if rel not in _deliverable_names(folder):  # a file name this tool writes, nothing else
                continue
            target = out / rel
            try:
                if target.is_symlink() or not target.is_file() or not target.resolve().is_relative_to(root):
                    continue
                target.unlink()
                removed.append(rel)
            except OSError:
                continue
    return removed
