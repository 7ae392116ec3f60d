"""A case's argument as a document: its title and GSN elements, read from and written to
the two interchange forms, gsn2x YAML and JSON.

gsn2x YAML is a map from element id to element; the id's prefix says its kind as gsn2x
reads it (CG, G, CSn, Sn, S, C, A, J, in that order) unless `nodeType` says it. ARCOS adds
three keys gsn2x keeps as layers: `arcos:` (a Solution's evidence rule), `public: true` (a
goal other cases may refer to) and `module:` (an Away Goal: the id of the case whose public
goal it is). `plain` exports leave out `arcos:` for tools that do not know it.
The JSON form is `{"title": …, "elements": [Node.to_json(), …]}`.

PyYAML is imported by the first YAML read or write, not at start-up (no start-up step
reads or writes YAML): the domain lists `arcos.assurance.safe_yaml` among its deferred
imports, which a background thread imports once the server answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from arcos.community.gsn import MAX_NODES, Node, NodeType, parse_argument
from arcos.evidence.drafts import CONTROL_CHARS
from arcos.problems import Problem, ProblemCode
from arcos.storable import unstorable

MAX_TITLE = 255
#: gsn2x's prefixes, longest first where one starts another (its own order).
PREFIXES: tuple[tuple[str, NodeType | None], ...] = (
    ("CG", None), ("G", NodeType.GOAL), ("CSn", None), ("Sn", NodeType.SOLUTION),
    ("S", NodeType.STRATEGY), ("C", NodeType.CONTEXT), ("A", NodeType.ASSUMPTION),
    ("J", NodeType.JUSTIFICATION),
)
NODE_TYPES = {"Goal": NodeType.GOAL, "Strategy": NodeType.STRATEGY,
              "Solution": NodeType.SOLUTION, "Context": NodeType.CONTEXT,
              "Assumption": NodeType.ASSUMPTION, "Justification": NodeType.JUSTIFICATION}
YAML_NAMES = {value: key for key, value in NODE_TYPES.items()}
#: gsn2x keys ARCOS reads; other gsn2x keys (layout, layers, url) are accepted and dropped.
_READ = {"text", "supportedBy", "inContextOf", "undeveloped", "nodeType", "arcos", "public",
         "module"}
_DIALECTIC = {"challenges", "defeated", "acp"}


@dataclass(frozen=True)
class CaseDocument:
    title: str
    elements: tuple[Node, ...]


def kind_of(element_id: str) -> NodeType | None:
    """The kind gsn2x reads from an id's prefix; None for counter elements or no prefix."""
    for prefix, kind in PREFIXES:
        if element_id.startswith(prefix):
            return kind
    return None


#: The gsn2x header key: no element may take it as its id.
RESERVED_ID = "module"


def from_json(raw: Any, problems: list[Problem], title: str | None = None) -> CaseDocument:
    """The JSON form; shape problems name `title` or `elements.<index>.<field>`."""
    if not isinstance(raw, dict):
        problems.append(Problem("document", 'give the case as {"title": …, "elements": '
                                "[…]}", ProblemCode.INVALID))
        return CaseDocument("", ())
    for extra in sorted(set(raw) - {"title", "elements"}):
        problems.append(Problem(f"document.{extra:.40}", "unknown field; a case document has "
                                "title and elements", ProblemCode.INVALID))
    chosen = _title(title if title is not None else raw.get("title"), problems)
    elements = parse_argument(raw.get("elements"), "elements", problems)
    for index, node in enumerate(elements):
        if node.id == RESERVED_ID:
            problems.append(Problem(f"elements.{index}.id", f"'{RESERVED_ID}' is reserved: "
                                    "gsn2x YAML reads it as the module header (the case's "
                                    "name), so give the element another id (e.g. G2)",
                                    ProblemCode.INVALID))
    return CaseDocument(chosen, tuple(elements))


def to_json(document: CaseDocument, plain: bool = False) -> dict[str, Any]:
    elements = [node.to_json() for node in document.elements]
    if plain:
        for element in elements:
            element.pop("arcos", None)
    return {"title": document.title, "elements": elements}


def from_yaml(data: bytes | str, problems: list[Problem],
              title: str | None = None) -> CaseDocument:
    """A gsn2x YAML module; problems name the element id and its line."""
    from arcos.assurance.safe_yaml import YamlRefused, load_yaml  # with PyYAML (see above)

    try:
        loaded = load_yaml(data)
    except YamlRefused as refused:
        problems.append(Problem("document", str(refused), ProblemCode.INVALID))
        return CaseDocument("", ())
    value, lines = loaded.value, loaded.lines
    if not isinstance(value, dict) or not value:
        problems.append(Problem("document", "a gsn2x document is a map from element id (G1, "
                                "S1, Sn1, C1, A1, J1) to {text, supportedBy, inContextOf, …}",
                                ProblemCode.INVALID))
        return CaseDocument("", ())
    module = value.pop("module", None)
    module_name = module.get("name") if isinstance(module, dict) else None
    if module is not None and not isinstance(module_name, str):
        problems.append(Problem("module", "module is {name: <the case title>, brief: …}",
                                ProblemCode.INVALID))
    chosen = _title(title if title is not None else module_name, problems)
    if len(value) > MAX_NODES:
        problems.append(Problem("document", f"a case has at most {MAX_NODES} elements (got "
                                f"{len(value)})", ProblemCode.TOO_LARGE))
        return CaseDocument(chosen, ())
    raw_nodes = []
    for key, element in value.items():
        line = lines.get(str(key))
        raw_node = _yaml_element(key, element, line, problems)
        if raw_node is not None:
            raw_nodes.append((line, raw_node))
    nodes: list[Node] = []
    for line, raw_node in raw_nodes:
        found: list[Problem] = []
        nodes += parse_argument([raw_node], "elements", found)
        problems += [Problem(f"{raw_node['id']}{p.field.removeprefix('elements.0')}",
                             f"{p.message} (line {line})", p.code) for p in found]
    return CaseDocument(chosen, tuple(nodes))


