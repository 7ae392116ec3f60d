"""The escape corpus E1-E14 of the plugin-sandbox reference, as data other tests reuse.

Every case defines `run(data)` (ENTRY_POINT); `data` is {"sentinel": PATH, "marker":
PATH}. A payload that escaped would read the sentinel file and return its text, create the
marker file, set the ARCOS_ESCAPED environment variable or builtin, poison a module, or
return the repr of the module, frame or code object it reached. A test asserts that none
of that happened (`HOST_OBJECT_MARKERS` are the reprs to look for), whatever the error was.

`line` is a line the static check must report. E15 (a full escape, raw Python in the
worker) is the sandbox's test, not this corpus's.

Import as `from escape_corpus import CORPUS` from tests/plugins, or
`from plugins.escape_corpus import CORPUS` from elsewhere under tests/.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EscapeCase:
    name: str
    source: str
    line: int


#: Every case's entry point.
ENTRY_POINT = "run"
#: Text in a result that means a host object was reached.
HOST_OBJECT_MARKERS = ("<module", "<frame", "<code object", "wrap_close",
                       "<built-in function open", "<built-in function exec", "<cell",
                       "<function run.", "mappingproxy")
ESCAPE_ENV = "ARCOS_ESCAPED"


def _case(name: str, line: int, source: str) -> EscapeCase:
    return EscapeCase(name, source.strip("\n") + "\n", line)


_E1 = [
    _case("E1-subclasses", 2, """
def run(data):
    for cls in ().__class__.__bases__[0].__subclasses__():
        if cls.__name__ == "_wrap_close":
            return cls.__init__.__globals__["popen"]("cat " + data["sentinel"]).read()
    return "no escape"
"""),
    _case("E1-mro", 2, """
def run(data):
    classes = [].__class__.__mro__[1].__subclasses__()
    return repr(classes)
"""),
    _case("E1-base", 2, """
def run(data):
    return repr("".__class__.__base__.__subclasses__())
"""),
    _case("E1-getattr-concat", 2, """
def run(data):
    base = getattr(getattr({}, "__cl" + "ass__"), "__ba" + "se__")
    return repr(getattr(base, "__subcl" + "asses__")())
"""),
    _case("E1-getattr-chr", 3, """
def run(data):
    under = chr(95) * 2
    cls = getattr((), under + "class" + under)
    return repr(cls)
"""),
    _case("E1-type-dict", 2, """
def run(data):
    subclasses = type.__dict__["__subclasses__"](object)
    return repr(subclasses)
"""),
]

_E2 = [
    _case("E2-function-globals", 2, """
def run(data):
    return run.__globals__["__builtins__"]["open"](data["sentinel"]).read()
"""),
    _case("E2-wrap-close-chain", 3, """
def run(data):
    for cls in ().__class__.__base__.__subclasses__():
        if cls.__name__ == "_wrap_close":
            os = cls.__init__.__globals__["sys"].modules["os"]
            os.environ["ARCOS_ESCAPED"] = "1"
            return repr(os)
    return "no escape"
"""),
    _case("E2-closure", 6, """
def outer(opener):
    def inner():
        return opener
    return inner
def run(data):
    return repr(outer(len).__closure__[0].cell_contents)
"""),
    _case("E2-code-replace", 2, """
def run(data):
    code = run.__code__.replace(co_names=("open",))
    return repr(type(run)(code, {})(data))
"""),
]

_E3 = [
    _case("E3-gi-frame", 3, """
def run(data):
    gen = (x for x in [1])
    return repr(gen.gi_frame.f_back.f_globals)
"""),
    _case("E3-gi-code", 3, """
def run(data):
    gen = (x for x in [1])
    return repr(gen.gi_code)
"""),
    _case("E3-cr-frame", 1, """
async def coroutine():
    return 1
def run(data):
    return repr(coroutine().cr_frame.f_back)
"""),
    _case("E3-ag-frame", 1, """
async def agen():
    yield 1
def run(data):
    return repr(agen().ag_frame)
"""),
    _case("E3-sys-getframe", 1, """
import sys
def run(data):
    return repr(sys._getframe(1).f_globals)
"""),
    _case("E3-inspect-currentframe", 1, """
import inspect
def run(data):
    return repr(inspect.currentframe().f_back.f_globals)
"""),
]

_E4 = [
    _case("E4-traceback-frame", 5, """
def run(data):
    try:
        1 / 0
    except ZeroDivisionError as error:
        frame = error.__traceback__.tb_frame.f_back
        return repr(frame.f_globals)
"""),
    _case("E4-exc-info", 1, """
import sys
def run(data):
    try:
        1 / 0
    except ZeroDivisionError:
        return repr(sys.exc_info()[2].tb_frame)
"""),
]

_E5 = [
    _case("E5-catch-warnings", 1, """
