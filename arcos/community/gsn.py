"""Goal Structuring Notation arguments and the well-formedness rules they must keep: the
one model behind the community's industry templates and the assurance cases
(arcos/assurance/).

An argument is a list of nodes (Goal, Strategy, Solution, Context, Assumption,
Justification, and Away Goals naming a public goal of another case: modular GSN), each
naming the nodes it is `supportedBy` and `inContextOf`, in the interchange shape gsn2x's
YAML uses. `check_argument` applies the rules below; each `Violation` names its rule, the
elements at fault, the node's path and what to change, like a compiler error. Errors break
the argument (a template or case is refused); an argument that is only *incomplete* (a
goal neither supported nor marked undeveloped) may be saved as a case, whose status says
so; warnings (rule 8) never refuse anything:

1. exactly one root (a node nothing points at), and it is a Goal;
2. every node is reachable from the root;
3. no SupportedBy cycles, no node referring to itself, no edge listed twice;
4. edges only between allowed types: SupportedBy Goal→Goal|Strategy|Solution and
   Strategy→Goal; InContextOf from a Goal or Strategy to a Context, Assumption or
   Justification; Solutions and contextual nodes have no children;
5. every Goal and Strategy is supported or marked undeveloped, and an undeveloped node
   has no support (undeveloped nodes are the argument's open items);
6. ids are present and unique, also across modules: no element of the argument uses an id
   that a case its Away Goals refer to uses too (gsn2x's C07), except the Away Goal that
   stands for that case's goal; every id referred to exists, and every Away Goal resolves
   to a public goal of the case (module) it names;
8. (warnings) a Solution binds to evidence by a rule; a Goal does not go straight to more
   than MAX_DIRECT_SOLUTIONS Solutions without a Strategy.

Rule 7 (defeated elements) belongs to GSN's dialectic extension, which ARCOS does not read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from arcos.evidence.drafts import IDENTIFIER
from arcos.problems import Problem, ProblemCode
from arcos.storable import unstorable

MAX_NODES = 200
MAX_EDGES_PER_NODE = 50
MAX_TEXT = 2000
#: Rule 8: more Solutions than this straight under one Goal asks for a Strategy.
MAX_DIRECT_SOLUTIONS = 3
#: C0 controls (and DEL) other than tab and newline: no XML (SVG) can hold most of them and
#: none belongs in a claim; NUL no store keeps either.
UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
NODE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$")
#: What names another case (module) an Away Goal refers to: a case id.
MODULE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:=\-]{0,127}$")


class NodeType(StrEnum):
    GOAL = "goal"
    STRATEGY = "strategy"
    SOLUTION = "solution"
    CONTEXT = "context"
    ASSUMPTION = "assumption"
    JUSTIFICATION = "justification"
    #: A public goal of another case (module), developed there.
    AWAY_GOAL = "away_goal"


CONTEXTUAL = frozenset({NodeType.CONTEXT, NodeType.ASSUMPTION, NodeType.JUSTIFICATION})
#: Rule 4: what each type may be SupportedBy.
SUPPORTS: dict[NodeType, frozenset[NodeType]] = {
    NodeType.GOAL: frozenset({NodeType.GOAL, NodeType.STRATEGY, NodeType.SOLUTION,
                              NodeType.AWAY_GOAL}),
    NodeType.STRATEGY: frozenset({NodeType.GOAL, NodeType.AWAY_GOAL}),
}


class Severity(StrEnum):
    """How much a violation weighs: an error refuses the argument, an incomplete argument
    may be saved (its status says so), a warning is advice."""

    ERROR = "error"
    INCOMPLETE = "incomplete"
    WARNING = "warning"


#: The rules by number, as violations name them.
RULES: dict[int, str] = {
    1: "one root goal",
    2: "everything reachable",
    3: "no cycles, self-references or duplicate edges",
    4: "allowed relations only",
    5: "goals and strategies supported or undeveloped",
    6: "ids unique and references resolved",
    8: "evidence and structure advice",
}


@dataclass(frozen=True)
class Violation:
    """One broken rule: which, how badly, the elements at fault and what to change."""

    rule: int
    severity: Severity
    elements: tuple[str, ...]
    problem: Problem

    @property
    def text(self) -> str:
        """The compiler-style line: `argument.3.supportedBy: error GSN3 [G2, G1]: …`."""
        at = ", ".join(self.elements)
        return (f"{self.problem.field}: {self.severity} GSN{self.rule} ({RULES[self.rule]})"
                f"{f' [{at}]' if at else ''}: {self.problem.message}")


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
    #: For Goals: whether other cases may refer to it as an Away Goal.
    public: bool = False
    #: For Away Goals: the case (module) whose public goal `id` is.
    module: str | None = None
    #: For Solutions: the evidence rule, the `arcos:` block as JSON (arcos/assurance/rules.py
    #: reads it); kept as plain JSON so templates and cases share this one node type.
    rule: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """The node as JSON; the case-only fields appear only when set, so a template's
        stored argument keeps its shape."""
        value: dict[str, Any] = {
            "id": self.id, "type": self.type.value, "text": self.text,
            "supportedBy": list(self.supported_by), "inContextOf": list(self.in_context_of),
            "undeveloped": self.undeveloped, "evidenceTypes": list(self.evidence_types),
        }
        if self.public:
            value["public"] = True
        if self.module is not None:
            value["module"] = self.module
        if self.rule is not None:
            value["arcos"] = dict(self.rule)
        return value


@dataclass
class Checked:
    """What checking an argument found: its violations and its open (undeveloped) items."""

    violations: list[Violation] = field(default_factory=list)
    open_items: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        """What refuses a template: every violation but the warnings."""
        return [v.problem for v in self.violations if v.severity != Severity.WARNING]

    @property
    def errors(self) -> list[Violation]:
        return [v for v in self.violations if v.severity == Severity.ERROR]

    @property
    def complete(self) -> bool:
        """No errors, nothing unsupported and nothing undeveloped."""
        return not self.open_items and all(
            v.severity == Severity.WARNING for v in self.violations)


def parse_argument(raw: Any, path: str, problems: list[Problem]) -> list[Node]:
    """Nodes from JSON (`[{id, type, text, supportedBy, inContextOf, undeveloped,
    evidenceTypes, public, module, arcos}, …]`); shape problems are appended with
    `path.<index>.<field>`."""
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


_KEYS = {"id", "type", "text", "supportedBy", "inContextOf", "undeveloped", "evidenceTypes",
         "public", "module", "arcos"}


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
    if not isinstance(text, str) or not 0 < len(text.strip()) <= MAX_TEXT or unstorable(text) \
            or UNPRINTABLE.search(text):
        problems.append(Problem(f"{path}.text", f"give the node's claim or description as "
                                f"1-{MAX_TEXT} characters of text (no control characters "
                                "other than tab and newline)", ProblemCode.INVALID))
    supported = _ids(raw.get("supportedBy", []), f"{path}.supportedBy", problems)
    context = _ids(raw.get("inContextOf", []), f"{path}.inContextOf", problems)
    undeveloped = _flag(raw, "undeveloped", path, problems)
    public = _flag(raw, "public", path, problems)
    types = raw.get("evidenceTypes", [])
    if not isinstance(types, list) or len(types) > 16 or not all(
            isinstance(t, str) and IDENTIFIER.match(t) for t in types):
        problems.append(Problem(f"{path}.evidenceTypes", "evidenceTypes is a list of at most "
                                "16 evidence types such as test_results", ProblemCode.INVALID))
    module = raw.get("module")
    if module is not None and (not isinstance(module, str) or not MODULE_NAME.match(module)):
        problems.append(Problem(f"{path}.module", "module names the case an away goal belongs "
                                "to: its id (1-128 letters, digits, '.', '_', ':', '=' or '-')",
                                ProblemCode.INVALID))
    rule = raw.get("arcos")
    if rule is not None and not isinstance(rule, dict):
        problems.append(Problem(f"{path}.arcos", "arcos is the solution's evidence rule, an "
                                'object such as {"metric": "tests.pass_rate", "predicate": '
                                '">= 0.95"}', ProblemCode.INVALID))
    if len(problems) != before:
        return None
    return Node(node_id, NodeType(kind), text.strip(), supported, context, undeveloped,
                tuple(types), public, module, rule)


def _flag(raw: dict[str, Any], name: str, path: str, problems: list[Problem]) -> bool:
    value = raw.get(name, False)
    if not isinstance(value, bool):
        problems.append(Problem(f"{path}.{name}", f"{name} is true or false",
                                ProblemCode.INVALID))
        return False
    return value


def _ids(raw: Any, path: str, problems: list[Problem]) -> tuple[str, ...]:
    if not isinstance(raw, list) or len(raw) > MAX_EDGES_PER_NODE or not all(
            isinstance(item, str) for item in raw):
        problems.append(Problem(path, f"a list of at most {MAX_EDGES_PER_NODE} node ids",
                                ProblemCode.INVALID))
        return ()
    return tuple(raw)


@dataclass(frozen=True)
class Module:
    """What rule 6 reads of a case an Away Goal names: its public goals (what an Away Goal
    may stand for) and every id it uses (what this argument's ids must not repeat)."""

    public: frozenset[str]
    ids: frozenset[str] = frozenset()


def check_argument(nodes: Sequence[Node], path: str,
                   modules: Mapping[str, Module] | None = None,
                   advise: bool = False) -> Checked:
    """Rules 1-6 (and 8 when `advise`) over parsed nodes. A violation's field is
    `path.<index>` of the node at fault (`path.<index>.supportedBy` for an edge), its
    message names the node. `modules`: each case an Away Goal may name (none: an Away Goal
    cannot resolve)."""
    checked = Checked()
    found = checked.violations
    index: dict[str, int] = {}
    for position, node in enumerate(nodes):  # rule 6: unique ids
        if node.id in index:
            found.append(_at(6, path, position, "id", (node.id,), f"{node.id} is used by node "
                             f"{index[node.id]} too; give each node its own id"))
        else:
            index[node.id] = position
    found.extend(_module_id_violations(path, nodes, modules or {}))
    by_id = {node.id: node for node in nodes}
    incoming: dict[str, int] = {node.id: 0 for node in nodes}
    for position, node in enumerate(nodes):
        for relation, targets in (("supportedBy", node.supported_by),
                                  ("inContextOf", node.in_context_of)):
            seen: set[str] = set()
            for target in targets:
                where = (path, position, relation, (node.id, target))
                if target in seen:
                    found.append(_at(3, *where, f"{node.id} lists {target} twice in "
                                     f"{relation}; list it once"))
                    continue
                seen.add(target)
                if target == node.id:
                    found.append(_at(3, *where, f"{node.id} refers to itself in {relation}; "
                                     "remove it"))
                    continue
                if target not in by_id:
                    found.append(_at(6, *where, f"{node.id} refers to {target}, which is not a "
                                     "node of this argument; add it or fix the id"))
                    continue
                incoming[target] += 1
                found.extend(_edge_violations(path, position, node, relation, by_id[target]))
        found.extend(_development_violations(path, position, node))
        found.extend(_away_violations(path, position, node, modules or {}))
        if node.undeveloped and node.type in SUPPORTS:
            checked.open_items.append(node.id)
        if advise:
            found.extend(_advice(path, position, node, by_id))
    roots = [node for node in nodes if incoming.get(node.id) == 0]
    found.extend(_root_violations(path, roots, nodes, index))
    if len(roots) == 1:
        found.extend(_reachability_violations(path, roots[0], nodes, by_id))
    found.extend(_cycle_violations(path, nodes, by_id, index))
    return checked


def _at(rule: int, path: str, position: int, part: str | None, elements: tuple[str, ...],
        message: str, severity: Severity = Severity.ERROR) -> Violation:
    field_path = f"{path}.{position}" + (f".{part}" if part else "")
    return Violation(rule, severity, elements, Problem(field_path, message, ProblemCode.INVALID))


def _edge_violations(path: str, position: int, node: Node, relation: str,
                     target: Node) -> list[Violation]:
    """Rule 4."""
    where = (4, path, position, relation, (node.id, target.id))
    if relation == "supportedBy":
        allowed = SUPPORTS.get(node.type, frozenset())
        if not allowed:
            return [_at(*where, f"{node.id} is a {node.type} and cannot be supported by "
                        f"anything; a {node.type} is a leaf")]
        if target.type not in allowed:
            return [_at(*where, f"{node.id} ({node.type}) cannot be supportedBy {target.id} "
                        f"({target.type}); a {node.type} is supported by "
                        f"{' or '.join(sorted(allowed))} nodes"
                        + (" (put a goal between them)" if node.type == NodeType.STRATEGY
                           else "") + (f"; put {target.id} in inContextOf instead"
                                       if target.type in CONTEXTUAL else ""))]
        return []
    if node.type not in SUPPORTS:
        return [_at(*where, f"{node.id} is a {node.type}; only goals and strategies have "
                    "inContextOf")]
    if target.type not in CONTEXTUAL:
        return [_at(*where, f"{node.id} is inContextOf {target.id}, a {target.type}; only "
                    "context, assumption and justification nodes can be context (use "
                    "supportedBy for it)")]
    return []


def _development_violations(path: str, position: int, node: Node) -> list[Violation]:
    """Rule 5: an unsupported, unmarked goal or strategy leaves the argument incomplete;
    a mark that contradicts the node is an error."""
    where = (5, path, position)
    if node.type not in SUPPORTS:
        if node.undeveloped:
            return [_at(*where, "undeveloped", (node.id,), f"{node.id} is a {node.type}; only "
                        "goals and strategies can be marked undeveloped")]
        return []
    if node.undeveloped and node.supported_by:
        return [_at(*where, "undeveloped", (node.id,), f"{node.id} is marked undeveloped but "
                    "has supportedBy children; remove the mark or the children")]
    if not node.undeveloped and not node.supported_by:
        return [_at(*where, "supportedBy", (node.id,), f"{node.id} ({node.type}) has no "
                    "supportedBy children; support it or mark it undeveloped: true",
                    Severity.INCOMPLETE)]
    return []


def _module_id_violations(path: str, nodes: Sequence[Node],
                          modules: Mapping[str, Module]) -> list[Violation]:
    """Rule 6 across modules: an id of this argument that a case its Away Goals name uses
    too (read together, as gsn2x reads modules, one id would mean two elements). An Away
    Goal shares its id with the goal it stands for in the case it names, and only there."""
    named = sorted({node.module for node in nodes
                    if node.type == NodeType.AWAY_GOAL and node.module in modules})
    found = []
    for position, node in enumerate(nodes):
        clashes = [name for name in named if node.id in modules[name].ids
                   and not (node.type == NodeType.AWAY_GOAL and node.module == name)]
        if clashes:
            found.append(_at(6, path, position, "id", (node.id, *clashes), f"{node.id} is "
                             f"also an id in case {', '.join(clashes)}, which this case "
                             "refers to; ids must be unique across modules: rename it"))
    return found


def _away_violations(path: str, position: int, node: Node,
                     modules: Mapping[str, Module]) -> list[Violation]:
    """Rule 6 for modular GSN: an Away Goal names a case and one of its public goals; only
    goals are public; only Away Goals name a module."""
    where = (6, path, position)
    if node.type != NodeType.AWAY_GOAL:
        if node.module is not None:
            return [_at(*where, "module", (node.id,), f"{node.id} is a {node.type}; only away "
                        "goals name a module")]
        if node.public and node.type != NodeType.GOAL:
            return [_at(*where, "public", (node.id,), f"{node.id} is a {node.type}; only goals "
                        "can be public")]
        return []
    if node.module is None:
        return [_at(*where, "module", (node.id,), f"away goal {node.id} names no module; give "
                    "the id of the case whose public goal it is")]
    module = modules.get(node.module)
    if module is None:
        return [_at(*where, "module", (node.id, node.module), f"away goal {node.id} refers to "
                    f"case {node.module}, which this server does not know or you may not "
                    "read; fix the case id")]
    if node.id not in module.public:
        listed = ", ".join(sorted(module.public)[:10]) or "none"
        return [_at(*where, "id", (node.id, node.module), f"away goal {node.id} is not a "
                    f"public goal of case {node.module} (its public goals: {listed}); mark "
                    "the goal public there or fix the id")]
    return []


def _advice(path: str, position: int, node: Node, by_id: dict[str, Node]) -> list[Violation]:
    """Rule 8, warnings only."""
    if node.type == NodeType.SOLUTION and node.rule is None:
        return [_at(8, path, position, None, (node.id,), f"{node.id} binds to no evidence; "
                    "give it an arcos: rule (type, metric, predicate, max_age_days) so its "
                    "status can be decided", Severity.WARNING)]
    solutions = [t for t in node.supported_by
                 if t in by_id and by_id[t].type == NodeType.SOLUTION]
    if node.type == NodeType.GOAL and len(solutions) > MAX_DIRECT_SOLUTIONS:
        return [_at(8, path, position, "supportedBy", (node.id, *solutions), f"{node.id} goes "
                    f"straight to {len(solutions)} solutions; argue over them with a strategy",
                    Severity.WARNING)]
    return []


def _root_violations(path: str, roots: list[Node], nodes: Sequence[Node],
                     index: dict[str, int]) -> list[Violation]:
    """Rule 1."""
    if not roots:
        return [Violation(1, Severity.ERROR, (), Problem(
            path, "the argument has no root: every node is supported by or the context of "
            "another; one top-level goal must be referred to by none", ProblemCode.INVALID,
        ))] if nodes else []
    if len(roots) > 1:
        names = ", ".join(root.id for root in roots[:10])
        return [Violation(1, Severity.ERROR, tuple(root.id for root in roots[:10]), Problem(
            path, f"the argument has {len(roots)} roots ({names}); exactly one top-level goal "
            "may be unreferenced: connect the others under it", ProblemCode.INVALID))]
    root = roots[0]
    if root.type != NodeType.GOAL:
        return [_at(1, path, index[root.id], "type", (root.id,), f"the root {root.id} is a "
                    f"{root.type}; the root must be a goal")]
    return []


def _reachability_violations(path: str, root: Node, nodes: Sequence[Node],
                             by_id: dict[str, Node]) -> list[Violation]:
    """Rule 2."""
    reached = {root.id}
    frontier = [root]
    while frontier:
        node = frontier.pop()
        for target in (*node.supported_by, *node.in_context_of):
            if target in by_id and target not in reached:
                reached.add(target)
                frontier.append(by_id[target])
    return [_at(2, path, position, None, (node.id,), f"{node.id} cannot be reached from the "
                f"root {root.id}; connect it through supportedBy or inContextOf")
            for position, node in enumerate(nodes) if node.id not in reached]


def _cycle_violations(path: str, nodes: Sequence[Node], by_id: dict[str, Node],
                      index: dict[str, int]) -> list[Violation]:
    """Rule 3: a SupportedBy cycle, reported once at the node that closes it."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    found: list[Violation] = []
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
                loop = trail[trail.index(child):]
                cycle = " → ".join([*loop, child])
                found.append(_at(3, path, index[current], "supportedBy", tuple(loop),
                                 f"SupportedBy cycle {cycle}; an argument must not support "
                                 f"itself: remove {current}'s link to {child}"))
            elif not state.get(child):
                state[child] = 1
                trail.append(child)
                stack.append((child, 0))
    return found
