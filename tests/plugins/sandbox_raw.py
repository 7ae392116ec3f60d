"""Test-only handler: exec() raw Python in the sandbox child (the "assume full escape" path, E15).

The test pool is built with handlers={"raw": "sandbox_raw:run_raw"}; the zygote imports
this module before sandboxing. `payload["code"]` runs with full builtins and ctypes; it
sets `result` to what the call returns.
"""

from __future__ import annotations

import ctypes
import errno
import os
import signal
import socket
import sys
import time
from typing import Any

PRELOADED = (ctypes, errno, os, signal, socket, sys, time)


def run_raw(payload: dict[str, Any]) -> Any:
    namespace: dict[str, Any] = {name.__name__: name for name in PRELOADED}
    namespace["libc"] = ctypes.CDLL(None, use_errno=True)
    namespace["payload"] = payload
    exec(payload["code"], namespace)  # the point of this test-only handler
    return namespace.get("result")
