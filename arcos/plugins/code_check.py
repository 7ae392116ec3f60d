"""Static checks of plugin source at registration: no plugin code runs.

`check_source` reports every problem with a line, a column and a sentence saying what to
change. It runs inside a sandbox worker (`check_job`), because hostile source can make the
parser itself use unbounded memory or recursion; it still turns those into problems rather
than crashing. The checks, in order:

1. size (`check_code_size`), a NUL character, a PEP 263 `# coding:` declaration (it could
   make the same bytes mean other code to a reader that honours it: `utf_7`,
   `unicode_escape`);
2. `ast.parse`;
3. an AST allow-list: only the node types in `ALLOWED_NODES` (no global/nonlocal, async,
   try/except*, with, match, class); imports only of `ALLOWED_MODULES`, absolute and
   without `*`; no name, attribute, keyword or parameter starting with `_` (a bare `_`
   variable is allowed, as RestrictedPython allows it); no names in `FORBIDDEN_NAMES`;
   no attribute spelled like a module (`statistics.sys`), like a frame or code attribute
   or `format`/`format_map`; no attribute assignment or deletion (`json.dumps = f`: with
   classes refused, every object with attributes belongs to the host); no `f(*args)` /
   `f(**kw)`; no name that is neither bound in the code nor a plugin builtin; and the
   entry point a plain top-level `def` taking at most one positional parameter;
4. RestrictedPython's `compile_restricted_exec` must report no errors (those on a line
   the allow-list already reported are dropped as duplicates).

Lambdas are allowed: their bodies are compiled with the same guards as a `def`, and they
are the natural `key=` for `sorted`, `min` and `max`. Classes are not: RestrictedPython's
write guard refuses attribute writes on their instances, so they cannot hold state, and
they are where metaclass, decorator and dunder-method tricks (E7, E8) live.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from RestrictedPython import compile_restricted_exec
from RestrictedPython.transformer import INSPECT_ATTRIBUTES, RestrictingNodeTransformer

from arcos.plugins.manifest import check_code_size
from arcos.plugins.restricted import (
    ALLOWED_MODULES,
    BUILTIN_NAMES,
    LIVE_MODULES,
    PLUGIN_FILENAME,
    public_names,
)

#: More problems than this are summarised in one last problem (the reply stays small).
MAX_PROBLEMS = 100
#: PEP 263's regular expression, applied to the first two lines.
CODING_DECLARATION = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
LINE_BREAK = re.compile(r"\r\n|\r|\n")

_NO_CODE = "plugins cannot run code that the restricted compiler did not check"
_NO_IO = "plugins have no files, terminal or debugger: take data from the input"
_NO_NAMESPACE = "it would expose the plugin's namespace and guards"
_NO_DYNAMIC = ("an attribute name computed at run time escapes the check of attribute "
               "names: write obj.name, or use a dict and its keys")
#: Builtin names refused wherever they appear (as names; `re.compile` is fine), and why.
FORBIDDEN_NAMES: dict[str, str] = {
    "exec": _NO_CODE, "eval": _NO_CODE, "compile": _NO_CODE,
    "open": _NO_IO, "input": _NO_IO, "breakpoint": _NO_IO, "help": _NO_IO,
    "exit": _NO_IO, "quit": _NO_IO, "license": _NO_IO, "credits": _NO_IO,
    "copyright": _NO_IO,
    "globals": _NO_NAMESPACE, "locals": _NO_NAMESPACE, "vars": _NO_NAMESPACE,
    "dir": _NO_NAMESPACE,
    "getattr": _NO_DYNAMIC, "setattr": _NO_DYNAMIC, "delattr": _NO_DYNAMIC,
    "hasattr": _NO_DYNAMIC,
    "type": "type() hands out classes and builds new ones; use isinstance() to test a type",
    "print": "print output goes nowhere: return the data you want to see instead",
    "printed": "print output goes nowhere: return the data you want to see instead",
}
#: Attribute names refused because the value would be a module, a frame or code object,
#: or a formatter that looks up attributes by name (`"{0.__class__}".format(x)`).
MODULE_ATTRIBUTES = frozenset((
    "sys", "os", "gc", "inspect", "operator", "functools", "ctypes", "importlib", "pickle",
    "marshal", "codecs", "builtins", "subprocess", "posix", "io", "types", "copyreg",
))
FORMAT_ATTRIBUTES = frozenset(("format", "format_map"))

A = ast
#: Node types a plugin may use; anything else (including node types of future Pythons)
#: is refused.
ALLOWED_NODES: frozenset[type[ast.AST]] = frozenset((
    A.Module, A.FunctionDef, A.Return, A.Delete, A.Assign, A.AugAssign, A.For, A.While,
    A.If, A.Raise, A.Try, A.Assert, A.Import, A.ImportFrom, A.Expr, A.Pass, A.Break,
    A.Continue, A.BoolOp, A.NamedExpr, A.BinOp, A.UnaryOp, A.Lambda, A.IfExp, A.Dict,
    A.Set, A.ListComp, A.SetComp, A.DictComp, A.GeneratorExp, A.Yield, A.YieldFrom,
    A.Compare, A.Call, A.FormattedValue, A.JoinedStr, A.Constant, A.Attribute,
    A.Subscript, A.Starred, A.Name, A.List, A.Tuple, A.Slice, A.Load, A.Store, A.Del,
    A.And, A.Or, A.Add, A.Sub, A.Mult, A.MatMult, A.Div, A.Mod, A.Pow, A.LShift, A.RShift,
    A.BitOr, A.BitXor, A.BitAnd, A.FloorDiv, A.Invert, A.Not, A.UAdd, A.USub, A.Eq,
    A.NotEq, A.Lt, A.LtE, A.Gt, A.GtE, A.Is, A.IsNot, A.In, A.NotIn, A.comprehension,
    A.ExceptHandler, A.arguments, A.arg, A.keyword, A.alias,
))
_ASYNC = "async code is not allowed: the entry point is called synchronously"
#: What to say about refused node types; others get a generic sentence.
REFUSED_NODES: dict[str, str] = {
    "Global": "global is not allowed: pass values as arguments and return results",
    "Nonlocal": "nonlocal is not allowed: pass values as arguments and return results",
    "AsyncFunctionDef": _ASYNC, "Await": _ASYNC, "AsyncFor": _ASYNC, "AsyncWith": _ASYNC,
    "TryStar": "try/except* is not allowed: use try/except",
    "With": "with statements are not allowed: plugins have no files or other context "
            "managers to use",
    "Match": "match statements are not allowed: use if/elif",
    "ClassDef": "class statements are not allowed: instances cannot hold attributes under "
                "the restricted compiler; use dicts and functions",
    "AnnAssign": "annotated assignments are not allowed: drop the annotation",
}


@dataclass(frozen=True)
class SourceProblem:
    """One problem with plugin source. `line` and `column` are 1-based; 0 means the
    problem is with the source as a whole (its size, or a missing entry point)."""

    line: int
    column: int
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "message": self.message}


def check_job(payload: dict[str, Any]) -> dict[str, Any]:
    """The sandbox worker's `check` job: {"code", "entry_point"} -> {"problems": [...]}."""
    if not isinstance(payload, dict):
        raise TypeError("the check job is a JSON object")
    code, entry_point = payload.get("code"), payload.get("entry_point")
    if not isinstance(code, str) or not isinstance(entry_point, str):
        raise TypeError("the check job needs code and entry_point as strings")
    return {"problems": [p.to_json() for p in check_source(code, entry_point)]}


