"""A TFLM source tree as TFLM's create_tflm_tree.py makes it: where it is, what it holds.

The tree is only read, never written: objects and libraries go to the cache (build.py).
What the tree offers is read from its own files, not from a table of ours: the op
resolver's Add* methods and the builtin operators they register come from
micro_mutable_op_resolver.h, the kernel file of an op from where its Register_* function
is defined.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from toolkit.errors import ToolkitError
from toolkit.paths import FIRMWARE, locate_tree

ENV_TREE = "TOOLKIT_TFLM_TREE"
# The part of a TFLM tree the toolkit compiles, shipped with it (firmware/third_party/tflm/README.md)
BUNDLED_TREE = FIRMWARE / "third_party" / "tflm"
MICRO = "tensorflow/lite/micro"
KERNELS = f"{MICRO}/kernels"
CMSIS_NN_KERNELS = f"{KERNELS}/cmsis_nn"

HOW_TO_MAKE = ("make one from a tflite-micro checkout with: python3 tensorflow/lite/micro/tools/project_generation/"
               "create_tflm_tree.py DIR --makefile_options=\"TARGET=cortex_m_generic OPTIMIZED_KERNEL_DIR=cmsis_nn\" "
               "(docs/tflm.md)")


class TflmTreeError(ToolkitError):
    """No usable TFLM source tree."""


@dataclass(frozen=True)
class ResolverEntry:
    method: str  # MicroMutableOpResolver method, e.g. AddFullyConnected
    op: str  # builtin operator, e.g. FULLY_CONNECTED
    register: str  # the Register_* function it calls by default


@dataclass
class TflmTree:
    root: Path
    _kernel_files: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def has_cmsis_nn(self) -> bool:
        return (self.root / CMSIS_NN_KERNELS).is_dir() and (self.root / "third_party/cmsis_nn/Source").is_dir()

    @cached_property
    def fingerprint(self) -> str:
        """Changes when any file of the tree changes (path, size, mtime): part of the cache key."""
        h = hashlib.sha256(str(self.root).encode())
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames.sort()
            for name in sorted(filenames):
                p = os.path.join(dirpath, name)
                st = os.stat(p)
                h.update(f"{os.path.relpath(p, self.root)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
        return h.hexdigest()[:16]

    @cached_property
    def resolver(self) -> dict[str, ResolverEntry]:
        """Builtin operator name -> how MicroMutableOpResolver adds it."""
        text = (self.root / MICRO / "micro_mutable_op_resolver.h").read_text()
        entries: dict[str, ResolverEntry] = {}
        # each Add* method up to the next one: its operator and Register_* function
        parts = re.split(r"\n\s*TfLiteStatus (?=Add\w+\()", text)
        for part in parts[1:]:
            method = part[: part.index("(")]
            op = re.search(r"AddBuiltin\(\s*BuiltinOperator_(\w+)", part)
            reg = re.search(r"(?:tflite::)?(Register_\w+)\(\)", part)
            if op and reg and method != "AddBuiltin":
                entries.setdefault(op.group(1), ResolverEntry(method, op.group(1), reg.group(1)))
        return entries

    def kernel_file(self, register: str, cmsis_nn: bool) -> str | None:
        """The .cc (relative to the root) that defines `register`, the CMSIS-NN one first when asked."""
        dirs = ([CMSIS_NN_KERNELS] if cmsis_nn else []) + [KERNELS]
        for d in dirs:
            for path in sorted((self.root / d).glob("*.cc")):
                rel = f"{d}/{path.name}"
                if rel not in self._kernel_files:
                    self._kernel_files[rel] = path.read_text(errors="replace")
                if re.search(rf"^TFLMRegistration\*?\s+{register}\(\)\s*\{{", self._kernel_files[rel], re.MULTILINE):
                    return rel
        return None


def find_tree(explicit: str | Path | None = None) -> TflmTree:
    """--tflm-tree, else $TOOLKIT_TFLM_TREE, else the tree shipped with the toolkit."""
    found = locate_tree(explicit, ENV_TREE, BUNDLED_TREE, "--tflm-tree")
    if found is None:
        raise TflmTreeError(f"the TFLM engines need a TFLM source tree: pass --tflm-tree DIR or set {ENV_TREE}; "
                            + HOW_TO_MAKE)
    source, root = found
    if not (root / MICRO / "micro_interpreter.h").is_file():
        raise TflmTreeError(f"{root} ({source}) is not a TFLM source tree: no {MICRO}/micro_interpreter.h; "
                            + HOW_TO_MAKE)
    return TflmTree(root)