import warnings
def run(data):
    opener = warnings.catch_warnings()._module.__builtins__["open"]
    return opener(data["sentinel"]).read()
"""),
    _case("E5-license-globals", 2, """
def run(data):
    return repr(license.__call__.__globals__["sys"])
"""),
    _case("E5-print-self", 2, """
def run(data):
    return print.__self__.open(data["sentinel"]).read()
"""),
    _case("E5-build-class-self", 2, """
def run(data):
    return __build_class__.__self__.open(data["sentinel"]).read()
"""),
    _case("E5-len-self", 2, """
def run(data):
    return repr(len.__self__)
"""),
]

_E6 = [
    _case("E6-format", 2, """
def run(data):
    return "{0.__class__.__init__.__globals__}".format(run)
"""),
    _case("E6-format-map", 2, """
def run(data):
    return "{f.__globals__}".format_map({"f": run})
"""),
    _case("E6-str-format-unbound", 2, """
def run(data):
    return str.format("{0.__globals__}", run)
"""),
    _case("E6-string-formatter", 1, """
import string
def run(data):
    return repr(string.Formatter().get_field("0.__globals__", [run], {}))
"""),
    _case("E6-fstring", 2, """
def run(data):
    return f"{run.__globals__}"
"""),
]

_E7 = [
    _case("E7-exec-decorator", 4, """
def run(data):
    @exec
    @input
    class X:
        pass
    return "decorated"
"""),
    _case("E7-eval-format-decorator", 4, """
def run(data):
    @eval
    @'__import__("os").environ.update(ARCOS_ESCAPED="1") or "{}"'.format
    class _:
        pass
    return "decorated"
"""),
]

_E8 = [
    _case("E8-metaclass-keyword", 2, """
def run(data):
    class X(metaclass=type):
        pass
    return repr(X.__subclasses__())
"""),
    _case("E8-type-three-args", 2, """
def run(data):
    X = type("X", (), {"reader": open})
    return X.reader(data["sentinel"]).read()
"""),
    _case("E8-metaclass-getitem-exec", 2, """
def run(data):
    class Meta(type):
        __getitem__ = exec
    class X(metaclass=Meta):
        pass
    X["import os; os.environ['ARCOS_ESCAPED'] = '1'"]
    return "done"
"""),
    _case("E8-iadd-exec", 2, """
def run(data):
    class X:
        __iadd__ = exec
    x = X()
    x += "import os; os.environ['ARCOS_ESCAPED'] = '1'"
    return "done"
"""),
    _case("E8-del", 2, """
def run(data):
    class X:
        def __del__(self):
            open(data["marker"], "w").write("escaped")
    X()
    return "done"
"""),
    _case("E8-init-subclass", 2, """
def run(data):
    class Base:
        def __init_subclass__(cls):
            cls.loot = open(data["sentinel"]).read()
    class Child(Base):
        pass
    return Child.loot
"""),
    _case("E8-set-name", 2, """
def run(data):
    class Grab:
        def __set_name__(self, owner, name):
            owner.loot = repr(owner.__mro__)
    class Owner:
        field = Grab()
    return Owner.loot
"""),
    _case("E8-raise-custom-exception", 2, """
def run(data):
    class Boom(Exception):
        __eq__ = exec
    try:
        raise Boom
    except Boom as boom:
        boom == "import os; os.environ['ARCOS_ESCAPED'] = '1'"
    return "done"
"""),
]

_E9_MODULES = ("os", "sys", "subprocess", "ctypes", "importlib", "codecs", "operator",
               "functools", "gc", "inspect", "pickle", "marshal", "string", "builtins")
_E9 = [
    _case(f"E9-import-{module}", 1, f"""
import {module}
def run(data):
    return repr({module})
""")
    for module in _E9_MODULES
] + [
    _case("E9-dunder-import", 2, """
def run(data):
    os = __import__("os")
    os.environ["ARCOS_ESCAPED"] = "1"
    return repr(os)
"""),
    _case("E9-loader", 2, """
def run(data):
    return repr(__loader__.load_module("os"))
"""),
    _case("E9-sys-modules", 2, """
def run(data):
    return repr(sys.modules["os"])
"""),
    _case("E9-from-json-import-codecs", 1, """
from json import codecs
def run(data):
    return repr(codecs)
"""),
    _case("E9-statistics-sys", 3, """
import statistics
def run(data):
    os = statistics.sys.modules["os"]
    os.environ["ARCOS_ESCAPED"] = "1"
    return repr(os)
"""),
    _case("E9-datetime-sys", 3, """
import datetime
def run(data):
    return repr(datetime.sys.modules["builtins"])
"""),
    _case("E9-submodule", 1, """
import json.decoder
def run(data):
    return repr(json.decoder)
"""),
    _case("E9-relative", 1, """
