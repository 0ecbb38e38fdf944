"""Turn the model IR into a dependency-free C99 pair: NAME.h and NAME.c.

Weights are `static const` arrays (flash). Activations live in one static arena
sized for the largest pair of consecutive intermediate tensors: each layer reads
from one end of the arena and writes to the other, so a layer's input and output
never overlap. The first layer reads the caller's input and the last writes the
caller's output directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.codegen.context import PATHS, CContext
from toolkit.codegen.fold import fold_units
from toolkit.errors import ToolkitError, UnsupportedModelError
from toolkit.fileio import atomic_write
from toolkit.ir import Model, Tensor

_C_TYPE = {"int8": "int8_t", "float32": "float"}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class GeneratedC:
    name: str
    header: str
    source: str
    const_bytes: int  # bytes of constant arrays (weights, biases, multipliers) on cores with DSP
    arena_bytes: int  # bytes of static activation buffer
    model: Model
    const_bytes_by_path: dict[str, int] = field(default_factory=dict)  # "dsp", "portable"


def _align4(n: int) -> int:
    return (n + 3) & ~3


@dataclass
class _Slot:
    side: int  # 0: start of the arena, 1: end
    nbytes: int


def _plan(model: Model) -> tuple[list[_Slot | None], int]:
    """Arena slot of each layer's output (None: the caller's output or an alias)."""
    slots: list[_Slot | None] = []
    current: _Slot | None = None  # where the running activation lives (None: caller's input)
    arena = 0
    last = len(model.layers) - 1
    for i, layer in enumerate(model.layers):
        if i == last:
            slots.append(None)
            continue
        if layer.aliases_input:
            slots.append(current)
            continue
        out = _Slot(side=0 if current is None else 1 - current.side, nbytes=layer.output.nbytes)
        arena = max(arena, _align4(out.nbytes) + (_align4(current.nbytes) if current else 0))
        slots.append(out)
        current = out
    return slots, arena


def generate_c(model: Model, name: str = "model", *, sparse: str = "auto", fold: bool = True) -> GeneratedC:
    """C for `model`. sparse: "auto" (a sparse encoding where it is estimated to save both
    instructions and flash), "sparse" (wherever a layer has zero weights) or "dense".
    fold: remove units that pruning made constant or unused (exact; see fold.py)."""
    from toolkit.codegen.sparse import MODES

    if sparse not in MODES:
        raise ToolkitError(f"sparse must be one of {', '.join(MODES)}, got '{sparse}'")
    if not _IDENT.match(name):
        raise ToolkitError(f"--name must be a C identifier, got '{name}'")
    if not model.layers:
        raise UnsupportedModelError(f"{model.source}: the model has no operators")
    for tensor, role in ((model.input, "input"), (model.output, "output")):
        if tensor.dtype not in ("int8", "float32"):
            raise UnsupportedModelError(f"{model.source}: model {role} is {tensor.dtype}; supported: int8, float32")

    model, fold_notes = fold_units(model) if fold else (model, [])  # pruned-away units, exactly
    slots, arena_bytes = _plan(model)
    arena = f"{name}_arena"
    ctx = CContext(prefix=name, sparse=sparse)
    ctx.kernel("rom")  # TM_ROM: where constants live
    src = "in"
    src_aligned = False  # the caller's input may have any alignment; arena slots are word-aligned
    notes: list[str] = []
    for i, (layer, slot) in enumerate(zip(model.layers, slots)):
        ctx.layer = i
        ctype = _C_TYPE.get(layer.output.dtype)
        if ctype is None:
            raise UnsupportedModelError(f"{model.source}: intermediate tensor '{layer.output.name}' is {layer.output.dtype}")
        if layer.aliases_input and i < len(slots) - 1:
            notes.append("no code: the output aliases the input")
            continue  # same bytes as its input: nothing to emit
        if slot is None:
            dst, dst_aligned = "out", False
        else:
            offset = 0 if slot.side == 0 else arena_bytes - _align4(slot.nbytes)
            dst, dst_aligned = f"(({ctype} *)&{arena}[{offset // 4}])", True
        ctx.src_aligned = src_aligned
        # the layer that reads this one's output directly (none through an alias)
        nxt = model.layers[i + 1] if i + 1 < len(model.layers) else None
        ctx.consumer = nxt if nxt is not None and not nxt.aliases_input else None
        ctx.stmt(f"/* {i}: {layer.describe()} */")
        ctx.notes = []
        layer.emit_c(ctx, src, dst)
        notes.append("; ".join(ctx.notes) if ctx.notes else "")
        src, src_aligned = dst, dst_aligned
    ctx.notes = notes
    ctx.fold_notes = fold_notes

    header = _header(model, name, ctx, arena_bytes)
    source = _source(model, name, ctx, arena_bytes)
    by_path = {path: ctx.total_const_bytes(path) for path in PATHS}
    return GeneratedC(name, header, source, by_path["dsp"], arena_bytes, model, by_path)


def write_c(gen: GeneratedC, out_dir: str | Path) -> tuple[Path, Path]:
    out_dir = Path(out_dir)
    return (
        atomic_write(out_dir / f"{gen.name}.h", gen.header),
        atomic_write(out_dir / f"{gen.name}.c", gen.source),
    )


def _shape(t: Tensor) -> str:
    q = f", scale {t.scale:.9g}, zero point {t.zero_point}" if t.quant is not None else ""
    return f"{t.dtype} {list(t.shape)}{q}"


def _header(model: Model, name: str, ctx: CContext, arena_bytes: int) -> str:
    N = name.upper()
    tin, tout = _C_TYPE[model.input.dtype], _C_TYPE[model.output.dtype]
    layer_lines = []
    for i, layer in enumerate(model.layers):
        layer_lines.append(f" *   {i:>2}  {layer.describe():<44} params {layer.params:>7}  MACs {layer.macs:>7}")
        if i < len(ctx.notes) and ctx.notes[i]:
            layer_lines.append(f" *       {ctx.notes[i]}")
    dsp_bytes, portable_bytes = (ctx.total_const_bytes(p) for p in PATHS)
    if dsp_bytes == portable_bytes:
        const_define = f"#define {N}_CONST_BYTES {dsp_bytes}"
        const_line = f"Constant data: {dsp_bytes} bytes (flash)"
    else:
        const_define = (f"#if defined(__ARM_FEATURE_DSP) && defined(__GNUC__) && !defined(TM_NO_DSP)\n"
                        f"#define {N}_CONST_BYTES {dsp_bytes}\n#else\n#define {N}_CONST_BYTES {portable_bytes}\n#endif")
        const_line = (f"Constant data: {dsp_bytes} bytes (flash) with DSP (Cortex-M4/M7/M33), "
                      f"{portable_bytes} bytes on other cores")
    defines = [
        f"#define {N}_INPUT_SIZE {model.input.size}",
        f"#define {N}_OUTPUT_SIZE {model.output.size}",
        f"#define {N}_INPUT_T {tin}",
        f"#define {N}_OUTPUT_T {tout}",
        f"#define {N}_PARAMS {model.params}",
        f"#define {N}_MACS {model.macs}",
        const_define,
        f"#define {N}_ARENA_BYTES {arena_bytes}",
    ]
    protos = [
        f"/* Run one inference: {model.input.size} input values in, {model.output.size} output values out.",
        " * `in` and `out` may not overlap. Returns 0. */",
        f"int {name}_invoke(const {tin} *in, {tout} *out);",
    ]
    for tensor, role in ((model.input, "INPUT"), (model.output, "OUTPUT")):
        if tensor.quant is not None and tensor.dtype == "int8":
            defines += [
                f"#define {N}_{role}_SCALE {ctx.float_literal(tensor.scale)}",
                f"#define {N}_{role}_ZERO_POINT {tensor.zero_point}",
            ]
    if model.input.dtype == "int8":
        protos += [
            f"/* Quantize {N}_INPUT_SIZE floats with the input's scale and zero point. */",
            f"void {name}_quantize_input(const float *x, int8_t *q);",
        ]
    if model.output.dtype == "int8":
        protos += [
            f"/* Dequantize {N}_OUTPUT_SIZE outputs to floats. */",
            f"void {name}_dequantize_output(const int8_t *q, float *y);",
        ]
    source = Path(model.source).name if model.source else "a model"
    return f"""/* {name}.h: generated by tinyml-toolkit from {source}. Do not edit.
 *
 * Input:  {_shape(model.input)}
 * Output: {_shape(model.output)}
 * Layers:
{chr(10).join(layer_lines)}
 * Parameters: {model.params}   MACs per inference: {model.macs}{"".join(chr(10) + " * Pruned units: " + n for n in ctx.fold_notes)}
 * {const_line}   Activation arena: {arena_bytes} bytes (RAM)
 * No heap, no interpreter{", no libm" if model.is_int8 else ""}; not reentrant (one static arena).
 */
