"""Flash estimates of a layer's code paths, for the speed/size choice (optimize.py).

A variant (a fast path of a core family, or the op's portable C) is emitted once into a
throwaway CContext: its constant arrays are counted exactly, its code is estimated from
the C it writes, per line, with coefficients measured on the emulated Cortex-M4
(arm-none-eabi-gcc -Os, see CODE_BYTES_PER_*). Code that layers share (tm_* kernels from
kernels/, a layer function with the same text as another's) is counted once per model.
The coefficients are the M4's; on other cores the estimate is rougher (Thumb-1, RV32C and
AVR code is denser or larger per line), which a budget there has to allow for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from toolkit.codegen.context import CContext, Handoff

if TYPE_CHECKING:
    from toolkit.codegen.fast import FastPath

# Measured on the emulated cortex-m4 (arm-none-eabi-gcc -Os, Thumb-2): the text bytes of
# the model's code (flash - the fixed part - the constants) against its lines of code, a
# least-squares fit over seven builds (hello-world int8 and float; the AD autoencoder and
# the DS-CNN KWS of tests/toolkit/cnnmodels.py, each with optimize="speed" and "size")
# gave 6.4 per statement, 3.9 per function line, 3.7 per kernel line and 93 per model;
# rounded up, the estimate is 0-270 B above the measured code of those builds (the most on
# the hello-world's unrolled int16 rows, where a line is often one instruction or none).
CODE_BYTES_PER_STMT = 7.0  # a line of the invoke function's code (loop header, assignment, call)
CODE_BYTES_PER_FUNCTION_LINE = 4.0  # a line of a layer's own function (generated assembly: one instruction)
CODE_BYTES_PER_KERNEL_LINE = 4.0  # a line of a shared tm_* kernel (counted once per model)
MODEL_BASE_BYTES = 110  # the model's code outside the layers (the invoke function's frame)


@dataclass
class Trial:
    const_bytes: int
    stmt_lines: int  # lines of code in the invoke function
    shared: dict[str, tuple[str, int]] = field(default_factory=dict)  # text -> ("function"|"kernel", lines)

    @property
    def code_bytes(self) -> float:
        """The statements, and the functions and kernels below (as if not shared)."""
        return CODE_BYTES_PER_STMT * self.stmt_lines + sum(shared_bytes(k, n) for k, n in self.shared.values())

    @property
    def nbytes(self) -> float:
        return self.const_bytes + self.code_bytes


def shared_bytes(kind: str, lines: int) -> float:
    return (CODE_BYTES_PER_FUNCTION_LINE if kind == "function" else CODE_BYTES_PER_KERNEL_LINE) * lines


_DECLARATION = re.compile(r"^(const )?(u?int(8|16|32|64)_t|float|int) [\w, *]+;$")  # no code


def _code_lines(text: str) -> int:
    """Lines that compile to code: not blank, a comment, a preprocessor line, a brace or
    a declaration without initializer."""
    return sum(1 for line in text.splitlines()
               if (s := line.strip()) and not s.startswith(("#", "/*", "*", "//")) and s not in ("{", "}")
               and not _DECLARATION.match(s))


def trial(op: Any, ctx: CContext, family: str, path: "FastPath | None", srcs: list[str], dst: str) -> Trial:
    """Emit `path` (None: the portable C) of `op` into a copy of ctx's per-layer settings."""
    t = CContext(prefix=ctx.prefix, layer=ctx.layer, sparse=ctx.sparse, src_aligned=ctx.src_aligned,
                 scratch=ctx.scratch or "((void *)0)", handoff=Handoff(ctx.handoff.consumer))
    t.flash_guard = ctx.flash_guard
    with t.capture(family if path is not None else "portable") as lines:
        if path is not None:
            t.kernel("dsp")
            path.emit(op, t, srcs, dst)
        else:
            op.emit_c(t, srcs, dst)
    shared = {text: ("function", _code_lines(text)) for text, _guard in t._functions}
    own = set(t._functions.values())
    shared |= {text: ("kernel", _code_lines(text)) for name, text in t.kernels.items()
               if name not in own and name not in ("dsp", "rom")}
    return Trial(t.const_bytes + sum(t.path_bytes.values()), _code_lines("\n".join(lines)), shared)
