"""The ARMv6-M fast paths (toolkit/codegen/fast/armv6m/): which layers take them,
bit-exactness with the numpy reference / TFLM interpreter on the emulated Cortex-M0+ for
odd shapes (channels not a multiple of 4, strides 1 and 2, SAME and VALID, per-tensor
and per-channel, rows and pixels left over after the passes of four), one model on the
RP2040 (rp2040js), a -Wextra -Werror compile, and the MLPerf Tiny models' instruction
counts on the Cortex-M0+ (guarded; at most half of TFLM's reference kernels)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.toolkit.cnnmodels import AD, IC, KWS, VWW
from tests.toolkit.codegen import test_fast_add as FA
from tests.toolkit.codegen import test_fast_conv as FC
from tests.toolkit.codegen import test_fast_fc_int8 as FF
from tests.toolkit.graph.harness import assert_cross_compiles
from toolkit.codegen.context import CContext
from toolkit.codegen.fast import REGISTRY, choose
from toolkit.codegen.fast.armv6m import add as A6
from toolkit.codegen.fast.armv6m import conv2d as C6
from toolkit.codegen.fast.armv6m import depthwise_conv2d as D6
from toolkit.codegen.fast.armv6m import fully_connected as F6
from toolkit.codegen.fast.armv6m import mac
from toolkit.ir import Quant
from toolkit.tflite.reader import read_tflite

PATHS = {"CONV_2D": C6.PATH, "DEPTHWISE_CONV_2D": D6.PATH, "FULLY_CONNECTED": F6.PATH,
         "ADD": REGISTRY[("ADD", "armv6m")][0], "SUB": REGISTRY[("SUB", "armv6m")][0]}
CONV = ["pw_c6", "c3s1", "c3s2_rgb", "c3s2valid", "c10x4s2", "c1x1s2", "c5_c2", "c3relu_nobias", "dw3s1_odd",
        "dw3s2", "dw3s2valid", "dw3s12", "dw5", "chain", "dw3m2", "c3d2", "pw_tiny"]
# channel multiplier 2, dilation; broadcasting (and its 41->1 dense layer: one row, where the
# portable C is estimated faster): the portable C
NOT_TAKEN = {"dw3m2", "c3d2", "broadcast"}
CASES = ([FC.case(n) for n in CONV] + [FC.case(n, "int8-pt") for n in ("pw", "c3s2_rgb", "dw3s1_odd", "chain")]
         + [FF.case(n) for n in ("fc37x13_relu", "fc70x23_relu_33", "fc40x3", "fc300x40")]
         + [FF.case("fc70x23_relu_33", "int8-pt"), FA.RESIDUAL, FA.BROADCAST])


def _short(case) -> str:
    return case.name.split("_", 1)[1]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_path_taken_where_it_applies(graph_models, case):
    model = read_tflite(graph_models(case))
    ops = [op for op in model.ops if op.kind in PATHS]
    assert ops
    for op in ops:
        expected = _short(case) not in NOT_TAKEN
        assert (choose(op, "armv6m", CContext("model")) is PATHS[op.kind]) == expected, op.describe()


def _emulate(path, arch, tmp_path, n=4):
    from toolkit.emulate import emulate

    report = emulate(path, arch, tmp_path, n_inputs=n)
    assert report.comparison.passed and report.to_json()["mismatches"] == 0, report.comparison
    return report


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bit_exact_on_cortex_m0plus(graph_models, tmp_path, case):
    _emulate(graph_models(case), "cortex-m0plus", tmp_path)


def test_bit_exact_on_rp2040(graph_models, tmp_path):
    _emulate(graph_models(FC.case("chain")), "rp2040", tmp_path, n=2)


def test_compiles_without_warnings(graph_models, tmp_path):
    paths = [graph_models(c) for c in (FC.case("chain"), FC.case("c3s2_rgb", "int8-pt"), FF.case("fc37x13_relu"))]
    assert_cross_compiles(paths, tmp_path, "arm-none-eabi-gcc/m0plus")


@pytest.mark.parametrize("seed", range(4))
def test_add_arithmetic_for_every_input_pair(graph_models, seed):
    """The tables and the 16-bit partial products against TFLM's arithmetic for all 65,536
    input pairs, with the file's scales (seed 0) and random ones."""
    rng = np.random.default_rng(seed)
    a, b = FA._pairs()
    for op in read_tflite(graph_models(FA.RESIDUAL)).ops:
        if op.kind not in ("ADD", "SUB"):
            continue
        if seed:
            for t in (*op.inputs, op.output):
                t.quant = Quant(np.array([10 ** rng.uniform(-3, -1)]), np.array([int(rng.integers(-128, 128))]))
        if A6.tables(op) is not None:
            assert np.array_equal(A6.model(op, a, b), FA._tflm(op, a, b)), (seed, op.describe())


def test_stream_and_correction():
    """The biased layout: Σ x·w = R - 128·S - 128·Σ w for the padded, interleaved stream."""
    rng = np.random.default_rng(3)
    rows = rng.integers(-128, 128, (6, 21))
    x = rng.integers(-128, 128, 21)
    n_pad = mac.padded(21)
    w = mac.stream(rows).reshape(-1, n_pad, mac.ROWS).transpose(0, 2, 1).reshape(-1, n_pad)[:6].astype(np.int64)
    xb = np.zeros(n_pad, np.int64)
    xb[:21] = x + 128
    raw = w @ xb
    bias = mac.corrected_bias(rows, np.zeros(6, np.int64))
    assert np.array_equal(raw + bias - 128 * xb.sum(), rows @ x)
    assert mac.padded(3000) % 16 == 0 and mac.padded(3000) >> 4 <= 255


# Instructions per inference on the emulated Cortex-M0+ (exact; measured with these paths,
# bounds a few % above). Before them (portable C): KWS 21,937,225, VWW 63,933,028,
# IC 97,973,394, AD 2,459,838.
# Measured: KWS 13,024,719, VWW 39,067,197, IC 50,651,979, AD 989,089.
M0PLUS_INSTRUCTIONS_MAX = {"kws_dscnn": 13_400_000, "vww_mobilenet": 40_000_000, "ic_resnet8": 52_000_000,
                           "ad_autoencoder": 1_020_000}
# TFLM with its reference kernels on the same emulated core, same model and harness,
# measured with benchmarks/models_bench.py --archs cortex-m0plus --engines tflm (one input).
TFLM_REFERENCE_M0PLUS = {"kws_dscnn": 72_011_947, "vww_mobilenet": 164_545_765, "ic_resnet8": 169_332_008,
                         "ad_autoencoder": 2_356_420}


@pytest.mark.parametrize("cnn", [KWS, VWW, IC, AD], ids=lambda c: c.name)
def test_models_on_cortex_m0plus(graph_models, tmp_path, cnn):
    instructions = _emulate(graph_models(cnn), "cortex-m0plus", tmp_path, n=1).to_json()["instructions"]
    assert instructions <= M0PLUS_INSTRUCTIONS_MAX[cnn.name], f"{instructions:,} instructions"
    assert 2 * instructions <= TFLM_REFERENCE_M0PLUS[cnn.name]  # issue 12's target on the M0+


def test_registry_has_the_paths():
    for (kind, path) in PATHS.items():
        assert path in REGISTRY[(kind, "armv6m")]