#ifndef {N}_H
#define {N}_H

#include <stdint.h>

{chr(10).join(defines)}

#ifdef __cplusplus
extern "C" {{
#endif

{chr(10).join(protos)}

#ifdef __cplusplus
}}
#endif

#endif /* {N}_H */
"""


def _source(model: Model, name: str, ctx: CContext, arena_bytes: int) -> str:
    tin, tout = _C_TYPE[model.input.dtype], _C_TYPE[model.output.dtype]
    helpers = []
    if model.input.dtype == "int8":
        fn = ctx.kernel("quantize_f32_s8")
        helpers.append(
            f"void {name}_quantize_input(const float *x, int8_t *q)\n{{\n"
            f"    {fn}(x, q, {model.input.size}, {ctx.float_literal(model.input.scale)}, {model.input.zero_point});\n}}\n"
        )
    if model.output.dtype == "int8":
        fn = ctx.kernel("dequantize_s8_f32")
        helpers.append(
            f"void {name}_dequantize_output(const int8_t *q, float *y)\n{{\n"
            f"    {fn}(q, y, {model.output.size}, {ctx.float_literal(model.output.scale)}, {model.output.zero_point});\n}}\n"
        )
    arena = (
        f"/* Activations: {arena_bytes} bytes, int32 for alignment. */\nstatic int32_t {name}_arena[{arena_bytes // 4}];\n"
        if arena_bytes
        else ""
    )
    body = "\n".join("    " + line for line in ctx.body)
    return f"""/* {name}.c: generated by tinyml-toolkit. Do not edit. See {name}.h. */
#include "{name}.h"

#include <stddef.h>
#include <stdint.h>

{chr(10).join(ctx.kernels.values())}
{chr(10).join(ctx.consts)}

{arena}
int {name}_invoke(const {tin} *in, {tout} *out)
{{
{body}
    return 0;
}}
{chr(10).join(helpers)}"""

