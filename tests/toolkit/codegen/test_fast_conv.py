"""The DSP fast paths of int8 CONV_2D and DEPTHWISE_CONV_2D (toolkit/codegen/fast/dsp/conv2d.py,
depthwise_conv2d.py): which layers take them, their column layout against the numpy
reference, and bit-exactness with TFLM on the emulated Cortex-M4 (a few on the M7 and
M33), for converted single-op models, a chain whose inputs sit in the arena, and the
three MLPerf Tiny CNNs, whose instruction counts on the M4 are guarded."""

from __future__ import annotations

import numpy as np
import pytest

from tests.toolkit.cnnmodels import IC, KWS, PUBLISHED_MACS, VWW
from tests.toolkit.graph.harness import check_model, reference_rows
from tests.toolkit.graphmodels import GraphCase
from tests.toolkit.ops.test_conv import conv, dwconv
from toolkit import quantization as Q
from toolkit.codegen import generate_c
from toolkit.codegen.fast import REGISTRY, choose
from toolkit.codegen.fast.dsp import conv2d as DC
from toolkit.codegen.fast.dsp import depthwise_conv2d as DW
from toolkit.codegen.fast.dsp.conv_requant import conv_plan
from toolkit.ir import Quant
from toolkit.tflite.reader import read_tflite
from toolkit.validation import make_inputs


def chain(keras, x):
    """3x3 conv, pointwise, depthwise, strided 3x3: the later layers read word-aligned
    arena slots (LDRD in the im2col)."""
    y = keras.layers.Conv2D(8, 3, padding="same", activation="relu", bias_initializer="random_normal")(x)
    y = keras.layers.Conv2D(16, 1, activation="relu6", bias_initializer="random_normal")(y)
    y = keras.layers.DepthwiseConv2D(3, padding="same", activation="relu", bias_initializer="random_normal")(y)
    return keras.layers.Conv2D(8, 3, strides=2, padding="same", bias_initializer="random_normal")(y)


CASES = {  # name -> (builder, input shape, fast path expected on the DSP cores)
    "pw": (conv(16, 1), (6, 7, 16), True),  # 42 pixels: the last group overlaps
    "pw_c6": (conv(6, 1), (5, 5, 6), True),  # a row of 6 bytes: one group and a tail of 2
    "c3s1": (conv(8, 3), (9, 9, 16), True),  # border windows of whole four-channel taps
    "c3s2_rgb": (conv(6, 3, strides=2), (9, 9, 3), True),  # VWW's first layer: tails of 1 byte per row
    "c3s2valid": (conv(5, 3, strides=2, padding="valid"), (11, 10, 3), True),
    "c3_rgb": (conv(16, 3), (12, 12, 3), True),  # IC's first layer
    "c10x4s2": (conv(8, (10, 4), strides=2), (13, 7, 1), True),  # KWS's first layer
    "c1x1s2": (conv(8, 1, strides=2), (8, 8, 16), True),  # IC's shortcut
    "c5_c2": (conv(6, 5), (10, 10, 2), True),  # rows of 10 bytes: tails of 2
    "c3relu6": (conv(4, 3, activation="relu6"), (8, 8, 4), True),
    "c3_x2": (conv(32, 3, activation="relu"), (6, 6, 4), True),  # doubled lanes, gathered by taps
    "c3_c1_x2": (conv(24, 3), (7, 6, 1), True),  # doubled lanes, rows of 3 bytes: tails only
    "c3relu_nobias": (conv(4, (3, 2), strides=(1, 2), activation="relu", bias=False), (7, 9, 3), True),
    "dw3s1": (dwconv(3), (8, 8, 4), True),
    "dw3s1_odd": (dwconv(3, activation="relu"), (7, 5, 8), True),  # an odd row: the last output alone
    "dw3s2": (dwconv(3, strides=2), (9, 9, 3), True),
    "dw3s2_even": (dwconv(3, strides=2, activation="relu6"), (10, 12, 8), True),
    "dw3s2valid": (dwconv(3, strides=2, padding="valid"), (9, 11, 6), True),
    "dw3s12": (dwconv(3, strides=(1, 2)), (6, 9, 5), True),
    "chain": (chain, (10, 10, 3), True),
    # the portable C on every core
    "dw3m2": (dwconv(3, multiplier=2), (8, 8, 4), False),
    "dw5": (dwconv(5), (8, 8, 4), False),
    "c3d2": (conv(4, 3, dilation=2), (9, 9, 3), False),
    "pw_tiny": (conv(4, 1), (1, 3, 8), False),  # fewer than four output pixels
}


def case(name: str, quant: str = "int8", seed: int = 0) -> GraphCase:
    build, shape, _ = CASES[name]
    return GraphCase(f"fastconv_{name}", build, inputs=(shape,), quant=quant, seed=seed)


