"""The one YAML loader every reader of user YAML uses: bounded work for any input.

``yaml.safe_load`` is safe against code execution but not against work: a few hundred bytes of
nested aliases (``&a [*b, *b, ...]``) expand to billions of nodes once the value is walked
(validated, repr()'d, dumped), and deep nesting overflows the recursion limit. This loader
counts every node *as expanded* (an alias counts the whole subtree it points to) and refuses a
document above :data:`MAX_NODES`, caps nesting depth, and caps the text size before parsing.
Plain anchors and aliases (PyYAML writes them for repeated values) still load. Integers are
parsed as Python ints (arbitrary size); they are checked where they enter the model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Union

import yaml

MAX_YAML_BYTES = 20 * 1024 * 1024  # the batch input limit; scenario files are far smaller
MAX_NODES = 1_000_000  # expanded: 5,000 BUs x 100 fields is 500,000
MAX_DEPTH = 64


class YamlRefused(yaml.YAMLError):
    """A YAML text this tool will not load: the message says why and where."""


class _BoundedLoader(yaml.SafeLoader):
    def __init__(self, stream: Any):
        super().__init__(stream)
        self._depth = 0
        self._sizes: dict[int, int] = {}  # id(node) -> nodes it expands to

    def compose_node(self, parent, index):  # type: ignore[override]
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise YamlRefused(f"YAML nested more than {MAX_DEPTH} levels deep (line {mark.line + 1})")
            mark = self.peek_event().start_mark
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        size = self._sizes.get(id(node))
        if size is None:  # a new node: its children are already measured
            if isinstance(node, yaml.SequenceNode):
                size = 1 + sum(self._sizes.get(id(c), 1) for c in node.value)
            elif isinstance(node, yaml.MappingNode):
                size = 1 + sum(self._sizes.get(id(k), 1) + self._sizes.get(id(v), 1) for k, v in node.value)
            else:
                size = 1
            self._sizes[id(node)] = size
        if size > MAX_NODES:
            raise YamlRefused(f"YAML expands to more than {MAX_NODES:,} values (aliases *name repeat whole "
                              f"subtrees; line {mark.line + 1})")
        return node


def load_yaml(text: Union[str, bytes], *, max_bytes: int = MAX_YAML_BYTES) -> Any:
    """Parse one YAML (or JSON) document with no aliases/anchors, bounded nesting and size.
    Raises :class:`yaml.YAMLError` (:class:`YamlRefused` for the limits)."""
    size = len(text.encode("utf-8")) if isinstance(text, str) else len(text)
    if size > max_bytes:
        raise YamlRefused(f"{size:,} bytes of YAML, expected at most {max_bytes:,}")
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def load_yaml_file(path: Union[str, Path], *, max_bytes: int = MAX_YAML_BYTES) -> Any:
    """:func:`load_yaml` of a UTF-8 file, refusing an oversized file before reading it."""
    p = Path(path)
    size = p.stat().st_size
    if size > max_bytes:
        raise YamlRefused(f"{size:,} bytes, expected at most {max_bytes:,}")
    return load_yaml(p.read_text(encoding="utf-8"), max_bytes=max_bytes)


def yaml_problem(exc: BaseException) -> str:
    """A short description of a YAML parse failure for a message (never the document)."""
    if isinstance(exc, YamlRefused):
        return str(exc)
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}" if mark is not None else ""
    return f"{exc.__class__.__name__}{where}"
