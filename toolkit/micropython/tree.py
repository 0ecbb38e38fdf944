"""A MicroPython source tree (upstream layout): where it is and whether it will do.

The port is the toolkit's own (firmware/micropython); from the tree only py/ (the VM,
compiler, runtime and build scripts), shared/runtime/ (the GC's register helpers) and
lib/libm/ (single-precision maths) are used, so a plain upstream checkout works. The
tree is only read, never written: objects go to the cache (build.py).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from toolkit.errors import ToolkitError
from toolkit.paths import FIRMWARE, locate_tree

ENV_TREE = "TOOLKIT_MICROPYTHON_TREE"
# The part of MicroPython's tree the port builds, shipped with the toolkit (its README.md)
BUNDLED_TREE = FIRMWARE / "third_party" / "micropython"
NEEDED = ("py/mkenv.mk", "py/py.mk", "py/mkrules.mk", "py/makeqstrdefs.py", "shared/runtime/gchelper_native.c",
          "lib/libm/math.c")
HOW_TO_GET = "get one with: git clone https://github.com/micropython/micropython (docs/micropython.md)"


class MicroPythonTreeError(ToolkitError):
    """No usable MicroPython source tree."""


@dataclass(frozen=True)
class MicroPythonTree:
    root: Path

    @cached_property
    def fingerprint(self) -> str:
        """Changes when a file the build reads changes (path, size, mtime): part of the cache key."""
        h = hashlib.sha256(str(self.root).encode())
        for top in ("py", "shared/runtime", "lib/libm"):
            for dirpath, dirnames, filenames in os.walk(self.root / top):
                dirnames.sort()
                for name in sorted(filenames):
                    p = os.path.join(dirpath, name)
                    st = os.stat(p)
                    h.update(f"{os.path.relpath(p, self.root)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
        return h.hexdigest()[:16]


def find_tree(explicit: str | Path | None = None) -> MicroPythonTree:
    """--micropython-tree, else $TOOLKIT_MICROPYTHON_TREE, else the tree shipped with the toolkit."""
    found = locate_tree(explicit, ENV_TREE, BUNDLED_TREE, "--micropython-tree")
    if found is None:
        raise MicroPythonTreeError("the micropython engine needs a MicroPython source tree: pass --micropython-tree "
                                   f"DIR or set {ENV_TREE}; " + HOW_TO_GET)
    source, root = found
    missing = [p for p in NEEDED if not (root / p).is_file()]
    if missing:
        raise MicroPythonTreeError(f"{root} ({source}) is not a MicroPython source tree: no {missing[0]}; "
                                   + HOW_TO_GET)
    return MicroPythonTree(root)