INT8 = [case(n) for n in CASES] + [case(n, "int8-pt") for n in ("pw", "c3s2_rgb", "dw3s1_odd", "chain")]
DSP_PATHS = {"CONV_2D": DC.PATH, "DEPTHWISE_CONV_2D": DW.PATH}


def _conv_ops(model):
    return [op for op in model.ops if op.kind in DSP_PATHS]


@pytest.mark.parametrize("case", INT8, ids=str)
def test_fast_path_taken_where_it_applies(graph_models, case):
    model = read_tflite(graph_models(case))
    expected = CASES[case.name.removeprefix("fastconv_")][2]
    from toolkit.codegen.context import CContext

    for op in _conv_ops(model):
        assert (choose(op, "dsp", CContext("model")) is DSP_PATHS[op.kind]) == expected, op.describe()
    source = generate_c(model).source
    assert ("_conv(" in source or "_dw(" in source) == expected


def _column_model(op, x: np.ndarray) -> np.ndarray:
    """The DSP conv's arithmetic in numpy: each window in the column buffer's lane order
    (ConvGeometry.lanes, padded with the input zero point; doubled where the layer doubles
    them), times the stream's weights, requantized as SMMLAR does."""
    g = DC.geometry(op)
    plan = conv_plan(op)
    wq = DC.stream(g, plan, op.filter_rows())
    weights = wq[:, 1 : 1 + g.steps].astype("<i4").view(np.int8).reshape(g.out_ch, g.depth).astype(np.int64)
    img = np.asarray(x, np.int64).reshape(g.in_h, g.in_w, g.ch)
    zp = op.input.zero_point
    x2 = int(DC.doubled(g, plan))
    out = np.zeros((g.out_h, g.out_w, g.out_ch), np.int64)
    for oy in range(g.out_h):
        for ox in range(g.out_w):
            iy0, ix0 = oy * g.stride_h - g.pad_top, ox * g.stride_w - g.pad_left
            col = np.zeros(g.depth, np.int64)
            for j, lane in enumerate(g.lanes()):
                if lane is None:
                    continue
                ky, i = lane
                iy, ix = iy0 + ky, ix0 + i // g.ch
                inside = 0 <= iy < g.in_h and 0 <= ix < g.in_w
                col[j] = img[iy, ix, i % g.ch] if inside else zp
            acc = wq[:, 0] + weights @ (col << x2)  # doubled lanes: twice the accumulator
            assert np.all(acc % (1 << x2) == 0)
            out[oy, ox] = Q.requantize_smmulr(acc >> x2, plan.mult, plan.shift, plan.zero_point, plan.lo, plan.hi,
                                              plan.sign_fix)
    return out.reshape(op.output.shape)


@pytest.mark.parametrize("name", ["pw_c6", "c3s2_rgb", "c3s2valid", "c10x4s2", "c5_c2", "c3relu_nobias", "c3_c1_x2"])
def test_column_layout_computes_the_reference(graph_models, name):
    op = _conv_ops(read_tflite(graph_models(case(name))))[0]
    for x in make_inputs(read_tflite(graph_models(case(name))), 3, seed=7):
        assert np.array_equal(_column_model(op, x), op.reference(x.reshape(op.input.shape)))


def test_geometry_of_the_cnn_first_layers():
    """Window rows beyond a multiple of four bytes share groups: 27 values take 28 lanes."""
    g = DC.ConvGeometry(96, 96, 3, 3, 3, 2, 2, 0, 0, 48, 48, 8)
    assert (g.full, g.tail, g.depth, g.steps) == (8, 1, 28, 7)
    assert g.lanes()[24:] == [(0, 8), (1, 8), (2, 8), None]
    kws = DC.ConvGeometry(49, 10, 1, 10, 4, 2, 2, 4, 1, 25, 5, 64)
    assert (kws.depth, kws.tail) == (40, 0) and kws.clipped()


def test_depthwise_plane_geometry():
    g = DW.DwGeometry(25, 5, 64, 1, 1, 1, 1, 25, 5)  # KWS: two pairs and a single output per row
    assert (g.pairs, g.single, g.plane_rows, g.plane_cols) == (2, True, 27, 8)
    assert g.copied() == (range(0, 25), range(0, 5))
    s2 = DW.DwGeometry(48, 48, 16, 2, 2, 0, 0, 24, 24)  # SAME, stride 2: padding after only
    assert (s2.pairs, s2.single, s2.plane_rows, s2.plane_cols) == (12, False, 49, 50)
    assert s2.copied() == (range(0, 48), range(0, 48))


@pytest.mark.parametrize("case", [case(n) for n in ("pw_c6", "c3s2_rgb", "dw3s1_odd", "chain")], ids=str)
def test_portable_c_on_the_host(graph_models, tmp_path, case):
    check_model(graph_models(case), tmp_path, n=10)