def _yaml_element(key: Any, element: Any, line: int | None,
                  problems: list[Problem]) -> dict[str, Any] | None:
    at = f" (line {line})" if line else ""
    name = str(key)[:64]
    if not isinstance(key, str) or not isinstance(element, dict):
        problems.append(Problem(name, f"element {name} must be a map {{text: …, supportedBy: "
                                f"[…]}} under an id such as G1{at}", ProblemCode.INVALID))
        return None
    dialectic = sorted(_DIALECTIC & set(element))
    if dialectic:
        problems.append(Problem(f"{name}.{dialectic[0]}", f"{name} uses GSN's dialectic or "
                                f"confidence extension ({dialectic[0]}), which ARCOS does not "
                                f"read; remove it{at}", ProblemCode.INVALID))
        return None
    kind = _element_kind(name, element, at, problems)
    if kind is None:
        return None
    raw: dict[str, Any] = {"id": key, "type": kind.value}
    for field in ("text", "undeveloped", "public", "module", "arcos"):
        if field in element:
            raw[field] = element[field]
    for relation in ("supportedBy", "inContextOf"):
        targets = element.get(relation)
        if targets is not None:  # gsn2x reads one id as a list of one
            raw[relation] = [targets] if isinstance(targets, str) else targets
    return raw


def _element_kind(name: str, element: dict[str, Any], at: str,
                  problems: list[Problem]) -> NodeType | None:
    declared = element.get("nodeType")
    if declared is not None:
        kind = NODE_TYPES.get(declared) if isinstance(declared, str) else None
        if kind is None:
            problems.append(Problem(f"{name}.nodeType", f"nodeType is one of "
                                    f"{', '.join(NODE_TYPES)} (counter elements are not "
                                    f"read){at}", ProblemCode.INVALID))
    else:
        kind = kind_of(name)
        if kind is None:
            problems.append(Problem(name, f"{name}: an id starts with G, S, Sn, C, A or J (the "
                                    f"kind gsn2x reads from it), or set nodeType; counter "
                                    f"elements (CG, CSn) are not read{at}",
                                    ProblemCode.INVALID))
    if kind is not None and "module" in element:
        if kind != NodeType.GOAL:
            problems.append(Problem(f"{name}.module", f"{name} is a {kind}; only a goal can be "
                                    f"an away goal (module: <case id>){at}",
                                    ProblemCode.INVALID))
            return None
        return NodeType.AWAY_GOAL
    return kind


def to_yaml(document: CaseDocument, plain: bool = False, brief: str = "") -> str:
    """The gsn2x YAML module, elements in the document's order."""
    import yaml  # on first use (see above)

    out: dict[str, Any] = {"module": {"name": document.title,
                                      "brief": brief or document.title}}
    for node in document.elements:
        element: dict[str, Any] = {"text": node.text}
        expected = NodeType.GOAL if node.type == NodeType.AWAY_GOAL else node.type
        if kind_of(node.id) != expected:
            element["nodeType"] = YAML_NAMES[expected]
        if node.supported_by:
            element["supportedBy"] = list(node.supported_by)
        if node.in_context_of:
            element["inContextOf"] = list(node.in_context_of)
        if node.undeveloped:
            element["undeveloped"] = True
        if node.public:
            element["public"] = True
        if node.module is not None:
            element["module"] = node.module
        if node.rule is not None and not plain:
            element["arcos"] = dict(node.rule)
        out[node.id] = element
    return yaml.safe_dump(out, sort_keys=False, allow_unicode=True, default_flow_style=None,
                          width=100)


def _title(raw: Any, problems: list[Problem]) -> str:
    if not isinstance(raw, str) or not 0 < len(raw.strip()) <= MAX_TITLE:
        problems.append(Problem("title", f"give the case a title of 1-{MAX_TITLE} characters "
                                "(in YAML: module: {name: <title>})", ProblemCode.REQUIRED))
        return ""
    if CONTROL_CHARS.search(raw) or unstorable(raw):
        problems.append(Problem("title", "a case title is one line of text: no control "
                                "characters (tab, newline, NUL, …)", ProblemCode.INVALID))
        return ""
    return raw.strip()

