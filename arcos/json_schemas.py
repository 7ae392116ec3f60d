"""JSON Schema validators, imported on first use and warmed up off the event loop.

Where jsonschema's optional format checkers are installed, `import jsonschema` imports
them too, and rfc3987-syntax builds a grammar: about 0.9 s of CPU here. Imported at module
level it made `arcos serve` take 2.2 s to answer its first request instead of about 1 s
(`tests/benchmarks/bench_cold_start.py`). The server now imports it in a worker thread
once it is listening (`warm_up`), and a check that comes first imports it itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

#: One validator per schema; schemas are module constants, so their ids are stable.
_VALIDATORS: dict[int, Validator] = {}


def warm_up() -> None:
    """Import jsonschema now (in a worker thread, at start-up)."""
    import jsonschema  # noqa: F401


def validator(schema: dict[str, Any]) -> Validator:
    """The Draft 2020-12 validator of `schema`, built once."""
    found = _VALIDATORS.get(id(schema))
    if found is None:
        from jsonschema import Draft202012Validator

        found = _VALIDATORS[id(schema)] = Draft202012Validator(schema)
    return found


def best_error(value: Any, schema: dict[str, Any]) -> ValidationError | None:
    """The most relevant way `value` breaks `schema`, or None."""
    from jsonschema.exceptions import best_match

    return best_match(validator(schema).iter_errors(value))
