"""Run one plugin call with RestrictedPython: the first filter, inside the OS sandbox.

This is not the security boundary (the sandbox child's namespaces, rlimits, Landlock,
seccomp and UID are); it is what keeps an ordinary plugin from touching anything but its
input, and what makes an escape attempt fail with a message instead of a crash.

Every call gets fresh globals: RestrictedPython's `safe_builtins` plus the builtins listed
in `EXTRA_BUILTINS`, its guards, and an `__import__` that hands out per-call facades of
the allowed modules (a new object holding copies of their public, non-module names), so
`json.dumps = evil` in one call cannot change what another call, or the child's own reply
encoder, sees. Decisions:

- no `_print_`: `print` output has nowhere to go (the result is the only channel), so the
  check refuses `print` and a forced-through call fails with a NameError;
- no `_apply_`: `f(*args)` / `f(**kw)` are refused by the check and fail here;
- `range`, `list` and `tuple` are the real ones, not `limited_builtins`': the sandbox's
  CPU and memory rlimits bound a call, and a 1,000-element range cap breaks real data;
- `utility_builtins` is not used: it holds the live `math` and `random` modules and a
  delegate of `string` (whose `Formatter` is an escape route);
- `sorted`, `zip`, `map` and the other builtins that iterate in C are offered although
  RestrictedPython 9.0 removed some of them: they skip `_getiter_`, and ours is plain
  `iter` with no per-item check to skip (plugin data is plain JSON with nothing hidden).
"""

from __future__ import annotations

import builtins
import copy
import importlib
import math
import operator
import types
from collections.abc import Callable
from typing import Any

from RestrictedPython import compile_restricted_exec, safe_builtins
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr_raise,
)

#: The modules a plugin may import, each as a per-call facade.
ALLOWED_MODULES = ("collections", "datetime", "itertools", "json", "math", "re", "statistics")
#: The real modules, imported when this module is: the zygote imports it before it
#: sandboxes itself, after which an import may fail.
LIVE_MODULES: dict[str, types.ModuleType] = {
    name: importlib.import_module(name) for name in ALLOWED_MODULES
}
#: Modules that C code of the allowed modules imports while a plugin frame is current:
#: CPython's PyImport_Import takes `__import__` from that frame's builtins, so
#: `datetime.strptime` asks ours for `_strptime` and `date.strftime` for `time`. They are
#: handed out live, and only for PyImport_Import's call shape: `fromlist` a list (empty
#: in 3.11, ["__doc__"] in older versions). Plugin code cannot produce that: its `import`
#: statements pass None or a tuple, and it cannot name `__import__` to call it directly.
#: The module goes back to the C caller, never to the plugin.
C_IMPORTS: dict[str, types.ModuleType] = {
    name: importlib.import_module(name) for name in ("_strptime", "time")
}
C_IMPORT_FROMLISTS = ([], ["__doc__"])
#: The file name plugin code is compiled under; tracebacks are searched for it.
PLUGIN_FILENAME = "<plugin>"
#: How deep a result may nest (the host applies its own, usually lower, limit).
MAX_RESULT_DEPTH = 200
#: Integers past this many bits are refused: CPython will not print more than 4,300 digits.
MAX_RESULT_INT_BITS = 1024
MAX_ERROR_MESSAGE = 300

#: Builtins offered besides `safe_builtins` (which has len, str, int, range, isinstance...).
EXTRA_BUILTINS: dict[str, Any] = {
    name: getattr(builtins, name)
    for name in ("all", "any", "dict", "enumerate", "filter", "frozenset", "iter", "list",
                 "map", "max", "min", "next", "reversed", "set", "sorted", "sum", "tuple",
                 "zip")
}
#: safe_builtins entries withheld: dynamic attribute writes (the check refuses them too)
#: and the guard RestrictedPython registers there (ours sits in the globals).
WITHHELD_BUILTINS = ("setattr", "delattr", "_getattr_")
PLUGIN_BUILTINS: dict[str, Any] = {
    **{k: v for k, v in safe_builtins.items() if k not in WITHHELD_BUILTINS},
    **EXTRA_BUILTINS,
}
#: Names a plugin can use without defining them (the check reports any other unbound name).
BUILTIN_NAMES = frozenset(name for name in PLUGIN_BUILTINS if not name.startswith("_"))

_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow,
    "<<=": operator.ilshift, ">>=": operator.irshift, "|=": operator.ior,
    "^=": operator.ixor, "&=": operator.iand, "@=": operator.imatmul,
}