def _emulate(path, arch, tmp_path, n=8):
    from toolkit.emulate import emulate

    report = emulate(path, arch, tmp_path, n_inputs=n)
    assert report.comparison.passed and report.to_json()["mismatches"] == 0, report.comparison
    return report


@pytest.mark.parametrize("case", INT8, ids=str)
def test_bit_exact_on_cortex_m4(graph_models, tmp_path, case):
    _emulate(graph_models(case), "cortex-m4", tmp_path)


@pytest.mark.parametrize("case", [case(n) for n in ("pw", "c3s2_rgb", "c10x4s2", "dw3s1_odd", "dw3s2_even", "chain")],
                         ids=str)
@pytest.mark.parametrize("arch", ["cortex-m7", "cortex-m33"])
def test_bit_exact_on_m7_and_m33(graph_models, tmp_path, case, arch):
    _emulate(graph_models(case), arch, tmp_path, n=4)


def _wider_output(op):  # output scale doubled: a ReLU6's upper clamp falls inside int8 (hi = zp + 128)
    op.output.quant = Quant(op.output.quant.scale * 2, op.output.quant.zero_point)


def _raised_zero_point(op):  # output zero point -100: a ReLU's lower clamp falls inside int8
    op.output.quant = Quant(op.output.quant.scale, np.array([-100]))


@pytest.mark.parametrize("name, tweak", [("c3relu6", _wider_output), ("dw3s2_even", _wider_output),
                                         ("c3_x2", _raised_zero_point), ("dw3s1_odd", _raised_zero_point)],
                         ids=lambda v: getattr(v, "__name__", str(v)))
def test_activation_clamps_on_cortex_m4(graph_models, tmp_path, name, tweak):
    """The IR patched so that the activation range is narrower than int8 (converted
    models fit their output scale to it): the clamps after SSAT, emulated == the numpy reference."""
    import emulation
    from toolkit.codegen import write_c

    model = read_tflite(graph_models(case(name)))
    for op in model.ops:
        tweak(op)
        plan = conv_plan(op)
        assert plan is not None and (plan.lo > -128 or plan.hi < 127)
    inputs = make_inputs(model, 8, seed=5)
    write_c(generate_c(model), tmp_path / "model")
    fw = emulation.build_firmware(tmp_path / "model", inputs, "cortex-m4", tmp_path)
    ours = emulation.run_elf(fw.elf, "cortex-m4").outputs_array("int8")
    ref = reference_rows(model, inputs)
    assert np.array_equal(ours.reshape(ref.shape), ref)
    assert np.any(ref == (plan.hi if plan.hi < 127 else plan.lo)) and len(np.unique(ref)) > 2  # clamped, not only


def test_dsp_constants_are_the_portable_bytes(graph_models):
    """int8 weights stay int8: the DSP build's constants are the portable build's (bias,
    multipliers and shifts where they differ per channel, weights) plus the lanes that pad
    windows (here 28 for the first layer's 27 values)."""
    for quant in ("int8", "int8-pt"):
        model = read_tflite(graph_models(case("chain", quant)))
        gen = generate_c(model)
        pad = sum(op.out_channels * (DC.geometry(op).depth - op.taps) for op in model.ops if op.kind == "CONV_2D")
        assert pad == 8
        assert gen.const_bytes_by_path["dsp"] == gen.const_bytes_by_path["portable"] + pad


# Instructions per inference on the emulated Cortex-M4 (exact; measured with the kernels
# of this change, bounds a few % above): regressions of the DSP convolutions show here.
# Before these paths (portable C): KWS 13,182,982, VWW 38,557,532, IC 59,289,111. IC's three
# ADDs took 3.25 M of its instructions before their DSP path (fast/dsp/add.py), 0.49 M with
# it (IC measured 12,627,454).
TARGET_PER_MAC = {"kws_dscnn": 1.5, "vww_mobilenet": 1.4, "ic_resnet8": 1.3}  # issue 12's targets
M4_INSTRUCTIONS_MAX = {"kws_dscnn": 3_080_000, "vww_mobilenet": 8_840_000, "ic_resnet8": 13_000_000}


@pytest.mark.parametrize("cnn", [KWS, VWW, IC], ids=lambda c: c.name)
def test_cnn_models_on_cortex_m4(graph_models, tmp_path, cnn):
    report = _emulate(graph_models(cnn), "cortex-m4", tmp_path, n=2)
    instructions = report.to_json()["instructions"]
    assert instructions <= M4_INSTRUCTIONS_MAX[cnn.name], f"{instructions:,} instructions"
    assert instructions / PUBLISHED_MACS[cnn.name] < TARGET_PER_MAC[cnn.name]


def test_registry_has_the_conv_paths():
    assert DC.PATH in REGISTRY[("CONV_2D", "dsp")] and DW.PATH in REGISTRY[("DEPTHWISE_CONV_2D", "dsp")]
