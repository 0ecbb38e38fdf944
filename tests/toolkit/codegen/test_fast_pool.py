"""The DSP path of int8 global AVERAGE_POOL_2D (toolkit/codegen/fast/dsp/avgpool.py): which
layers take it, and bit-exactness with the reference on the emulated Cortex-M4, M7 and
M33, on random inputs and on the extremes (255 taps of -128 or 127: the int16 lanes' bound)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.toolkit.graph.harness import reference_rows
from tests.toolkit.graphmodels import GraphCase
from toolkit.codegen import generate_c
from toolkit.codegen.context import CContext
from toolkit.codegen.fast import choose
from toolkit.codegen.fast.dsp import avgpool as AP
from toolkit.tflite.reader import read_tflite
from toolkit.validation import make_inputs


def gap(keras, x):
    """A pointwise conv (so that the pool reads a word-aligned arena slot), global pooling."""
    y = keras.layers.Conv2D(int(x.shape[-1]), 1, bias_initializer="random_normal")(x)
    return keras.layers.AveragePooling2D(pool_size=tuple(int(d) for d in x.shape[1:3]))(y)


CASES = {  # name -> (input shape, fast path expected)
    "gap_3x3x8": ((3, 3, 8), True),
    "gap_15x17x16": ((15, 17, 16), True),  # 255 taps: the most the int16 lanes hold
    "gap_7x9x24": ((7, 9, 24), True),  # a tap count with no divisor up to 8 but 7 and 9: 7 per iteration
    "gap_16x16x8": ((16, 16, 8), False),  # 256 taps
    "gap_4x4x12": ((4, 4, 12), False),  # channels not a multiple of 8
}


def case(name: str) -> GraphCase:
    return GraphCase(f"fastpool_{name}", gap, inputs=(CASES[name][0],))


@pytest.mark.parametrize("name", CASES)
def test_path_taken_where_it_applies(graph_models, name):
    model = read_tflite(graph_models(case(name)))
    pool = model.ops[-1]
    assert pool.kind == "AVERAGE_POOL_2D"
    ctx = CContext("model")
    ctx.src_aligned = True
    assert (choose(pool, "dsp", ctx) is AP.PATH) == CASES[name][1]
    assert ("SXTAB16" in generate_c(model).header) == CASES[name][1]


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("arch", ["cortex-m4", "cortex-m7", "cortex-m33"])
def test_bit_exact_on_dsp_cores(graph_models, tmp_path, name, arch):
    """Random inputs, and the conv's output driven to its extremes (large inputs)."""
    import emulation
    from toolkit.codegen import write_c

    model = read_tflite(graph_models(case(name)))
    inputs = make_inputs(model, 6, seed=11)
    big = np.sign(inputs) * 127  # saturates most of the conv's outputs at -128 or 127
    inputs = np.concatenate([inputs, big, -big]).astype(inputs.dtype)
    write_c(generate_c(model), tmp_path / "model")
    fw = emulation.build_firmware(tmp_path / "model", inputs, arch, tmp_path)
    ours = emulation.run_elf(fw.elf, arch).outputs_array("int8")
    ref = reference_rows(model, inputs)
    assert np.array_equal(ours.reshape(ref.shape), ref)


# -- MAX_POOL_2D (toolkit/codegen/fast/dsp/maxpool.py) ------------------------------------------


def maxpool(pool: int, strides: int, padding: str):
    def build(keras, x):
        y = keras.layers.Conv2D(int(x.shape[-1]), 1, bias_initializer="random_normal")(x)
        return keras.layers.MaxPooling2D(pool, strides=strides, padding=padding)(y)
    return build


MAX_CASES = {  # name -> (builder, input shape, fast path expected)
    "max2s2": (maxpool(2, 2, "valid"), (8, 8, 8), True),  # taps written out
    "max3s2same": (maxpool(3, 2, "same"), (9, 9, 4), True),  # border windows: taps in a loop
    "max3s1": (maxpool(3, 1, "valid"), (7, 6, 12), True),
    "max2s2_c6": (maxpool(2, 2, "valid"), (6, 6, 6), False),  # channels not a multiple of 4
}


def max_case(name: str) -> GraphCase:
    build, shape, _ = MAX_CASES[name]
    return GraphCase(f"fastmax_{name}", build, inputs=(shape,))


@pytest.mark.parametrize("name", MAX_CASES)
def test_maxpool_path_taken_where_it_applies(graph_models, name):
    from toolkit.codegen.fast.dsp import maxpool as MP

    pool = read_tflite(graph_models(max_case(name))).ops[-1]
    assert pool.kind == "MAX_POOL_2D"
    assert (choose(pool, "dsp", CContext("model")) is MP.PATH) == MAX_CASES[name][2]


@pytest.mark.parametrize("name, activation", [*((n, "NONE") for n in MAX_CASES), ("max2s2", "RELU6"),
                                              ("max3s2same", "RELU_N1_TO_1")])
@pytest.mark.parametrize("arch", ["cortex-m4", "cortex-m7", "cortex-m33"])
def test_maxpool_bit_exact_on_dsp_cores(graph_models, tmp_path, name, activation, arch):
    """The fused activation patched in (the converter fuses none into a pool of a conv's
    output): both clamps, against a constant word."""
    import emulation
    from toolkit.codegen import write_c

    model = read_tflite(graph_models(max_case(name)))
    model.ops[-1].activation = activation
    if activation != "NONE":
        lo, hi = model.ops[-1].act_range()
        assert lo > -128 and hi < 127
    inputs = make_inputs(model, 8, seed=13)
    write_c(generate_c(model), tmp_path / "model")
    fw = emulation.build_firmware(tmp_path / "model", inputs, arch, tmp_path)
    ours = emulation.run_elf(fw.elf, arch).outputs_array("int8")
    ref = reference_rows(model, inputs)
    assert np.array_equal(ours.reshape(ref.shape), ref)
    if activation != "NONE":
        assert np.any(ref == lo) or np.any(ref == hi)
