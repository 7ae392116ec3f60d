"""Goal Structuring Notation arguments and the well-formedness rules they must keep.

An argument is a list of nodes (Goal, Strategy, Solution, Context, Assumption,
Justification), each naming the nodes it is `supportedBy` and `inContextOf`, in the
interchange shape gsn2x's YAML uses. `check_argument` applies the rules every
industry template must pass; each problem names the node's path and what to change:

1. exactly one root (a node nothing points at), and it is a Goal;
2. every node is reachable from the root;
3. no SupportedBy cycles, no node referring to itself, no edge listed twice;
4. edges only between allowed types: SupportedBy Goal→Goal|Strategy|Solution and
   Strategy→Goal; InContextOf from a Goal or Strategy to a Context, Assumption or
   Justification; Solutions and contextual nodes have no children;
5. every Goal and Strategy is supported or marked undeveloped, and an undeveloped node
   has no support (undeveloped nodes are the argument's open items);
6. ids are present and unique, and every id referred to exists.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from arcos.evidence.drafts import IDENTIFIER
from arcos.problems import Problem, ProblemCode
from arcos.storable import unstorable

MAX_NODES = 200
MAX_EDGES_PER_NODE = 50
MAX_TEXT = 2000
NODE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$")


class NodeType(StrEnum):
    GOAL = "goal"
    STRATEGY = "strategy"
    SOLUTION = "solution"
    CONTEXT = "context"
    ASSUMPTION = "assumption"
    JUSTIFICATION = "justification"


CONTEXTUAL = frozenset({NodeType.CONTEXT, NodeType.ASSUMPTION, NodeType.JUSTIFICATION})
#: Rule 4: what each type may be SupportedBy.
SUPPORTS: dict[NodeType, frozenset[NodeType]] = {
    NodeType.GOAL: frozenset({NodeType.GOAL, NodeType.STRATEGY, NodeType.SOLUTION}),
    NodeType.STRATEGY: frozenset({NodeType.GOAL}),
}


@dataclass(frozen=True)
class Node:
    id: str
    type: NodeType
    text: str
    supported_by: tuple[str, ...] = ()
    in_context_of: tuple[str, ...] = ()
    undeveloped: bool = False
    #: For Solutions: the ARCOS evidence types that would be this solution's evidence.
    evidence_types: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "type": self.type.value, "text": self.text,
            "supportedBy": list(self.supported_by), "inContextOf": list(self.in_context_of),
            "undeveloped": self.undeveloped, "evidenceTypes": list(self.evidence_types),
        }


@dataclass
class Checked:
    """What checking an argument found: its problems and its open (undeveloped) items."""

    problems: list[Problem] = field(default_factory=list)
    open_items: list[str] = field(default_factory=list)


def parse_argument(raw: Any, path: str, problems: list[Problem]) -> list[Node]:
    """Nodes from JSON (`[{id, type, text, supportedBy, inContextOf, undeveloped,
    evidenceTypes}, …]`); shape problems are appended with `path.<index>.<field>`."""
    if not isinstance(raw, list) or not raw:
        problems.append(Problem(path, "give the argument as a non-empty list of nodes, each "
                                '{"id": "G1", "type": "goal", "text": …}', ProblemCode.INVALID))
        return []
    if len(raw) > MAX_NODES:
        problems.append(Problem(path, f"an argument has at most {MAX_NODES} nodes (got "
                                f"{len(raw)})", ProblemCode.TOO_LARGE))
        return []
    nodes = []
    for index, item in enumerate(raw):
        node = _parse_node(item, f"{path}.{index}", problems)
        if node is not None:
            nodes.append(node)
    return nodes


_KEYS = {"id", "type", "text", "supportedBy", "inContextOf", "undeveloped", "evidenceTypes"}


def _parse_node(raw: Any, path: str, problems: list[Problem]) -> Node | None:
    if not isinstance(raw, dict):
        problems.append(Problem(path, "a node is a JSON object", ProblemCode.INVALID))
        return None
    before = len(problems)
    for extra in sorted(set(raw) - _KEYS):
        problems.append(Problem(f"{path}.{extra:.40}", "unknown node field; a node has "
                                f"{', '.join(sorted(_KEYS))}", ProblemCode.INVALID))
    node_id = raw.get("id")
    if not isinstance(node_id, str) or not NODE_ID.match(node_id):
        problems.append(Problem(f"{path}.id", "give the node an id of 1-64 letters, digits, "
                                "'.', '_' or '-', starting with a letter (e.g. G1)",
                                ProblemCode.REQUIRED if node_id is None else ProblemCode.INVALID))
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in set(NodeType):
        problems.append(Problem(f"{path}.type", f"type must be one of "
                                f"{', '.join(NodeType)} (got {kind!r:.40})", ProblemCode.INVALID))
    text = raw.get("text")
    if not isinstance(text, str) or not 0 < len(text.strip()) <= MAX_TEXT or unstorable(text):
        problems.append(Problem(f"{path}.text", f"give the node's claim or description as "
                                f"1-{MAX_TEXT} characters of text (no NUL characters)",
                                ProblemCode.INVALID))
    supported = _ids(raw.get("supportedBy", []), f"{path}.supportedBy", problems)
    context = _ids(raw.get("inContextOf", []), f"{path}.inContextOf", problems)
    undeveloped = raw.get("undeveloped", False)
    if not isinstance(undeveloped, bool):
        problems.append(Problem(f"{path}.undeveloped", "undeveloped is true or false",
                                ProblemCode.INVALID))
    types = raw.get("evidenceTypes", [])
    if not isinstance(types, list) or len(types) > 16 or not all(
            isinstance(t, str) and IDENTIFIER.match(t) for t in types):
        problems.append(Problem(f"{path}.evidenceTypes", "evidenceTypes is a list of at most "
                                "16 evidence types such as test_results", ProblemCode.INVALID))
    if len(problems) != before:
        return None
    return Node(node_id, NodeType(kind), text.strip(), supported, context, undeveloped,
                tuple(types))


def _ids(raw: Any, path: str, problems: list[Problem]) -> tuple[str, ...]:
    if not isinstance(raw, list) or len(raw) > MAX_EDGES_PER_NODE or not all(
            isinstance(item, str) for item in raw):
        problems.append(Problem(path, f"a list of at most {MAX_EDGES_PER_NODE} node ids",
                                ProblemCode.INVALID))
        return ()
    return tuple(raw)


def check_argument(nodes: Sequence[Node], path: str) -> Checked:
    """Rules 1-6 over parsed nodes. A problem's field is `path.<index>` of the node at
    fault (`path.<index>.supportedBy` for an edge), its message names the node."""
    checked = Checked()
    problems = checked.problems
    index: dict[str, int] = {}
    for position, node in enumerate(nodes):  # rule 6: unique ids
        if node.id in index:
            problems.append(_problem(path, position, "id", f"{node.id} is used by node "
                                     f"{index[node.id]} too; give each node its own id"))
        else:
            index[node.id] = position
    by_id = {node.id: node for node in nodes}
    incoming: dict[str, int] = {node.id: 0 for node in nodes}
    for position, node in enumerate(nodes):
        for relation, targets in (("supportedBy", node.supported_by),
                                  ("inContextOf", node.in_context_of)):
            seen: set[str] = set()
            for target in targets:
                where = (position, relation)
                if target in seen:  # rule 3
                    problems.append(_problem(path, *where, f"{node.id} lists {target} twice "
                                             f"in {relation}; list it once"))
                    continue
                seen.add(target)
                if target == node.id:
                    problems.append(_problem(path, *where, f"{node.id} refers to itself in "
                                             f"{relation}; remove it"))
                    continue
                if target not in by_id:  # rule 6
                    problems.append(_problem(path, *where, f"{node.id} refers to {target}, "
                                             "which is not a node of this argument; add it or "
                                             "fix the id"))
                    continue
                incoming[target] += 1
                problems.extend(_edge_problems(path, position, node, relation, by_id[target]))
        problems.extend(_development_problems(path, position, node))
        if node.undeveloped and node.type in SUPPORTS:
            checked.open_items.append(node.id)
    roots = [node for node in nodes if incoming.get(node.id) == 0]
    problems.extend(_root_problems(path, roots, nodes, index))
    if len(roots) == 1:
        problems.extend(_reachability_problems(path, roots[0], nodes, by_id))
    problems.extend(_cycle_problems(path, nodes, by_id, index))
    return checked


def _problem(path: str, position: int, part: str | None, message: str) -> Problem:
    field_path = f"{path}.{position}" + (f".{part}" if part else "")
    return Problem(field_path, message, ProblemCode.INVALID)


def _edge_problems(path: str, position: int, node: Node, relation: str,
                   target: Node) -> list[Problem]:
    """Rule 4."""
    if relation == "supportedBy":
        allowed = SUPPORTS.get(node.type, frozenset())
        if not allowed:
            return [_problem(path, position, relation, f"{node.id} is a {node.type} and cannot "
                             f"be supported by anything; a {node.type} is a leaf")]
        if target.type not in allowed:
            return [_problem(path, position, relation, f"{node.id} ({node.type}) cannot be "
                             f"supportedBy {target.id} ({target.type}); a {node.type} is "
                             f"supported by {' or '.join(sorted(allowed))} nodes"
                             + (" (put a goal between them)" if node.type == NodeType.STRATEGY
                                else "") + (f"; put {target.id} in inContextOf instead"
                                            if target.type in CONTEXTUAL else ""))]
        return []
    if node.type not in SUPPORTS:
        return [_problem(path, position, relation, f"{node.id} is a {node.type}; only goals "
                         "and strategies have inContextOf")]
    if target.type not in CONTEXTUAL:
        return [_problem(path, position, relation, f"{node.id} is inContextOf {target.id}, a "
                         f"{target.type}; only context, assumption and justification nodes "
                         "can be context (use supportedBy for it)")]
    return []


def _development_problems(path: str, position: int, node: Node) -> list[Problem]:
    """Rule 5."""
    if node.type not in SUPPORTS:
        if node.undeveloped:
            return [_problem(path, position, "undeveloped", f"{node.id} is a {node.type}; only "
                             "goals and strategies can be marked undeveloped")]
        return []
    if node.undeveloped and node.supported_by:
        return [_problem(path, position, "undeveloped", f"{node.id} is marked undeveloped but "
                         "has supportedBy children; remove the mark or the children")]
    if not node.undeveloped and not node.supported_by:
        return [_problem(path, position, "supportedBy", f"{node.id} ({node.type}) has no "
                         "supportedBy children; support it or mark it undeveloped: true")]
    return []


def _root_problems(path: str, roots: list[Node], nodes: Sequence[Node],
                   index: dict[str, int]) -> list[Problem]:
    """Rule 1."""
    if not roots:
        return [Problem(path, "the argument has no root: every node is supported by or the "
                        "context of another; one top-level goal must be referred to by none",
                        ProblemCode.INVALID)] if nodes else []
    if len(roots) > 1:
        names = ", ".join(root.id for root in roots[:10])
        return [Problem(path, f"the argument has {len(roots)} roots ({names}); exactly one "
                        "top-level goal may be unreferenced: connect the others under it",
                        ProblemCode.INVALID)]
    root = roots[0]
    if root.type != NodeType.GOAL:
        return [_problem(path, index[root.id], "type", f"the root {root.id} is a {root.type}; "
                         "the root must be a goal")]
    return []


def _reachability_problems(path: str, root: Node, nodes: Sequence[Node],
                           by_id: dict[str, Node]) -> list[Problem]:
    """Rule 2."""
    reached = {root.id}
    frontier = [root]
    while frontier:
        node = frontier.pop()
        for target in (*node.supported_by, *node.in_context_of):
            if target in by_id and target not in reached:
                reached.add(target)
                frontier.append(by_id[target])
    return [_problem(path, position, None, f"{node.id} cannot be reached from the root "
                     f"{root.id}; connect it through supportedBy or inContextOf")
            for position, node in enumerate(nodes) if node.id not in reached]


def _cycle_problems(path: str, nodes: Sequence[Node], by_id: dict[str, Node],
                    index: dict[str, int]) -> list[Problem]:
    """Rule 3: a SupportedBy cycle, reported once at the node that closes it."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    problems: list[Problem] = []
    for start in nodes:
        if state.get(start.id):
            continue
        stack: list[tuple[str, int]] = [(start.id, 0)]
        state[start.id] = 1
        trail = [start.id]
        while stack:
            current, next_child = stack[-1]
            children = [c for c in by_id[current].supported_by if c in by_id and c != current]
            if next_child >= len(children):
                state[current] = 2
                stack.pop()
                trail.pop()
                continue
            stack[-1] = (current, next_child + 1)
            child = children[next_child]
            if state.get(child) == 1:
                cycle = " → ".join([*trail[trail.index(child):], child])
                problems.append(_problem(path, index[current], "supportedBy", f"SupportedBy "
                                         f"cycle {cycle}; an argument must not support itself: "
                                         f"remove {current}'s link to {child}"))
            elif not state.get(child):
                state[child] = 1
                trail.append(child)
                stack.append((child, 0))
    return problems