class PluginError(Exception):
    """The plugin failed; the message is for its author and names no host path."""


class ModuleFacade:
    """What `import json` gives a plugin: a read-only object holding copies of the public,
    non-module names of the real module, made anew for every call.

    Module-valued names are left out because they lead elsewhere: `statistics.sys`,
    `datetime.sys`, `json.codecs`, `re.functools` are all real attributes.
    """

    def __init__(self, module: types.ModuleType) -> None:
        visible = public_names(module)
        names = {
            name: copy.deepcopy(value) if isinstance(value, (dict, list, set)) else value
            for name, value in vars(module).items() if name in visible
        }
        object.__setattr__(self, "_facade_of", module.__name__)
        self.__dict__.update(names)

    def __getattr__(self, name: str) -> Any:  # only called for a missing attribute
        module = self.__dict__.get("_facade_of", "?")
        raise AttributeError(f"module {module} has no attribute {name!r:.60} that plugins "
                             "can use")

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"module {self._facade_of} is read-only in plugins")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"module {self._facade_of} is read-only in plugins")

    def __repr__(self) -> str:
        return f"<plugin module {self._facade_of}>"


def public_names(module: types.ModuleType) -> frozenset[str]:
    """The names a plugin sees in `module`: not `_`-prefixed, and not modules."""
    return frozenset(name for name, value in vars(module).items()
                     if not name.startswith("_") and not isinstance(value, types.ModuleType))


class _Importer:
    """The `__import__` of one call: allowed modules only, as facades made on first use."""

    def __init__(self) -> None:
        self.facades: dict[str, ModuleFacade] = {}

    def __call__(
        self,
        name: str,
        globals: object = None,
        locals: object = None,
        fromlist: object = (),
        level: int = 0,
    ) -> ModuleFacade | types.ModuleType:
        if (name in C_IMPORTS and level == 0 and type(fromlist) is list
                and fromlist in C_IMPORT_FROMLISTS):
            return C_IMPORTS[name]
        if level != 0:
            raise ImportError("relative imports are not available to plugins")
        if name not in ALLOWED_MODULES:
            raise ImportError(f"module {str(name)[:60]!r} is not available to plugins; "
                              f"they may import only {', '.join(ALLOWED_MODULES)}")
        if name not in self.facades:
            self.facades[name] = ModuleFacade(LIVE_MODULES[name])
        return self.facades[name]


def guarded_getattr(obj: object, name: str) -> Any:
    """`obj.name` in plugin code: RestrictedPython's `safer_getattr` (no `_` names, no
    frame/code attributes, no `str.format`), raising AttributeError for a missing
    attribute rather than returning None, and never handing out a module."""
    value = safer_getattr_raise(obj, name)
    if isinstance(value, types.ModuleType):
        raise AttributeError(f"{name!r} is a module; plugins reach modules only by "
                             "importing an allowed one")
    return value


def guarded_getitem(obj: Any, key: Any) -> Any:
    """`obj[key]` in plugin code. Plugin data is plain JSON, so there is nothing to hide."""
    return obj[key]


def inplace(op: str, target: Any, value: Any) -> Any:
    """`name += value` in plugin code (RestrictedPython rewrites it to a call)."""
    return _INPLACE[op](target, value)


def plugin_globals() -> dict[str, Any]:
    """Fresh globals for one call: nothing in them is shared with another call except
    immutable builtins and the functions the guards are."""
    names = dict(PLUGIN_BUILTINS)
    names["__import__"] = _Importer()
    return {
        "__builtins__": names,
        "__name__": "plugin",
        "__metaclass__": type,  # RestrictedPython rewrites `class X:` to use it
        "_getattr_": guarded_getattr,
        "_getitem_": guarded_getitem,
        "_getiter_": iter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": full_write_guard,
        "_inplacevar_": inplace,
    }