from . import os
def run(data):
    return repr(os)
"""),
]

_E10 = [
    _case("E10-attrgetter", 1, """
import operator
def run(data):
    return repr(operator.attrgetter("__globals__")(run))
"""),
    _case("E10-functools-reduce", 1, """
import functools
def run(data):
    return repr(functools.reduce(getattr, ["__class__", "__base__"], ()))
"""),
    _case("E10-functools-partial", 1, """
import functools
def run(data):
    return repr(functools.partial(getattr, run)("__globals__"))
"""),
    _case("E10-map-getattr", 2, """
def run(data):
    return repr(list(map(getattr, [run], ["__globals__"])))
"""),
    _case("E10-re-functools", 3, """
import re
def run(data):
    return repr(re.functools.reduce(getattr, ["__class__", "__base__"], ()))
"""),
    _case("E10-sorted-zip-tuple", 2, """
def run(data):
    keys = sorted(dir(run))
    return repr(tuple(zip(keys, map(getattr, [run] * len(keys), keys))))
"""),
    _case("E10-starmap-getattr", 3, """
import itertools
def run(data):
    return repr(list(itertools.starmap(getattr, [(run, "__globals__")])))
"""),
]

_E11 = [
    _case("E11-shadow-getattr", 1, """
def peek(obj, _getattr_, /):
    return obj.__globals__
def run(data):
    return repr(peek(run, getattr))
"""),
    _case("E11-try-star", 2, """
def run(data):
    try:
        raise ExceptionGroup("g", [ValueError("v")])
    except* ValueError as group:
        return repr(group.__traceback__.tb_frame)
"""),
    _case("E11-star-args", 2, """
def run(data):
    return "{0.__class__}".format(*[data])
"""),
    _case("E11-double-star", 3, """
def run(data):
    options = {"key": repr}
    return repr(max(*[[run.__globals__]], **options))
"""),
]

_E12 = [
    _case("E12-utf7", 1, """
# coding: utf_7
def run(data):
    return "safe"  #+AAo-    return open(data["sentinel"]).read()
"""),
    _case("E12-unicode-escape", 1, r"""
# -*- coding: unicode_escape -*-
def run(data):
    return "safe"  # \x0a    return open(data["sentinel"]).read()
"""),
    _case("E12-hex-name", 2, r"""
def run(data):
    return repr(getattr(run, "\x5f\x5fglobals\x5f\x5f"))
"""),
    _case("E12-octal-name", 2, r"""
def run(data):
    return repr(getattr((), "\137\137class\137\137"))
"""),
    _case("E12-walrus-shadow", 2, """
def run(data):
    found = [(_getattr_ := getattr) for x in [1]]
    return repr(run.globals)
"""),
    _case("E12-walrus-chain", 2, """
def run(data):
    return repr([(g := run.__globals__) for x in [1]])
"""),
    _case("E12-fullwidth-dunder", 2, """
def run(data):
    return repr(().__\uff43\uff4c\uff41\uff53\uff53__)
"""),
]

_E12.append(_case("E12-fullwidth-exec", 2, """
def run(data):
    \uff45\uff58\uff45\uff43("import os; os.environ['ARCOS_ESCAPED'] = '1'")
    return "done"
"""))

_E13 = [
    _case("E13-json-dumps", 5, """
import json
def evil(value):
    return "poisoned"
def run(data):
    json.dumps = evil
    return json.dumps({"a": 1})
"""),
    _case("E13-math-pi", 3, """
import math
def run(data):
    math.pi = 3
    return math.pi
"""),
    _case("E13-class-attribute", 3, """
import json
def run(data):
    json.JSONEncoder.item_separator = ";"
    return json.dumps([1, 2])
"""),
    _case("E13-delete", 3, """
import json
def run(data):
    del json.dumps
    return "deleted"
"""),
]

_E14 = [
    _case("E14-gc-objects", 1, """
import gc
def run(data):
    for thing in gc.get_objects():
        if repr(thing).startswith("<module 'os'"):
            return repr(thing)
    return "no escape"
"""),
    _case("E14-gc-referrers", 1, """
import gc
def run(data):
    return repr(gc.get_referrers(data))
"""),
]

CORPUS: tuple[EscapeCase, ...] = tuple(
    _E1 + _E2 + _E3 + _E4 + _E5 + _E6 + _E7 + _E8 + _E9 + _E10 + _E11 + _E12 + _E13 + _E14
)

#: A plugin that touches what the E13 cases try to poison; its result must not change.
CLEAN_SOURCE = """
import json
import math
def run(data):
    return {"dumps": json.dumps({"a": 1}), "pi": math.pi,
            "separated": json.dumps([1, 2])}
"""
CLEAN_RESULT = {"dumps": '{"a": 1}', "pi": 3.141592653589793, "separated": "[1, 2]"}
