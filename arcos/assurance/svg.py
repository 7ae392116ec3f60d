"""A case as an SVG diagram drawn in Python (no Graphviz needed): elements in rows by
their depth under the root, each in its GSN shape and filled in its status colour, with
SupportedBy arrows (solid heads) and InContextOf arrows (hollow heads).

Every element is one `<g class="gsn-node gsn-<kind>" id="node-<id>">`, so a reader (or a
test) can find and count them."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from xml.sax.saxutils import escape as escape_xml
from xml.sax.saxutils import quoteattr

from arcos.assurance.document import CaseDocument
from arcos.assurance.dot import STATUS_COLOURS
from arcos.community.gsn import CONTEXTUAL, UNPRINTABLE, Node, NodeType

WIDTH, HEIGHT, GAP_X, GAP_Y, MARGIN = 180, 84, 30, 56, 20
_LINE_CHARS, _MAX_LINES = 30, 4


def escape(text: str) -> str:
    """`text` as XML character data: escaped, and without the control characters XML
    cannot hold (cases stored before they were refused may carry some)."""
    return escape_xml(UNPRINTABLE.sub("\ufffd", text))


def _rows(document: CaseDocument) -> list[list[Node]]:
    """Elements by depth below the roots (contextual ones beside the element they serve)."""
    by_id = {node.id: node for node in document.elements}
    referred = {t for node in document.elements for t in (*node.supported_by,
                                                          *node.in_context_of)}
    rank: dict[str, int] = {}
    frontier = [node for node in document.elements if node.id not in referred]
    depth = 0
    while frontier:
        following: list[Node] = []
        for node in frontier:
            if node.id in rank:
                continue
            rank[node.id] = depth
            for target in node.in_context_of:
                if target in by_id and target not in rank:
                    rank[target] = depth
            following += [by_id[t] for t in node.supported_by if t in by_id]
        frontier, depth = following, depth + 1
    rows: list[list[Node]] = [[] for _ in range(max(rank.values(), default=0) + 1)]
    for node in document.elements:  # unreachable ones (ill-formed) go to the top row
        rows[rank.get(node.id, 0)].append(node)
    for row in rows:  # each contextual element right after the first it serves
        placed = [n for n in row if n.type not in CONTEXTUAL]
        for node in (n for n in row if n.type in CONTEXTUAL):
            owner = next((i for i, p in enumerate(placed) if node.id in p.in_context_of), None)
            placed.insert(len(placed) if owner is None else owner + 1, node)
        row[:] = placed
    return rows


def _shape(node: Node, fill: str) -> str:
    w, h = WIDTH, HEIGHT
    paint = f'fill="{fill}" stroke="#333" stroke-width="1.5"'
    if node.type == NodeType.STRATEGY:
        return f'<polygon points="18,0 {w},0 {w - 18},{h} 0,{h}" {paint}/>'
    if node.type == NodeType.SOLUTION:
        return f'<circle cx="{w / 2}" cy="{h / 2}" r="{h / 2 + 6}" {paint}/>'
    if node.type == NodeType.CONTEXT:
        return f'<rect width="{w}" height="{h}" rx="18" ry="18" {paint}/>'
    if node.type in (NodeType.ASSUMPTION, NodeType.JUSTIFICATION):
        mark = "A" if node.type == NodeType.ASSUMPTION else "J"
        return (f'<ellipse cx="{w / 2}" cy="{h / 2}" rx="{w / 2}" ry="{h / 2}" {paint}/>'
                f'<text x="{w - 8}" y="{h + 4}" font-weight="bold">{mark}</text>')
    away = (f'<line x1="0" y1="{h - 16}" x2="{w}" y2="{h - 16}" stroke="#333"/>'
            if node.type == NodeType.AWAY_GOAL else "")
    return f'<rect width="{w}" height="{h}" {paint}/>{away}'


def _label(node: Node) -> str:
    lines = textwrap.wrap(node.text, _LINE_CHARS)[:_MAX_LINES]
    if len(textwrap.wrap(node.text, _LINE_CHARS)) > _MAX_LINES:
        lines[-1] = lines[-1][:_LINE_CHARS - 1] + "…"
    top = 16 if node.type != NodeType.SOLUTION else 22
    spans = [f'<tspan x="{WIDTH / 2}" y="{top}" font-weight="bold">{escape(node.id)}</tspan>']
    spans += [f'<tspan x="{WIDTH / 2}" y="{top + 14 * (i + 1)}">{escape(line)}</tspan>'
              for i, line in enumerate(lines)]
    if node.module is not None:
        spans.append(f'<tspan x="{WIDTH / 2}" y="{HEIGHT - 4}">'
                     f'{escape(f"case {node.module}"[:_LINE_CHARS])}</tspan>')
    return f'<text text-anchor="middle">{"".join(spans)}</text>'


def to_svg(document: CaseDocument, statuses: Mapping[str, str] | None = None) -> str:
    statuses = statuses or {}
    rows = _rows(document)
    columns = max((len(row) for row in rows), default=1)
    width = 2 * MARGIN + columns * (WIDTH + GAP_X)
    height = 2 * MARGIN + 20 + len(rows) * (HEIGHT + GAP_Y)
    where: dict[str, tuple[float, float]] = {}
    for r, row in enumerate(rows):
        offset = (width - len(row) * (WIDTH + GAP_X)) / 2 + GAP_X / 2
        for c, node in enumerate(row):
            where[node.id] = (offset + c * (WIDTH + GAP_X), MARGIN + 20 + r * (HEIGHT + GAP_Y))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
             f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
             'font-family="Helvetica, Arial, sans-serif" font-size="11">',
             '<defs><marker id="solid" viewBox="0 0 10 10" refX="10" refY="5" '
             'markerWidth="8" markerHeight="8" orient="auto"><path d="M0,0 L10,5 L0,10 z" '
             'fill="#333"/></marker><marker id="hollow" viewBox="0 0 10 10" refX="10" '
             'refY="5" markerWidth="8" markerHeight="8" orient="auto"><path '
             'd="M0,0 L10,5 L0,10 z" fill="white" stroke="#333"/></marker></defs>',
             f'<title>{escape(document.title)}</title>',
             f'<text x="{MARGIN}" y="{MARGIN + 4}" font-size="14" font-weight="bold">'
             f'{escape(document.title)}</text>']
    for node in document.elements:
        x, y = where[node.id]
        for relation, targets, marker in (("supportedBy", node.supported_by, "solid"),
                                          ("inContextOf", node.in_context_of, "hollow")):
            for target in targets:
                if target not in where:
                    continue
                tx, ty = where[target]
                if relation == "supportedBy":
                    start, end = (x + WIDTH / 2, y + HEIGHT), (tx + WIDTH / 2, ty)
                else:
                    side = WIDTH if tx > x else 0
                    start, end = (x + side, y + HEIGHT / 2), (tx + WIDTH - side, ty + HEIGHT / 2)
                parts.append(f'<line class="gsn-{relation}" x1="{start[0]:.0f}" '
                             f'y1="{start[1]:.0f}" x2="{end[0]:.0f}" y2="{end[1]:.0f}" '
                             f'stroke="#333" marker-end="url(#{marker})"/>')
    for node in document.elements:
        x, y = where[node.id]
        status = statuses.get(node.id)
        fill = STATUS_COLOURS.get(status or "", "#ffffff")
        diamond = (f'<polygon class="gsn-undeveloped" points="{WIDTH / 2},{HEIGHT + 2} '
                   f'{WIDTH / 2 + 9},{HEIGHT + 11} {WIDTH / 2},{HEIGHT + 20} '
                   f'{WIDTH / 2 - 9},{HEIGHT + 11}" fill="white" stroke="#333"/>'
                   if node.undeveloped else "")
        tooltip = f"<title>{escape(node.id)}: {escape(status)}</title>" if status else ""
        parts.append(f'<g class="gsn-node gsn-{node.type.value}" id={quoteattr("node-" + node.id)}'
                     f' data-status={quoteattr(status or "")}'
                     f' transform="translate({x:.0f},{y:.0f})">{tooltip}'
                     f'{_shape(node, fill)}{diamond}{_label(node)}</g>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
