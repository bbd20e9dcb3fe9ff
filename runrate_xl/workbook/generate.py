"""Fill the scenario template for one business unit.

The template of the scenario's shape (its options as (id, kind); built by :mod:`template`,
charts included; the legacy three-option shape's is the shipped file, or the user's
``scenario.xlsx`` from RUNRATE_TEMPLATES / ``--templates``) is patched at the XML level instead of
being loaded and re-saved with openpyxl: that keeps its charts (openpyxl drops the charts of a
file it loads), takes a few milliseconds instead of a few hundred, and lets us write the
engine's results as the cached values of the formula cells, so viewers that do not recalculate
still show the engine's numbers. ``fullCalcOnLoad`` stays on, so Excel and LibreOffice
recalculate every formula when the file opens.

Inputs are found through the template's defined names (``in_*``); every value is written as a
literal (numbers as numbers, text as inline strings), never as a formula, so a business unit
called ``=HYPERLINK(...)`` stays text.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional, Union
from xml.sax.saxutils import escape

from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

from ..engine.errors import RunrateError
from ..engine.results import Evaluation
from ..engine.scenario import Scenario
from ..fsutil import atomic_write_bytes
from ..sinks import literal_replacement
from . import layout as L
from . import values as V
from .zipnorm import read_zip, write_zip


class WorkbookError(RunrateError, ValueError):
    """A workbook could not be written or read; the message names sheet, cell, field and value."""


_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"([^>]*?)(/>|>(.*?)</c>)', re.S)
_DEFINED = re.compile(r'<definedName name="([^"]+)"[^>]*>([^<]+)</definedName>')
_SIMPLE_ALIAS = re.compile(r"^([A-Za-z_][A-Za-z0-9_.]*)$")


def _is_default(path: str, value: Any, scenario: Scenario) -> bool:
    """Whether ``value`` is the catalog default of the field at ``path``: a template made before
    the field existed stands for that default."""
    from ..fields import field_at

    kinds = {o.id: o.kind for o in scenario.options}
    f = field_at(path, kinds)
    return f is not None and f.default is not None and f.default == value


def template_path():
    """The legacy shape's template in use (a Path or an importlib.resources Traversable): the
    user's scenario.xlsx when their template folder (RUNRATE_TEMPLATES / --templates) has one,
    else the one shipped as package data. Other shapes are built by :mod:`template`."""
    from ..templates import workbook_template

    try:
        return workbook_template()
    except RunrateError as exc:
        raise WorkbookError(str(exc)) from None


@dataclass(frozen=True)
class Template:
    entries: tuple[tuple[str, bytes], ...]
    sheet_files: dict  # sheet name -> zip entry
    names: dict  # defined name -> (sheet, [cells in reading order])
    aliases: dict  # sheet -> {cell: name} for formula cells that are exactly "=name"
    layout: L.Layout


def _expand(ref: str) -> list[str]:
    from openpyxl.utils.cell import range_boundaries, get_column_letter

    ref = ref.replace("$", "")
    if ":" not in ref:
        return [ref]
    c1, r1, c2, r2 = range_boundaries(ref)
    return [f"{get_column_letter(c)}{r}" for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]


def parse_names(workbook_xml: str) -> dict[str, tuple[str, list[str]]]:
    names = {}
    for name, target in _DEFINED.findall(workbook_xml):
        if name.startswith("_xlnm") or "!" not in target:
            continue
        sheet, ref = target.rsplit("!", 1)
        names[name] = (sheet.strip("'").replace("''", "'"), _expand(ref))
    return names


@lru_cache(maxsize=4)
def _load_template(path: str, mtime: float, source=None) -> Template:
    return _parse_template((source if source is not None else Path(path)).read_bytes(), L.legacy_layout())


@lru_cache(maxsize=16)
def _built_template(shape: L.Shape) -> Template:
    from .template import template_bytes

    return _parse_template(template_bytes(shape), L.layout_for(shape))


def template_for(scenario: Scenario) -> Template:
    """The template of the scenario's shape: the legacy three columns' file (shipped or the
    user's), else one built for its options (once per process and shape)."""
    try:
        shape = L.shape_of(scenario)
        if shape == L.LEGACY_SHAPE:
            return load_template()
        return _built_template(shape)
    except L.LayoutError as exc:
        raise WorkbookError(str(exc)) from None


def _parse_template(data: bytes, layout: L.Layout) -> Template:
    entries = tuple(read_zip(data))
    files = dict(entries)
    wb_xml = files["xl/workbook.xml"].decode("utf-8")
    rels = files["xl/_rels/workbook.xml.rels"].decode("utf-8")
    targets = dict(re.findall(r'<Relationship[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"', rels))
    targets.update({k: v for v, k in re.findall(r'<Relationship[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)})
    sheet_files = {}
    for name, rid in re.findall(r'<sheet name="([^"]+)"[^>]*?r:id="([^"]+)"', wb_xml):
        target = targets[rid].lstrip("/")
        sheet_files[_unescape(name)] = target if target.startswith("xl/") else f"xl/{target}"
    names = parse_names(wb_xml)
    aliases: dict[str, dict[str, str]] = {}
    for sheet, entry in sheet_files.items():
        xml = files[entry].decode("utf-8")
        found = {}
        for ref, _attrs, _tail, body in _CELL.findall(xml):
            m = re.match(r"<f>([^<]*)</f>", body or "")
            if m and _SIMPLE_ALIAS.match(m.group(1)):
                found[ref] = m.group(1)
        aliases[sheet] = found
    return Template(entries, sheet_files, names, aliases, layout)


def load_template(path: Optional[Union[str, Path]] = None) -> Template:
    p = Path(path) if path is not None else template_path()
    if not p.is_file():
        raise WorkbookError(f"template {p} is missing: run `python -m runrate_xl.workbook.template` to build it")
    if isinstance(p, Path):
        return _load_template(str(p), p.stat().st_mtime)
    return _load_template(str(p), 0.0, p)  # a resource inside a zip: it cannot change while we run


def _unescape(text: str) -> str:
    return text.replace("&quot;", '"').replace("&apos;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _number(x: float) -> str:
    if isinstance(x, bool):
        return "1" if x else "0"
    if isinstance(x, int):
        return str(x)
    if not math.isfinite(x):
        raise WorkbookError(f"cannot write the non-finite number {x!r}")
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return repr(float(x))


def _text(value: str, where: str) -> str:
    if _ILLEGAL_XML.search(value):
        raise WorkbookError(f"{where}: got {value!r}, expected text without control characters")
    return escape(value)


def _input_xml(ref: str, attrs: str, value: Any, where: str) -> str:
    attrs = re.sub(r'\s+t="[^"]*"', "", attrs)
    if value is None:
        return f'<c r="{ref}"{attrs}/>'
    if isinstance(value, str):
        return f'<c r="{ref}"{attrs} t="inlineStr"><is><t xml:space="preserve">{_text(value, where)}</t></is></c>'
    return f'<c r="{ref}"{attrs} t="n"><v>{_number(value)}</v></c>'


def _cached_xml(ref: str, attrs: str, body: str, value: Any) -> str:
    """A formula cell with ``value`` as its cached result."""
    attrs = re.sub(r'\s+t="[^"]*"', "", attrs)
    formula = re.match(r"(<f[^>]*>.*?</f>|<f[^>]*/>)", body, re.S)
    if formula is None:
        return f'<c r="{ref}"{attrs}>{body}</c>'
    f = formula.group(1)
    if isinstance(value, bool):
        return f'<c r="{ref}"{attrs} t="b">{f}<v>{int(value)}</v></c>'
    if isinstance(value, str):
        return f'<c r="{ref}"{attrs} t="str">{f}<v>{escape(value)}</v></c>'
    return f'<c r="{ref}"{attrs}>{f}<v>{_number(value)}</v></c>'


def workbook_bytes(evaluation: Evaluation, *, cache_values: bool = True, template: Optional[Template] = None) -> bytes:
    """The filled workbook as deterministic xlsx bytes."""
    scenario = evaluation.scenario
    t = template or template_for(scenario)
    lay = t.layout
    for option in scenario.options_of("api"):
        if len(option.price_tiers) > L.MAX_TIERS:  # type: ignore[attr-defined]
            raise WorkbookError(f"{option.id}.price_tiers: got {len(option.price_tiers)} tiers, expected at most "  # type: ignore[attr-defined]
                                f"{L.MAX_TIERS} (the Prices sheet has that many rows per API option)")
    inputs: dict[str, dict[str, tuple[Any, str]]] = {}
    values = V.input_values(scenario, lay)
    if "cat_instances" in t.names:  # the template looks catalog figures up: leave them blank (see V.catalog_lookups)
        for name in V.catalog_lookups(scenario, lay):
            values[name] = None
    for name, value in values.items():
        spec = lay.by_name[name]
        if name not in t.names:
            if value is None or _is_default(spec.path, value, scenario):
                continue  # a field an older template (a user's) has no cell for, left blank or at its default
            raise WorkbookError(f"the template has no cell named {name} for {spec.path} (got {value!r}): rebuild your "
                                "scenario.xlsx from the shipped one")
        sheet, refs = t.names[name]
        inputs.setdefault(sheet, {})[refs[0]] = (value, f"{sheet}!{refs[0]} ({spec.path})")
    for name, text in {**V.engine_texts(evaluation), **V.generation_values(evaluation, lay)}.items():
        if name not in t.names:
            continue
        sheet, refs = t.names[name]
        inputs.setdefault(sheet, {})[refs[0]] = (text, f"{sheet}!{refs[0]}")
    cached: dict[str, dict[str, Any]] = {}
    if cache_values:
        by_name = V.output_values(evaluation, lay)
        by_name.update(values)
        by_name.update(V.engine_texts(evaluation))
        by_name.update({f"c_{s.frag}_label": scenario.label_of(s.id) if scenario.find_option(s.id) else s.default_label
                        for s in lay.slots})
        for (sheet, ref), value in V.expected_cells(evaluation, t.names, lay, strict=False).items():
            cached.setdefault(sheet, {})[ref] = value
        name_line = f"Business unit: {scenario.name}"
        for sheet, found in t.aliases.items():
            for ref, name in found.items():
                if name in by_name and by_name[name] is not None:
                    cached.setdefault(sheet, {}).setdefault(ref, by_name[name])
        for sheet in t.sheet_files:
            cached.setdefault(sheet, {}).setdefault("B2", name_line)
    out = []
    files_to_sheet = {v: k for k, v in t.sheet_files.items()}
    horizon_end = L.MONTHLY_FIRST_ROW + scenario.horizon.months
    absent = [s for s in lay.slots if scenario.find_option(s.id) is None]
    for entry, data in t.entries:
        sheet = files_to_sheet.get(entry)
        if sheet is not None and (sheet in inputs or sheet in cached):
            data = _patch_sheet(data.decode("utf-8"), inputs.get(sheet, {}), cached.get(sheet, {})).encode("utf-8")
            if sheet == L.INPUTS:
                data = _fit_text_inputs(data.decode("utf-8"), lay, scenario).encode("utf-8")
        elif entry.startswith("xl/charts/chart"):
            data = _trim_chart(data.decode("utf-8"), horizon_end, _series_refs(t, absent)).encode("utf-8")
        elif entry == "docProps/core.xml":
            title = f"<dc:title>{_text(scenario.name[:120], 'name')}</dc:title>"
            data = re.sub(r"<dc:title>.*?</dc:title>", literal_replacement(title), data.decode("utf-8")).encode("utf-8")
        out.append((entry, data))
    return write_zip(out)


# Column widths are in widths of '0' in the default font; a text of n characters needs about n + 2.
TEXT_COLUMN_MAX_WIDTH = 60
LINE_HEIGHT_POINTS = 15
AVERAGE_CHARS_PER_WIDTH = 1.2  # prose in the default font: letters are narrower than '0'
MAX_ROW_HEIGHT_POINTS = 409  # Excel's limit


def _fit_text_inputs(xml: str, lay: L.Layout, scenario: Scenario) -> str:
    """Size the Inputs sheet to the unit's own texts so nothing is clipped: the value column as wide
    as the name and owner e-mail (one line each, at most TEXT_COLUMN_MAX_WIDTH), the notes row as
    tall as its wrapped lines."""
    specs = {spec.path: spec for spec in lay.specs if spec.sheet == L.INPUTS and spec.path in ("name", "owner_email", "notes")}
    if "notes" not in specs:
        return xml
    col, row = coordinate_from_string(specs["notes"].cell)
    index = column_index_from_string(col)
    pattern = re.compile(rf'<col width="([0-9.]+)" customWidth="1" min="{index}" max="{index}" />')
    found = pattern.search(xml)
    if found is None:
        return xml
    one_line = max((len(getattr(scenario, path) or "") for path in ("name", "owner_email") if path in specs), default=0)
    width = max(float(found.group(1)), min(one_line + 2, TEXT_COLUMN_MAX_WIDTH))
    xml = pattern.sub(f'<col width="{width:g}" customWidth="1" min="{index}" max="{index}" />', xml, count=1)
    notes = scenario.notes or ""
    per_line = max(int(width * AVERAGE_CHARS_PER_WIDTH) - 1, 1)
    lines = sum(max(1, math.ceil(len(part) / per_line)) for part in notes.split("\n")) if notes else 1
    if lines > 1:
        height = min(lines * LINE_HEIGHT_POINTS, MAX_ROW_HEIGHT_POINTS)
        xml = re.sub(rf'<row r="{row}"( [^>]*)?>', f'<row r="{row}" ht="{height}" customHeight="1">', xml, count=1)
    return xml


def _series_refs(t: Template, absent: list) -> list[str]:
    """The chart data ranges of options the scenario does not compare (switched off)."""
    refs = []
    for s in absent:
        for name in (f"ser_{s.frag}_cumulative", f"curve_{s.frag}"):
            if name in t.names:
                sheet, cells = t.names[name]
                col = "".join(ch for ch in cells[0] if ch.isalpha())
                refs.append(f"{sheet}'!${col}$")
    return refs


def _patch_sheet(xml: str, inputs: dict[str, tuple[Any, str]], cached: dict[str, Any]) -> str:
    seen = set()

    def repl(m: re.Match) -> str:
        ref, attrs, body = m.group(1), m.group(2), m.group(4) or ""
        if ref in inputs:
            seen.add(ref)
            value, where = inputs[ref]
            return _input_xml(ref, attrs, value, where)
        if ref in cached and body.startswith("<f"):
            value = cached[ref]
            if value is None:
                return m.group(0)
            return _cached_xml(ref, attrs, body, value)
        return m.group(0)

    xml = _CELL.sub(repl, xml)
    missing = set(inputs) - seen
    if missing:
        raise WorkbookError(f"the template has no cell for {', '.join(sorted(missing))}: rebuild the template")
    return xml


def _trim_chart(xml: str, end_row: int, absent_refs: list[str]) -> str:
    """Monthly chart ranges stop at the horizon (the rows past it are blank); the series of
    options the scenario does not compare are left out."""
    def keep(m: re.Match) -> str:
        body = m.group(0).replace("&apos;", "'")
        return "" if any(ref in body for ref in absent_refs) else m.group(0)

    if absent_refs:
        xml = re.sub(r"<ser>.*?</ser>", keep, xml, flags=re.S)
    last = L.MONTHLY_FIRST_ROW + L.MAX_MONTHS
    pattern = re.compile(r"(&apos;|')?" + re.escape(L.MONTHLY) + r"(&apos;|')?!\$([A-Z]+)\$(\d+):\$([A-Z]+)\$" + str(last) + r"\b")
    return pattern.sub(lambda m: f"{m.group(1) or ''}{L.MONTHLY}{m.group(2) or ''}!${m.group(3)}${m.group(4)}:${m.group(5)}${end_row}", xml)


def generate_workbook(scenario: Scenario, path, *, evaluation: Optional[Evaluation] = None,
                      as_of: Optional[dt.date] = None) -> Path:
    """Write the scenario workbook for ``scenario`` to ``path`` (atomically) and return the path.

    The workbook holds the resolved scenario (catalog prices made explicit) so every price is an
    input the analyst can see and change.
    """
    if evaluation is None:
        from ..api import evaluate_scenario

        evaluation = evaluate_scenario(scenario, as_of)
    return atomic_write_bytes(Path(path), workbook_bytes(evaluation))
