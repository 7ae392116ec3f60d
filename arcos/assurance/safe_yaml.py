"""YAML read the safe way: plain data only (no tags that build objects), bounded in size,
nesting depth and alias expansion (a "billion laughs" document is refused before it is
built), duplicate keys refused, and every refusal naming its line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    NodeEvent,
    ScalarEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode

MAX_YAML_BYTES = 512 * 1024
MAX_DEPTH = 16
MAX_ALIASES = 64
#: Nodes the document may hold once every alias is expanded: GSN scale (200 elements with
#: 50 relations each and their keys come to about 12,000), far below what stalls a parse.
MAX_EXPANDED_NODES = 12_000


class YamlRefused(ValueError):
    """A document that is not safe or not valid YAML; `line` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line


@dataclass(frozen=True)
class LoadedYaml:
    value: Any
    #: The line of each top-level key (element ids, `module`), for messages.
    lines: dict[str, int]


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (YAML says keys are
    unique; PyYAML would silently keep the last)."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, ScalarNode):
                line = key_node.start_mark.line + 1
                if key_node.value in seen:
                    raise YamlRefused(f"the key {key_node.value!r:.60} is given twice (first on "
                                      f"line {seen[key_node.value]}); give each key once", line)
                seen[key_node.value] = line
        return super().construct_mapping(node, deep)  # type: ignore[no-any-return]


def load_yaml(data: bytes | str) -> LoadedYaml:
    """One YAML document as plain data, or YamlRefused saying what is wrong and where."""
    text = _text(data)
    _check_events(text)
    loader = _Loader(text)
    try:
        node: Node | None = loader.get_single_node()
        value = loader.construct_document(node) if node is not None else None
    except YamlRefused:
        raise
    except yaml.YAMLError as error:
        raise _refused(error) from None
    finally:
        loader.dispose()
    lines = {}
    if isinstance(node, MappingNode):
        lines = {str(key.value): key.start_mark.line + 1 for key, _ in node.value
                 if isinstance(key, ScalarNode)}
    return LoadedYaml(value, lines)


def _text(data: bytes | str) -> str:
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if len(raw) > MAX_YAML_BYTES:
        raise YamlRefused(f"the document is {len(raw)} bytes; at most {MAX_YAML_BYTES} are read")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        raise YamlRefused(f"the document is not UTF-8 text (byte {error.start}); send the YAML "
                          "file as UTF-8", line) from None
    if "\x00" in text:
        line = text[:text.index("\x00")].count("\n") + 1
        raise YamlRefused("the document holds a NUL character; it is binary, not YAML", line)
    return text.removeprefix("\ufeff")


def _check_events(text: str) -> None:
    """Depth, alias count and expanded size from the event stream, before anything is
    built (PyYAML's parser keeps its own stack; its composer would recurse)."""
    depth = aliases = total = 0
    anchors: dict[str, int] = {}
    open_anchors: list[tuple[str | None, int]] = []
    try:
        for event in yaml.parse(text, Loader=_Loader):
            line = event.start_mark.line + 1 if event.start_mark else None
            if isinstance(event, AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    raise YamlRefused(f"more than {MAX_ALIASES} aliases (*name); write the "
                                      "values out", line)
                total += anchors.get(event.anchor or "", 1)
            elif isinstance(event, NodeEvent):
                total += 1
                if isinstance(event, CollectionStartEvent):
                    depth += 1
                    if depth > MAX_DEPTH:
                        raise YamlRefused(f"nested deeper than {MAX_DEPTH} levels; a GSN "
                                          "document needs far fewer", line)
                    open_anchors.append((event.anchor, total))
                elif isinstance(event, ScalarEvent) and event.anchor:
                    anchors[event.anchor] = 1
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
                anchor, start = open_anchors.pop()
                if anchor:
                    anchors[anchor] = total - start + 1
            if total > MAX_EXPANDED_NODES:
                raise YamlRefused(f"the document expands to more than {MAX_EXPANDED_NODES} "
                                  "nodes (aliases repeating aliases?); write a smaller case",
                                  line)
    except yaml.YAMLError as error:
        raise _refused(error) from None


def _refused(error: yaml.YAMLError) -> YamlRefused:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    if isinstance(error, yaml.reader.ReaderError):
        return YamlRefused(f"the document holds a character YAML does not allow "
                           f"(U+{error.character:04X} at position {error.position}); it is not "
                           "YAML text")
    if isinstance(error, yaml.constructor.ConstructorError):
        problem = f"{problem}; only plain YAML (maps, lists, text, numbers, booleans) is read"
    return YamlRefused(str(problem), mark.line + 1 if mark is not None else None)
