"""A case as Graphviz DOT, with GSN's shapes (goal box, strategy parallelogram, solution
circle, context rounded box, assumption/justification ellipse marked A/J, undeveloped ◇)
and each element filled in its status colour. Needs no Graphviz to write."""

from __future__ import annotations

from collections.abc import Mapping

from arcos.assurance.document import CaseDocument
from arcos.community.gsn import Node, NodeType

#: Fill colour per element status (SUPPORTED, FAILING, …); no status: white.
STATUS_COLOURS: dict[str, str] = {
    "SUPPORTED": "#c8e6c9", "FAILING": "#ffcdd2", "MISSING": "#ffe0b2", "STALE": "#fff9c4",
    "OPEN": "#ffe0b2",
}
_SHAPES: dict[NodeType, str] = {
    NodeType.GOAL: 'shape=box', NodeType.AWAY_GOAL: 'shape=tab',
    NodeType.STRATEGY: 'shape=parallelogram', NodeType.SOLUTION: 'shape=circle',
    NodeType.CONTEXT: 'shape=box, style="rounded,filled"', NodeType.ASSUMPTION: 'shape=ellipse',
    NodeType.JUSTIFICATION: 'shape=ellipse',
}
_MARKS = {NodeType.ASSUMPTION: "A", NodeType.JUSTIFICATION: "J"}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def label(node: Node) -> str:
    """The element's label: id, text, module of an away goal, A/J mark, ◇ if undeveloped."""
    parts = [node.id, node.text]
    if node.module is not None:
        parts.append(f"(away: case {node.module})")
    if node.type in _MARKS:
        parts[0] = f"{node.id} ({_MARKS[node.type]})"
    if node.undeveloped:
        parts.append("◇")
    return "\n".join(parts)


def to_dot(document: CaseDocument, statuses: Mapping[str, str] | None = None) -> str:
    statuses = statuses or {}
    lines = ["digraph case {", f"  label={_quote(document.title)};", "  labelloc=t;",
             '  node [style=filled, fillcolor=white, fontname="Helvetica", fontsize=10];']
    for node in document.elements:
        status = statuses.get(node.id)
        colour = STATUS_COLOURS.get(status or "", "white")
        style = _SHAPES[node.type]
        if "style=" not in style:
            style += ", style=filled"
        lines.append(f"  {_quote(node.id)} [{style}, fillcolor={_quote(colour)}, "
                     f"label={_quote(label(node))}"
                     + (f", tooltip={_quote(status)}" if status else "") + "];")
    for node in document.elements:
        for target in node.supported_by:
            lines.append(f"  {_quote(node.id)} -> {_quote(target)} [arrowhead=normal];")
        for target in node.in_context_of:
            lines.append(f"  {_quote(node.id)} -> {_quote(target)} [arrowhead=empty];")
            lines.append(f"  {{rank=same; {_quote(node.id)}; {_quote(target)}}}")
    lines.append("}")
    return "\n".join(lines) + "\n"
