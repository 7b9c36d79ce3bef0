"""Reading a plan file (DESIGN §7): UTF-8 YAML, or JSON, into mappings and lists that
remember the line of every key and item, so that every problem can say where it is.

The reader refuses what a plan file never needs and a YAML reader would take at great cost:
aliases (a few hundred bytes can stand for billions of nodes) and deep nesting (Python's
stack). Bytes that are not UTF-8, control characters and broken YAML become a problem with
its line, never a traceback.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from django.utils.translation import gettext as _

from targets.errors import ImportFailed, Problem

_UNQUOTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def shown(value: Any, limit: int = 60) -> str:
    """A value of the file as a problem quotes it: short, with control characters escaped."""
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _UNQUOTABLE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


class Located(dict):
    """A mapping from the file that remembers its line, the line of each key, and the keys
    it holds more than once (YAML keeps the last)."""

    line: int = 0
    key_lines: dict[str, int]
    repeated: list[tuple[str, int]]


class LocatedList(list):
    """A list from the file that remembers its line and the line of each item."""

    line: int = 0
    item_lines: list[int]


# A plan file nests 7 levels (plans, a plan, its targets, a target, its milestones, a
# milestone, a value); deeper is a mistake, and far deeper would exhaust Python's stack.
MAX_NESTING = 20
_FLOAT_TAG = "tag:yaml.org,2002:float"


class PlanFileRefused(yaml.MarkedYAMLError):
    """YAML that a plan file does not accept, though a YAML reader would."""

    def __init__(self, mark: yaml.Mark, message: str) -> None:
        super().__init__(problem=message, problem_mark=mark)


class _PlanLoader(yaml.SafeLoader):
    """The safe loader without aliases, which let a few hundred bytes stand for billions of
    nodes (a plan file never needs them), and without nesting beyond MAX_NESTING."""

    nesting = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise PlanFileRefused(
                event.start_mark,
                _("YAML aliases (*%(name)s) are not accepted in a plan file: write the value "
                  "out") % {"name": shown(event.anchor)},
            )
        self.nesting += 1
        try:
            if self.nesting > MAX_NESTING:
                raise PlanFileRefused(
                    event.start_mark,
                    _("nested more than %(max)s levels deep") % {"max": MAX_NESTING},
                )
            return super().compose_node(parent, index)
        finally:
            self.nesting -= 1


def _build(node: yaml.Node, loader: yaml.SafeLoader) -> Any:
    if isinstance(node, yaml.MappingNode):
        mapping = Located()
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {}
        mapping.repeated = []
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else shown(
                _build(key_node, loader)
            )
            line = key_node.start_mark.line + 1
            if key in mapping:
                mapping.repeated.append((key, line))
            mapping[key] = _build(value_node, loader)
            mapping.key_lines[key] = line
        return mapping
    if isinstance(node, yaml.SequenceNode):
        items = LocatedList(_build(item, loader) for item in node.value)
        items.line = node.start_mark.line + 1
        items.item_lines = [item.start_mark.line + 1 for item in node.value]
        return items
    try:
        value = loader.construct_object(node, deep=True)
    except yaml.YAMLError:
        raise
    except Exception:
        # 2025-06-31, `!!bool maybe`, an integer of 5,000 digits: the text stays, and the
        # schema says what is wrong with it.
        return node.value
    if node.tag == _FLOAT_TAG:
        # Exactly as written: 0.1 is not the float 0.1000000000000000055…
        try:
            exact = Decimal(node.value.replace("_", ""))
        except ArithmeticError:
            return value
        return exact if exact.is_finite() else value
    return value


def load_located(text: str, filename: str = "<plan>") -> Any:
    """The YAML (or JSON) text as Located mappings and lists; yaml.YAMLError if it is not."""
    loader = _PlanLoader(text)
    loader.name = filename
    try:
        node = loader.get_single_node()
        return None if node is None else _build(node, loader)
    finally:
        loader.dispose()


def plan_file_parse(content: bytes, filename: str, *, json: bool = False) -> Any:
    """The data of a plan file's bytes, or ImportFailed saying where they cannot be read."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        message = _("the file is not UTF-8 (byte 0x%(byte)02X): save it as UTF-8") % {
            "byte": content[exc.start]
        }
        raise ImportFailed([Problem(f"{filename}:{line}", "", message, line=line)]) from None
    if json:
        # JSON is read as YAML (its superset) to keep line numbers; JSON may indent with tabs,
        # which YAML forbids, and a raw tab can only be whitespace in valid JSON.
        text = text.replace("\t", " ")
    try:
        return load_located(text, filename)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        message = _("contains a control character (U+%(code)s): remove it") % {
            "code": f"{exc.character:04X}" if isinstance(exc.character, int) else "?"
        }
    except PlanFileRefused as exc:
        line = exc.problem_mark.line + 1
        message = exc.problem
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else 0
        parts = [getattr(exc, "context", None), getattr(exc, "problem", None)]
        reason = "; ".join(shown(p, 200) for p in parts if p) or shown(exc, 200)
        message = _("not valid YAML/JSON: %(error)s") % {"error": reason}
    place = f"{filename}:{line}" if line else filename
    raise ImportFailed([Problem(place, "", message, line=line)])


def plan_file_read(path: str | Path) -> Any:
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as exc:
        problem = Problem(str(path), "", _("cannot read the file: %(error)s") % {"error": exc})
        raise ImportFailed([problem]) from exc
    return plan_file_parse(content, path.name, json=path.suffix.lower() == ".json")