def check_source(code: str, entry_point: str) -> list[SourceProblem]:
    """Every problem with `code` as a plugin whose entry point is `entry_point`, in source
    order (at most MAX_PROBLEMS, the last one then saying how many more there were)."""
    sized = check_code_size(code)
    if sized:
        return [SourceProblem(0, 0, p.message) for p in sized]
    lines = LINE_BREAK.split(code)
    nul = code.find("\x00")
    if nul >= 0:
        line = len(LINE_BREAK.split(code[:nul]))
        return [SourceProblem(line, 1, "the code contains a NUL character; remove it")]
    problems = [
        SourceProblem(number, 1, f"remove the encoding declaration ({match.group(0).strip()!r}"
                      "): plugin source is always UTF-8")
        for number, text in enumerate(lines[:2], start=1)
        if (match := CODING_DECLARATION.match(text))
    ]
    try:
        tree = ast.parse(code, filename=PLUGIN_FILENAME)
    except SyntaxError as exc:
        return [*problems, SourceProblem(
            exc.lineno or 0, exc.offset or 0,
            f"syntax error: {exc.msg}; fix the syntax (plugins are Python 3.11)")]
    except (RecursionError, MemoryError, ValueError, OverflowError):
        return [*problems, _too_deep()]
    try:
        found = _AllowList(lines, entry_point).check(tree)
    except (RecursionError, MemoryError):
        return [*problems, _too_deep()]
    problems.extend(found)
    reported = {p.line for p in problems}
    problems.extend(p for p in _restricted_problems(code, lines) if p.line not in reported)
    problems.sort(key=lambda p: (p.line, p.column))
    if len(problems) > MAX_PROBLEMS:
        extra = len(problems) - MAX_PROBLEMS + 1
        problems = [*problems[:MAX_PROBLEMS - 1],
                    SourceProblem(0, 0, f"and {extra} more problems like these")]
    return problems


def _too_deep() -> SourceProblem:
    return SourceProblem(0, 0, "the code nests too deeply to be checked; split deeply "
                         "nested expressions into steps with named intermediate values")


