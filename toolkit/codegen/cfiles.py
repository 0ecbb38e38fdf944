"""The text of the generated NAME.h and NAME.c around the ops' statements.

Several model inputs (or outputs) are passed as one array, concatenated in the model's
order; NAME.h gives each one's offset and size.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.codegen.context import PATHS, CContext
from toolkit.ir import Model, Tensor

if TYPE_CHECKING:
    from toolkit.codegen.memplan import MemoryPlan

C_TYPE = {"int8": "int8_t", "float32": "float"}

# Layer markers (generate_c(layer_markers=True)): one nop, its address and the op's index
# recorded in the non-allocated section .tm_layers, which the emulator watches (emulation/layers.py,
# firmware/harness/harness.h). The section takes no flash; define TM_LAYER to time ops on a board.
LAYER_MARKER = """/* Layer markers: TM_LAYER(i) before op i, TM_LAYER(number of ops) after the last. */
#ifndef TM_LAYER
#define TM_LAYER(i) __asm__ volatile("1: nop\\n.pushsection .tm_layers,\\"\\",%%progbits\\n.4byte 1b, " #i \\
                                     "\\n.popsection" ::: "memory")
#endif
"""


def _shape(t: Tensor) -> str:
    q = f", scale {t.scale:.9g}, zero point {t.zero_point}" if t.quant is not None and t.dtype == "int8" else ""
    return f"{t.dtype} {list(t.shape)}{q}"


def _offsets(tensors: list[Tensor]) -> list[int]:
    out, total = [], 0
    for t in tensors:
        out.append(total)
        total += t.size
    return out


def _io_lines(model: Model) -> list[str]:
    lines = []
    for tensors, role in ((model.inputs, "Input"), (model.outputs, "Output")):
        for k, (t, off) in enumerate(zip(tensors, _offsets(tensors))):
            where = f" (values {off}..{off + t.size - 1})" if len(tensors) > 1 else ""
            lines.append(f" * {role}{f' {k}' if len(tensors) > 1 else ''}: {_shape(t)}{where}")
    return lines


def _io_defines(model: Model, N: str, ctx: CContext) -> list[str]:
    defines = [
        f"#define {N}_INPUT_SIZE {sum(t.size for t in model.inputs)}",
        f"#define {N}_OUTPUT_SIZE {sum(t.size for t in model.outputs)}",
        f"#define {N}_INPUT_T {C_TYPE[model.input.dtype]}",
        f"#define {N}_OUTPUT_T {C_TYPE[model.output.dtype]}",
        f"#define {N}_INPUT_COUNT {len(model.inputs)}",
        f"#define {N}_OUTPUT_COUNT {len(model.outputs)}",
    ]
    for tensors, role in ((model.inputs, "INPUT"), (model.outputs, "OUTPUT")):
        if len(tensors) > 1:
            for k, (t, off) in enumerate(zip(tensors, _offsets(tensors))):
                defines += [f"#define {N}_{role}{k}_OFFSET {off}", f"#define {N}_{role}{k}_SIZE {t.size}"]
        t = tensors[0]
        if t.quant is not None and t.dtype == "int8":
            defines += [f"#define {N}_{role}_SCALE {ctx.float_literal(t.scale)}",
                        f"#define {N}_{role}_ZERO_POINT {t.zero_point}"]
    return defines


def header_text(model: Model, name: str, ctx: CContext, plan: "MemoryPlan") -> str:
    N = name.upper()
    op_lines = []
    for i, op in enumerate(model.ops):
        op_lines.append(f" *   {i:>2}  {op.describe():<44} params {op.params:>7}  MACs {op.macs:>7}")
        if i < len(ctx.notes) and ctx.notes[i]:
            op_lines.append(f" *       {ctx.notes[i]}")
    dsp_bytes, portable_bytes = (ctx.total_const_bytes(p) for p in PATHS)
    if dsp_bytes == portable_bytes:
        const_define = f"#define {N}_CONST_BYTES {dsp_bytes}"
        const_line = f"Constant data: {dsp_bytes} bytes (flash)"
    else:
        const_define = (f"#if defined(__ARM_FEATURE_DSP) && defined(__GNUC__) && !defined(TM_NO_DSP)\n"
                        f"#define {N}_CONST_BYTES {dsp_bytes}\n#else\n#define {N}_CONST_BYTES {portable_bytes}\n#endif")
        const_line = (f"Constant data: {dsp_bytes} bytes (flash) with DSP (Cortex-M4/M7/M33), "
                      f"{portable_bytes} bytes on other cores")
    defines = _io_defines(model, N, ctx) + [
        f"#define {N}_PARAMS {model.params}",
        f"#define {N}_MACS {model.macs}",
        const_define,
        f"#define {N}_ARENA_BYTES {plan.arena_bytes}",
        f"#define {N}_ARENA_LOWER_BOUND {plan.lower_bound}",
    ]
    tin, tout = C_TYPE[model.input.dtype], C_TYPE[model.output.dtype]
    protos = [
        f"/* Run one inference: {N}_INPUT_SIZE input values in, {N}_OUTPUT_SIZE output values out.",
        " * `in` and `out` may not overlap. Returns 0. */",
        f"int {name}_invoke(const {tin} *in, {tout} *out);",
    ]
    if model.input.dtype == "int8":
        protos += [f"/* Quantize {N}_INPUT_SIZE floats with the inputs' scales and zero points. */",
                   f"void {name}_quantize_input(const float *x, int8_t *q);"]
    if model.output.dtype == "int8":
        protos += [f"/* Dequantize {N}_OUTPUT_SIZE outputs to floats. */",
                   f"void {name}_dequantize_output(const int8_t *q, float *y);"]
    memory = [f" * Activation arena: {plan.arena_bytes} bytes (RAM); lower bound {plan.lower_bound} bytes "
              f"(the most bytes alive at once){f', incl. {plan.scratch_bytes} bytes of kernel scratch' if plan.scratch_bytes else ''}"]
    memory += [f" *   {n}" for n in plan.notes]
    source = Path(model.source).name if model.source else "a model"
    pruned = "".join("\n * Pruned units: " + n for n in ctx.fold_notes)
    return f"""/* {name}.h: generated by tinyml-toolkit from {source}. Do not edit.
 *
{chr(10).join(_io_lines(model))}
 * Operators:
{chr(10).join(op_lines)}
 * Parameters: {model.params}   MACs per inference: {model.macs}{pruned}
 * {const_line}
{chr(10).join(memory)}
 * No heap, no interpreter{", no libm" if model.is_int8 else ""}; not reentrant (one static arena).
 *
{chr(10).join(_usage(model, name))}
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


def _usage(model: Model, name: str) -> list[str]:
    """The header's how-to: plain C and an Arduino sketch (no init call: the arena is static)."""
    N = name.upper()
    tin, tout = C_TYPE[model.input.dtype], C_TYPE[model.output.dtype]
    qin, qout = model.input.dtype == "int8", model.output.dtype == "int8"
    decl = [f"static {tin} in[{N}_INPUT_SIZE];", f"static {tout} out[{N}_OUTPUT_SIZE];"]
    if qin or qout:
        decl.append(f"float x[{N}_INPUT_SIZE], y[{N}_OUTPUT_SIZE];")
    call = ([f"{name}_quantize_input(x, in);"] if qin else []) + [f"{name}_invoke(in, out);"]
    call += [f"{name}_dequantize_output(out, y);"] if qout else []
    result = "y[0]" if qout else "out[0]"
    lines = ["Use: no init call, no allocation; buffers are the caller's.",
             f"  main.c:   #include \"{name}.h\"", *(f"            {d}" for d in decl),
             f"            ... fill {'x' if qin else 'in'} ...", *(f"            {c}" for c in call),
             f"  Arduino:  put {name}.h and {name}.c beside the sketch; #include \"{name}.h\" (C linkage is declared),",
             "            the same buffers as globals, the same calls in loop(), then "
             f"Serial.println({result});",
             "  Build as C99 or later; on AVR as GNU C (avr-gcc's default, or -std=gnu99) so that the",
             "  constants stay in flash (__flash); strict -std=c99 compiles too, with the constants in SRAM."]
    return [f" * {line}" for line in lines]


def _convert_fn(model: Model, name: str, ctx: CContext, tensors: list[Tensor], kernel: str, proto: str) -> str:
    fn = ctx.kernel(kernel)
    calls = [f"    {fn}({'x' if kernel.startswith('quantize') else 'q'} + {off}, {'q' if kernel.startswith('quantize') else 'y'} + {off}, "
             f"{t.size}, {ctx.float_literal(t.scale)}, {t.zero_point});" for t, off in zip(tensors, _offsets(tensors))]
    return f"{proto}\n{{\n" + "\n".join(calls) + "\n}\n"


def source_text(model: Model, name: str, ctx: CContext, plan: "MemoryPlan", layer_markers: bool = False) -> str:
    tin, tout = C_TYPE[model.input.dtype], C_TYPE[model.output.dtype]
    helpers = []
    if model.input.dtype == "int8":
        helpers.append(_convert_fn(model, name, ctx, model.inputs, "quantize_f32_s8",
                                   f"void {name}_quantize_input(const float *x, int8_t *q)"))
    if model.output.dtype == "int8":
        helpers.append(_convert_fn(model, name, ctx, model.outputs, "dequantize_s8_f32",
                                   f"void {name}_dequantize_output(const int8_t *q, float *y)"))
    n = plan.arena_bytes
    arena = f"/* Activations: {n} bytes, int32 for alignment. */\nstatic int32_t {name}_arena[{n // 4}];\n" if n else ""
    body = "\n".join("    " + line if not line.startswith("#") else line for line in ctx.body)
    read = {id(t) for op in model.ops for t in op.inputs} | {id(t) for t in model.outputs}
    if not any(id(t) in read for t in model.inputs):  # no op reads the input: keep -Wunused quiet
        body = "    (void)in;\n" + body
    if n and all(b.scratch_of is not None for b in plan.buffers):
        body = f"    (void){name}_arena;  /* only kernel scratch of fast paths lives there */\n" + body
    return f"""/* {name}.c: generated by tinyml-toolkit. Do not edit. See {name}.h. */
#include "{name}.h"

#include <stddef.h>
#include <stdint.h>

{LAYER_MARKER if layer_markers else ""}{chr(10).join(ctx.kernels.values())}
{chr(10).join(ctx.consts)}

{arena}
int {name}_invoke(const {tin} *in, {tout} *out)
{{
{body}
    return 0;
}}
{chr(10).join(helpers)}"""
