"""Recalculate (or convert) many files with ONE headless LibreOffice call.

LibreOffice runs with a throw-away user profile whose only setting makes Calc recalculate
every formula when it loads an OOXML/ODF file (``/org.openoffice.Office.Calc/Formula/Load``
``OOXMLRecalcMode`` = 0, "always"), so the values read back are LibreOffice's, not the cached
values written by the generator. Other helpers may reuse :func:`convert`.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def make_profile(root: Path) -> str:
    """A fresh LibreOffice profile under ``root`` set to always recalculate; returns its URL."""
    user = root / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(RECALC_ALWAYS, encoding="utf-8")
    return root.resolve().as_uri()


def convert(files: Sequence[Path], outdir: Path, to: str = "xlsx", timeout: float = 600) -> list[Path]:
    """Convert ``files`` in one soffice call (recalculating on load); returns the output paths
    in the same order. Input base names must be distinct."""
    exe = soffice()
    if exe is None:
        raise RuntimeError("LibreOffice (soffice) is not installed")
    files = [Path(f).resolve() for f in files]
    stems = [f.stem for f in files]
    if len(set(stems)) != len(stems):
        raise ValueError("input files need distinct names: LibreOffice writes <stem>.<ext> into one folder")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as prof:
        cmd = [exe, f"-env:UserInstallation={make_profile(Path(prof))}", "--headless", "--norestore",
               "--nolockcheck", "--convert-to", to, "--outdir", str(outdir), *map(str, files)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    ext = to.split(":")[0]
    outputs = [outdir / f"{stem}.{ext}" for stem in stems]
    missing = [str(p) for p in outputs if not p.exists()]
    if missing:
        raise RuntimeError(f"LibreOffice did not write {missing}\nstdout: {proc.stdout}\nstderr: {proc.stderr}")
    return outputs


def recalculate(files: Iterable[Path], outdir: Path) -> list[Path]:
    """xlsx -> recalculated xlsx (values computed by LibreOffice)."""
    return convert(list(files), outdir, "xlsx")