def _column(lines: list[str], line: int, byte_offset: int) -> int:
    """1-based character column of an AST's UTF-8 byte offset."""
    if line == 0:
        return 0
    if line > len(lines) or byte_offset < 0:
        return 1
    return len(lines[line - 1].encode("utf-8")[:byte_offset].decode("utf-8", "ignore")) + 1


class _AllowList:
    """One walk over the AST (iterative: a deep tree cannot exhaust the Python stack)."""

    def __init__(self, lines: list[str], entry_point: str) -> None:
        self.lines = lines
        self.entry_point = entry_point
        self.problems: list[SourceProblem] = []

    def refuse(self, at: tuple[int, int], message: str) -> None:
        line, offset = at
        self.problems.append(SourceProblem(line, _column(self.lines, line, offset), message))

    def check(self, tree: ast.Module) -> list[SourceProblem]:
        bound = _bound_names(tree)
        for node, at in _walk(tree, self.refuse):
            self.node(node, at, bound)
        self.entry(tree)
        return self.problems

    def node(self, node: ast.AST, at: tuple[int, int], bound: set[str]) -> None:
        if isinstance(node, ast.Name):
            self.name(node.id, at, "name")
            if (isinstance(node.ctx, ast.Load) and node.id not in bound
                    and node.id not in BUILTIN_NAMES and node.id not in FORBIDDEN_NAMES
                    and not node.id.startswith("_")):
                self.refuse(at, f"{node.id!r} is not defined: define it, import it from an "
                            f"allowed module ({', '.join(ALLOWED_MODULES)}), or use a "
                            "builtin plugins have")
        elif isinstance(node, ast.Attribute):
            self.attribute(node.attr, _attribute_at(node))
            if not isinstance(node.ctx, ast.Load):
                self.refuse(at, f"setting or deleting the attribute {node.attr!r} is not "
                            "allowed: what plugins can reach (modules, builtins) is "
                            "read-only; keep your values in variables or dicts")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            self.imports(node, at)
        elif isinstance(node, ast.FunctionDef):
            self.name(node.name, at, "function name")
        elif isinstance(node, ast.arg):
            self.name(node.arg, at, "parameter")
        elif isinstance(node, ast.keyword):
            if node.arg is None:
                self.refuse(at, "f(**mapping) is not allowed: pass keyword arguments one "
                            "by one")
            else:
                self.name(node.arg, at, "keyword argument")
        elif isinstance(node, ast.ExceptHandler) and node.name is not None:
            self.name(node.name, at, "exception name")
        elif isinstance(node, ast.Call):
            if any(isinstance(arg, ast.Starred) for arg in node.args):
                self.refuse(at, "f(*sequence) is not allowed: pass the arguments one by one")
        elif isinstance(node, ast.AugAssign) and not isinstance(node.target, ast.Name):
            self.refuse(at, "augmented assignment to an item or attribute is not allowed: "
                        "write d[k] = d[k] + 1 instead of d[k] += 1")

    def name(self, name: str, at: tuple[int, int], what: str) -> None:
        if name.startswith("_") and name != "_":
            self.refuse(at, f"the {what} {name!r} starts with '_': names starting with '_' "
                        "are reserved for the sandbox; rename it")
        elif name in FORBIDDEN_NAMES:
            self.refuse(at, f"{name!r} is not available to plugins: {FORBIDDEN_NAMES[name]}")

    def attribute(self, attr: str, at: tuple[int, int]) -> None:
        if attr.startswith("_"):
            self.refuse(at, f"the attribute {attr!r} starts with '_': private and special "
                        "attributes are not reachable from plugins; use public ones")
        elif attr in INSPECT_ATTRIBUTES:
            self.refuse(at, f"the attribute {attr!r} reaches frames or code objects, which "
                        "plugins cannot use; remove it")
        elif attr in FORMAT_ATTRIBUTES:
            self.refuse(at, f".{attr}() can look up attributes by name from its template; "
                        "use an f-string or % formatting instead")
        elif attr in MODULE_ATTRIBUTES:
            self.refuse(at, f"the attribute {attr!r} would be the {attr} module, which "
                        "plugins cannot use; remove it")

    def imports(self, node: ast.Import | ast.ImportFrom, at: tuple[int, int]) -> None:
        allowed = ", ".join(ALLOWED_MODULES)
        if isinstance(node, ast.ImportFrom):
            if node.level:
                self.refuse(at, f"relative imports are not allowed: import one of {allowed}")
                return
            modules = [node.module or ""]
        else:
            modules = [alias.name for alias in node.names]
        for module in modules:
            if module not in ALLOWED_MODULES:
                self.refuse(at, f"importing {module!r} is not allowed: plugins may import "
                            f"only {allowed} (whole modules, not submodules)")
        for alias in node.names:
            if alias.name == "*":
                self.refuse(at, "'import *' is not allowed: import the names you use")
            elif isinstance(node, ast.ImportFrom):
                self.name(alias.name, at, "imported name")
                if (node.module in ALLOWED_MODULES and not alias.name.startswith("_")
                        and alias.name not in public_names(LIVE_MODULES[node.module])):
                    self.refuse(at, f"{node.module} has no {alias.name!r} that plugins can "
                                "import (submodules are not available); check the name")
            if alias.asname is not None:
                self.name(alias.asname, at, "import alias")

    def entry(self, tree: ast.Module) -> None:
        """The entry point: exactly one plain top-level def, never rebound, with at most
        one positional parameter (the call passes the input, or nothing)."""
        name = self.entry_point
        defs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
        if not defs:
            self.refuse((0, -1), f"there is no top-level function {name!r}: define "
                        f"`def {name}(data):` at the top level, or correct "
                        "manifest.entry_point")
            return
        for extra in defs[1:]:
            self.refuse(_at(extra), f"{name!r} is defined more than once; keep one "
                        "definition")
        for node in tree.body:
            targets = _top_level_targets(node)
            if name in targets:
                self.refuse(_at(node), f"the entry point {name!r} is reassigned here; "
                            "give the other value another name")
        function = defs[0]
        arguments = function.args
        if function.decorator_list:
            self.refuse(_at(function), f"the entry point {name!r} must not be decorated: "
                        "it is called as written")
        if len(arguments.posonlyargs) + len(arguments.args) > 1 or arguments.vararg:
            self.refuse(_at(function), f"the entry point {name!r} takes at most one "
                        "parameter (the input); remove the others")
        if arguments.kwonlyargs or arguments.kwarg:
            self.refuse(_at(function), f"the entry point {name!r} cannot take keyword-only "
                        "parameters; it is called with the input as its one argument")