def execute_job(payload: dict[str, Any]) -> Any:
    """Run the plugin in `payload` ({"code", "entry_point", "input"}) and return its result
    as plain JSON values; raise PluginError saying what went wrong.

    The code is compiled by RestrictedPython only: the AST allow-list ran at registration
    (and tests use this to force escape attempts past it). The entry point gets the input
    as its one argument, or nothing if it declares no parameter.
    """
    if not isinstance(payload, dict):
        raise PluginError("the job is not a JSON object")
    code, entry_point = payload.get("code"), payload.get("entry_point")
    if not isinstance(code, str) or not isinstance(entry_point, str):
        raise PluginError("the job needs code and entry_point as strings")
    try:
        compiled = compile_restricted_exec(code, filename=PLUGIN_FILENAME)
    except (RecursionError, MemoryError, ValueError, OverflowError, SyntaxError):
        # the parser reports deep nesting as MemoryError or RecursionError
        raise PluginError("the code nests too deeply to be compiled") from None
    if compiled.errors:
        raise PluginError("the code does not pass the restricted compiler: "
                          + "; ".join(compiled.errors[:3]))
    namespace = plugin_globals()
    try:
        exec(compiled.code, namespace)  # noqa: S102 - restricted bytecode, guarded globals
        function = namespace.get(entry_point)
        if not isinstance(function, types.FunctionType):
            raise PluginError(f"the code defines no function {entry_point!r} to call; "
                              "define it with `def` at the top level")
        result = function(payload.get("input")) if _takes_argument(function) else function()
    except (PluginError, MemoryError):
        raise
    except BaseException as exc:  # plugin code may raise SystemExit and the like too
        raise PluginError(describe(exc)) from None
    return json_result(result)


def _takes_argument(function: types.FunctionType) -> bool:
    code = function.__code__
    return code.co_argcount > 0 or bool(code.co_flags & 0x04)  # CO_VARARGS


def describe(exc: BaseException) -> str:
    """`Type: message (plugin line N)`, on one line: no traceback, no host file names."""
    line = None
    trace = exc.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == PLUGIN_FILENAME:
            line = trace.tb_lineno
        trace = trace.tb_next
    try:
        message = " ".join(str(exc).split())
    except Exception:  # a plugin-defined exception may fail to print itself
        message = ""
    if len(message) > MAX_ERROR_MESSAGE:
        message = message[:MAX_ERROR_MESSAGE] + "..."
    text = type(exc).__name__ + (f": {message}" if message else "")
    return text + (f" (plugin line {line})" if line is not None else "")


def json_result(value: Any) -> Any:
    """A copy of `value` made of exact JSON types, or PluginError naming where it is not
    JSON. Walks without recursion. Subclasses (a `Counter`, an `IntFlag`, a tuple) are
    read through their base type's own methods, so the copy holds plain values and no
    method a plugin may have overridden runs while the reply is encoded."""
    root: list[Any] = [None]
    # (value, container, key in container, path as a linked (parent, step) pair, depth)
    stack: list[tuple[Any, Any, Any, Any, int]] = [(value, root, 0, None, 0)]
    while stack:
        item, parent, key, path, depth = stack.pop()
        if item is None or isinstance(item, bool):
            parent[key] = None if item is None else item is True
        elif isinstance(item, int):
            if int.bit_length(item) > MAX_RESULT_INT_BITS:
                raise PluginError(f"the result holds an integer too large for JSON at "
                                  f"{_path(path)}; return it as a string")
            parent[key] = int.__int__(item)
        elif isinstance(item, float):
            number = float.__float__(item)
            if not math.isfinite(number):
                raise PluginError(f"the result holds {number!r} at {_path(path)}, which "
                                  "JSON cannot carry; return null or a finite number")
            parent[key] = number
        elif isinstance(item, str):
            parent[key] = str.__str__(item)
        elif isinstance(item, (dict, list, tuple)):
            if depth >= MAX_RESULT_DEPTH:
                raise PluginError(f"the result nests deeper than {MAX_RESULT_DEPTH} levels "
                                  f"at {_path(path)}")
            copied: Any
            if isinstance(item, dict):
                copied = {}
                for name, child in dict.items(item):
                    if not isinstance(name, str):
                        raise PluginError(f"the result has a {type(name).__name__} key at "
                                          f"{_path(path)}; JSON object keys are strings")
                    name = str.__str__(name)
                    copied[name] = None
                    stack.append((child, copied, name, (path, name), depth + 1))
            else:
                items = (list if isinstance(item, list) else tuple).__getitem__(
                    item, slice(None))
                copied = [None] * len(items)
                for index, child in enumerate(items):
                    stack.append((child, copied, index, (path, index), depth + 1))
            parent[key] = copied
        else:
            raise PluginError(f"the result holds a {type(item).__name__} at {_path(path)}; "
                              "return only dicts, lists, strings, numbers, booleans and None")
    return root[0]


def _path(path: Any) -> str:
    steps: list[str] = []
    while path is not None:
        path, step = path
        steps.append(f"[{step!r}]")
    return "result" + "".join(reversed(steps))
