"""Operators, one module each (see base.py for what a module provides).

Every `Op` subclass with a `kind` defined in a module of this package is registered
under that TFLite builtin name: adding an op is adding its module.
"""

from __future__ import annotations

import importlib
import pkgutil

from toolkit.ops.base import Layer, Op


def _discover() -> dict[str, type[Op]]:
    found: dict[str, type[Op]] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name == "base" or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, Op) and obj.__module__ == module.__name__ and "kind" in vars(obj):
                if obj.kind in found:
                    raise RuntimeError(f"{obj.kind} is registered by both {found[obj.kind].__module__} and {module.__name__}")
                found[obj.kind] = obj
    return found


OPS: dict[str, type[Op]] = _discover()
LAYERS = OPS  # the name the MLP-era code used

__all__ = ["OPS", "LAYERS", "Layer", "Op"]
