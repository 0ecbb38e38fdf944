"""One MicroPython function per operator, written as a student would write it by hand.

Each emitter returns (data lines, function lines) for one op: the op's constants as
module-level data, and `def <name>(x, y):` that reads buffer x and writes buffer y.
float32 ops are plain float arithmetic (MicroPython's floats are single precision on
the device); int8 ops are integer arithmetic exactly as TF Lite Micro's reference kernels
(and the toolkit's numpy references): int32 accumulators with the input zero point
folded into the bias, the requantize() of script.py, the output zero point, a clamp.
Elementwise int8 ops are 256-entry lookup tables computed by the numpy reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from toolkit.errors import UnsupportedModelError

FLOAT_WEIGHTS = ("list", "array")  # rows as lists of floats (boxed once) or as array('f') (boxed per read)
PER_LINE = 16
FLT_MAX = float(np.finfo(np.float32).max)


@dataclass
class Emitted:
    data: list[str]
    code: list[str]


def float_bytes(values: np.ndarray) -> str:
    """A bytes literal holding float32 values exactly (little-endian)."""
    return repr(np.asarray(values, "<f4").tobytes())


def float_row(values: np.ndarray, weights: str) -> str:
    arr = f"array('f', {float_bytes(values)})"
    return f"list({arr})" if weights == "list" else arr


def int_list(values, indent: str = "    ") -> list[str]:
    """Integers as a list literal, PER_LINE a line."""
    vals = [str(int(v)) for v in np.asarray(values).ravel()]
    if len(vals) <= PER_LINE:
        return [f"[{', '.join(vals)}]"]
    rows = [", ".join(vals[i:i + PER_LINE]) for i in range(0, len(vals), PER_LINE)]
    return ["[", *(f"{indent}{r}," for r in rows), "]"]


def int8_row(values) -> list[str]:
    """One row of int8 weights as array('b', [...]), on one line when short."""
    vals = [str(int(v)) for v in np.asarray(values).ravel()]
    if len(vals) <= PER_LINE:
        return [f"    array('b', [{', '.join(vals)}]),"]
    rows = [", ".join(vals[i:i + PER_LINE]) for i in range(0, len(vals), PER_LINE)]
    return ["    array('b', [", *(f"        {r}," for r in rows), "    ]),"]


def _assign(name: str, lines: list[str]) -> list[str]:
    return [f"{name} = {lines[0]}", *lines[1:]]


def clamp_line(var: str, lo: float | None, hi: float | None) -> str:
    """`var` clamped to [lo, hi] (None: unbounded), one conditional expression."""
    if lo is not None and hi is not None:
        return f"{lo} if {var} < {lo} else {hi} if {var} > {hi} else {var}"
    if lo is not None:
        return f"{var} if {var} > {lo} else {lo}"
    if hi is not None:
        return f"{var} if {var} < {hi} else {hi}"
    return var


def fully_connected(op, name: str, n: int, weights: str) -> Emitted:
    w, out_n, in_n = op.weights.data, op.out_features, op.in_features
    tag = name.upper()
    data = [f"# {name}: {op.describe()}, weights [{out_n}][{in_n}], one row per output"]
    code = [f"def {name}(x, y):"]
    if op.batches != 1:
        raise UnsupportedModelError(f"{op.kind} with {op.batches} batches is not supported by the micropython engine")
    if op.input.dtype == "float32":
        rows = [f"    {float_row(w[o], weights)}," for o in range(out_n)]
        bias = op.bias.data if op.bias is not None else np.zeros(out_n, np.float32)
        data += [f"W_{tag} = [", *rows, "]", f"B_{tag} = {float_row(bias, weights)}"]
        low, high = op.float_range()
        lo = None if low <= -FLT_MAX else float(low)  # the float range of "no clamp" is +-FLT_MAX or +-inf
        hi = None if high >= FLT_MAX else float(high)
        code += [f"    for o in range({out_n}):", f"        row = W_{tag}[o]", f"        acc = B_{tag}[o]",
                 f"        for i in range({in_n}):", "            acc += row[i] * x[i]",
                 f"        y[o] = {clamp_line('acc', lo, hi)}"]
        return Emitted(data, code)
    p = op.int8_params()
    data += ["# int8 weights; the bias is int32 with the input zero point folded in: b - zp_in * sum(row)"]
    data += [f"W_{tag} = [", *(ln for o in range(out_n) for ln in int8_row(w[o]))]
    data += ["]", *_assign(f"B_{tag}", int_list(p["bias"]))]
    mult, shift = np.asarray(p["mult"]), np.asarray(p["shift"])
    per_channel = not (np.all(mult == mult[0]) and np.all(shift == shift[0]))
    if per_channel:
        data += ["# one multiplier and shift per output channel", *_assign(f"M_{tag}", int_list(mult)),
                 *_assign(f"S_{tag}", int_list(shift))]
        scale = f"requantize(acc, M_{tag}[o], S_{tag}[o])"
    else:
        scale = f"requantize(acc, {int(mult[0])}, {int(shift[0])})"
    zp = op.output.zero_point
    code += [f"    for o in range({out_n}):", f"        row = W_{tag}[o]", f"        acc = B_{tag}[o]",
             f"        for i in range({in_n}):", "            acc += row[i] * x[i]",
             f"        v = {scale} {'+' if zp >= 0 else '-'} {abs(zp)}  # + output zero point",
             f"        y[o] = {clamp_line('v', int(p['act_min']), int(p['act_max']))}"]
    return Emitted(data, code)


def elementwise(op, name: str, n: int) -> Emitted:
    """int8: a lookup table of the op on all 256 inputs; float32: RELU and RELU6."""
    tag = name.upper()
    if op.input.dtype == "int8":
        table = op.table()  # indexed by the input's bits as uint8
        data = [f"# {name}: {op.kind} on int8 as a table of its value for every input (index: input & 255)",
                *_assign(f"T_{tag}", [f"array('b', {ln}" if i == 0 else ln for i, ln in enumerate(int_list(table))])]
        data[-1] += ")"
        return Emitted(data, [f"def {name}(x, y):", f"    for i in range({n}):", f"        y[i] = T_{tag}[x[i] & 255]"])
    bounds = {"RELU": (0.0, None), "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0)}.get(op.kind)
    if bounds is None:
        raise UnsupportedModelError(f"the micropython engine does not support float {op.kind}")
    return Emitted([], [f"def {name}(x, y):", f"    for i in range({n}):", "        v = x[i]",
                        f"        y[i] = {clamp_line('v', *bounds)}"])


def float_constant(name: str, value: float) -> list[str]:
    """A float32 constant, exactly: from its bytes (a decimal literal may be parsed a bit off on the device)."""
    v = np.float32(value)
    return [f"{name} = array('f', {float_bytes(np.array([v]))})[0]  # {float(v)!r}"]


def quantize(op, name: str, n: int) -> Emitted:
    if op.input.dtype != "float32":
        raise UnsupportedModelError("the micropython engine supports QUANTIZE from float32 only, not int8 -> int8")
    tag, zp = name.upper(), op.output.zero_point
    return Emitted([f"# {name}: QUANTIZE float32 -> int8 with the output's scale and zero point",
                    *float_constant(f"SCALE_{tag}", op.output.scale)], [
        f"def {name}(x, y):",
        f"    # round(x / scale) + {zp}, halves away from zero, saturated to int8",
        f"    for i in range({n}):",
        f"        t = x[i] / SCALE_{tag}",
        "        q = int(t)", "        r = t - q",
        "        if r >= 0.5:", "            q += 1", "        elif r <= -0.5:", "            q -= 1",
        f"        q += {zp}",
        f"        y[i] = {clamp_line('q', -128, 127)}"])


def dequantize(op, name: str, n: int) -> Emitted:
    tag, zp = name.upper(), op.input.zero_point
    return Emitted([f"# {name}: DEQUANTIZE int8 -> float32 with the input's scale and zero point",
                    *float_constant(f"SCALE_{tag}", op.input.scale)],
                   [f"def {name}(x, y):", f"    for i in range({n}):", f"        y[i] = SCALE_{tag} * (x[i] - {zp})"])
