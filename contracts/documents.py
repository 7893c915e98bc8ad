"""YAML governance documents: parsing with line numbers, and signature blocks.

Conventions and the indicator catalog are YAML files that people read and
sign, so parsing is stricter than `yaml.safe_load`: a duplicate key (which
would let a reader see one value and the hub apply another), anchors and
aliases, and several documents in one file are refused. Every field's line
is kept so that problems can point at it. `replace_signatures` rewrites only
the top-level `signatures:` block of a file, leaving its comments and layout
as they were.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from contracts.errors import DocumentFileError
from contracts.problems import FieldPath, Problem


@dataclass(frozen=True)
class Document:
    """A parsed YAML mapping and the line (1-based) of each field in it."""

    file: str
    data: dict[str, Any]
    lines: Mapping[FieldPath, int]

    def line_of(self, path: FieldPath) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one."""
        for end in range(len(path), 0, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and aliases."""

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases are not allowed", mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _problem(file: str, line: int | None, message: str) -> DocumentFileError:
    return DocumentFileError([Problem(file, "(document)", "yaml", message, line)])


def _walk(node: yaml.Node, path: FieldPath, lines: dict[FieldPath, int], seen: set[int]) -> None:
    if id(node) in seen:
        raise yaml.composer.ComposerError(
            None, None, "anchors and aliases are not allowed", node.start_mark
        )
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            lines[(*path, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*path, key), lines, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _walk(item, (*path, index), lines, seen)


def _one_line(exc: yaml.YAMLError) -> tuple[str, int | None]:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        parts = [p for p in (exc.context, exc.problem) if p]
        return "invalid YAML: " + ", ".join(parts), (mark.line + 1 if mark else None)
    return f"invalid YAML: {exc}", None


def parse_document(text: str, file: str) -> Document:
    """Parse `text` (the content of `file`) as one YAML mapping."""
    loader = _StrictLoader(text)
    lines: dict[FieldPath, int] = {}
    try:
        node = loader.get_single_node()
        if node is None:
            raise _problem(file, None, "the file is empty")
        _walk(node, (), lines, set())
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        message, line = _one_line(exc)
        raise _problem(file, line, message) from exc
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise _problem(file, 1, "expected a mapping of fields at the top level")
    if not all(isinstance(key, str) for key in data):
        raise _problem(file, 1, "top-level keys must be strings")
    return Document(file, data, lines)


_SIGNATURES_LINE = re.compile(r"^signatures\s*:")


def replace_signatures(text: str, signatures: Mapping[str, str]) -> str:
    """`text` with its top-level `signatures:` block set to `signatures`
    (sorted by party), or the block appended; nothing else changes."""
    if signatures:
        block = ["signatures:\n"] + [f'  {p}: "{signatures[p]}"\n' for p in sorted(signatures)]
    else:
        block = ["signatures: {}\n"]
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if _SIGNATURES_LINE.match(line)), None)
    if start is None:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        return "".join(lines + block)
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t"):
        end += 1
    # keep the blank lines that separated the block from what follows
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return "".join(lines[:start] + block + lines[end:])