def _attribute_at(node: ast.Attribute) -> tuple[int, int]:
    """Where the attribute's name starts (`x.y.__class__` points at `__class__`)."""
    end_line, end = node.end_lineno, node.end_col_offset
    if end_line is None or end is None:
        return _at(node)
    return end_line, end - len(node.attr.encode("utf-8"))


def _at(node: ast.AST) -> tuple[int, int]:
    return getattr(node, "lineno", 0), getattr(node, "col_offset", -1)


def _walk(tree: ast.AST, refuse: Any) -> Iterator[tuple[ast.AST, tuple[int, int]]]:
    """Allowed nodes with their position (a node without one takes its parent's);
    refused node types are reported and not descended into."""
    stack: list[tuple[ast.AST, tuple[int, int]]] = [(tree, (0, -1))]
    while stack:
        node, parent_at = stack.pop()
        at = (node.lineno, node.col_offset) if hasattr(node, "lineno") else parent_at
        kind = type(node)
        if kind not in ALLOWED_NODES:
            refuse(at, REFUSED_NODES.get(
                kind.__name__, f"{kind.__name__} is not allowed in plugins; rewrite it "
                "with plain statements and expressions"))
            continue
        yield node, at
        children = list(ast.iter_child_nodes(node))
        stack.extend((child, at) for child in reversed(children))


def _bound_names(tree: ast.Module) -> set[str]:
    """Every name the code binds anywhere (flat, ignoring scopes): a name loaded but
    bound nowhere and not a builtin fails at run time for certain."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return bound


def _top_level_targets(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For, ast.Delete)):
        targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [
            node.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    if isinstance(node, ast.ClassDef):
        return {node.name}
    return set()


class _LocatingPolicy(RestrictingNodeTransformer):
    """RestrictedPython's own policy, recording the column of each error as well."""

    def error(self, node: ast.AST, info: str) -> None:
        line = getattr(node, "lineno", 0) or 0
        self.errors.append(f"{line}:{getattr(node, 'col_offset', -1)}:{info}")


def _restricted_problems(code: str, lines: list[str]) -> list[SourceProblem]:
    try:
        result = compile_restricted_exec(code, filename=PLUGIN_FILENAME,
                                         policy=_LocatingPolicy)
    except (RecursionError, MemoryError, ValueError, OverflowError, SyntaxError):
        return [_too_deep()]
    problems = []
    for error in result.errors:
        line_text, _, rest = error.partition(":")
        offset_text, _, info = rest.partition(":")
        try:
            line, offset = int(line_text), int(offset_text)
        except ValueError:  # RestrictedPython's own format: a syntax error it found
            line, offset, info = 0, -1, error
        problems.append(SourceProblem(
            line, _column(lines, line, offset),
            f"the restricted compiler refuses this: {info.strip()} Rewrite it without "
            "this construct."))
    return problems
