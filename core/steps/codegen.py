"""Kernels: the pandas functions a step runs, shared verbatim with the script it exports.

A step whose work is more than one pandas call puts that work in a *kernel*: a
plain function of frames, series and literal parameters, decorated with
:func:`kernel`. The step's ``transform`` calls the kernel; its ``to_code`` emits a
call to the same kernel with the same literals; the exported script carries the
kernel's source (``inspect.getsource``). So the script and the app run the same
code and their results are equal by construction, not by a second implementation.

Rules for a kernel (checked by ``tests/steps/test_codegen.py``):

- it uses only ``np``, ``pd``, other kernels, and modules it imports inside its body;
- it never modifies its arguments;
- it is deterministic (random choices take a seed parameter).
"""

from __future__ import annotations

import inspect
import json
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from core.steps.base import Step

__all__ = ["kernel", "KERNELS", "kernel_sources", "literal", "call", "KernelStep"]

KERNELS: dict[str, Callable] = {}
_CALL = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\(")


def kernel(fn: Callable) -> Callable:
    """Register ``fn`` so that exported scripts that call it carry its source."""
    name = fn.__name__
    if name in KERNELS and KERNELS[name] is not fn:
        raise RuntimeError(f"two kernels share the name {name!r}")
    KERNELS[name] = fn
    return fn


def _source(fn: Callable) -> str:
    lines = textwrap.dedent(inspect.getsource(fn)).splitlines()
    return "\n".join(line for line in lines if not line.startswith("@kernel"))


def kernel_sources(code: str) -> list[str]:
    """Sources of the kernels ``code`` calls, with the kernels they call, in a stable order."""
    wanted: list[str] = []
    todo = [m for m in _CALL.findall(code) if m in KERNELS]
    while todo:
        name = todo.pop(0)
        if name in wanted:
            continue
        wanted.append(name)
        todo += [m for m in _CALL.findall(_source(KERNELS[name])) if m in KERNELS and m != name]
    order = list(KERNELS)
    return [_source(KERNELS[name]) for name in sorted(wanted, key=order.index)]


def literal(value: Any) -> str:
    """Python source for a JSON-like value (tuples become lists; floats round-trip exactly)."""
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, float) and value != value:
        return 'float("nan")'
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return 'float("inf")' if value > 0 else 'float("-inf")'
    return repr(value)


def call(fn: Callable, **kwargs: Any) -> str:
    """``df = fn(df, name=literal, ...)``: the line a step emits to run its kernel.

    Large values (a reference sample, a forest) become one compact JSON string.
    """
    parts = ["df"]
    for name, value in kwargs.items():
        text = literal(value)
        if len(text) > 2000:
            text = f"json.loads({json.dumps(json.dumps(value, separators=(',', ':')))})"
        parts.append(f"{name}={text}")
    text = f"df = {fn.__name__}({', '.join(parts)})"
    if len(text) <= 100:
        return text
    inner = "".join(f"    {p},\n" for p in parts)
    return f"df = {fn.__name__}(\n{inner})"


@dataclass(frozen=True, kw_only=True)
class KernelStep(Step):
    """A step whose work is one kernel call: ``transform`` and ``to_code`` share it."""

    def kernel_call(self, state: dict) -> tuple[Callable, dict[str, Any]]:
        """The kernel and its keyword arguments (JSON-like literals) for ``state``."""
        raise NotImplementedError

    def transform(self, frame: pd.DataFrame, state: dict) -> pd.DataFrame:
        fn, kwargs = self.kernel_call(state or {})
        return fn(frame, **kwargs)

    def to_code(self, state: dict | None = None) -> str:
        fn, kwargs = self.kernel_call(state or {})
        return call(fn, **kwargs)
