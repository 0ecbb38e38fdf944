"""The RV32IMC fast paths (toolkit/codegen/fast/rv32/): which layers take them, their
weight layout, bit-exactness on the emulated rv32imc for the odd shapes of
test_fast_armv6m.py, a -Wextra -Werror compile, and the MLPerf Tiny models' instruction
counts on rv32imc (guarded)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.toolkit.cnnmodels import AD, IC, KWS
from tests.toolkit.codegen import test_fast_conv as FC
from tests.toolkit.codegen import test_fast_fc_int8 as FF
from tests.toolkit.codegen.test_fast_armv6m import CASES
from tests.toolkit.graph.harness import assert_cross_compiles
from toolkit.codegen.context import CContext
from toolkit.codegen.fast import REGISTRY, choose
from toolkit.codegen.fast.rv32 import conv2d as C32
from toolkit.codegen.fast.rv32 import fully_connected as F32
from toolkit.codegen.fast.rv32 import mac
from toolkit.tflite.reader import read_tflite

PATHS = {"CONV_2D": C32.PATH, "FULLY_CONNECTED": F32.PATH}
RV32_CASES = [c for c in CASES if not c.name.startswith("fastconv_dw")]


@pytest.mark.parametrize("case", RV32_CASES, ids=str)
def test_path_taken_where_it_applies(graph_models, case):
    model = read_tflite(graph_models(case))
    for op in model.ops:
        if op.kind in PATHS:
            if op.kind == "CONV_2D":
                expected = "c3d2" not in case.name  # dilation
            else:  # whole loop iterations of input, rows not written out by the portable C, 4 rows or more
                expected = op.in_features % 4 == 0 and op.in_features > 16 and op.output.shape[-1] >= 4
            assert (choose(op, "rv32", CContext("model")) is PATHS[op.kind]) == expected, op.describe()


def _emulate(path, arch, tmp_path, n=4):
    from toolkit.emulate import emulate

    report = emulate(path, arch, tmp_path, n_inputs=n)
    assert report.comparison.passed and report.to_json()["mismatches"] == 0, report.comparison
    return report


@pytest.mark.parametrize("case", RV32_CASES, ids=str)
def test_bit_exact_on_rv32imc(graph_models, tmp_path, case):
    _emulate(graph_models(case), "rv32imc", tmp_path)


def test_compiles_without_warnings(graph_models, tmp_path):
    paths = [graph_models(c) for c in (FC.case("chain"), FC.case("c3s2_rgb", "int8-pt"), FF.case("fc300x40"))]
    assert_cross_compiles(paths, tmp_path, "riscv64-unknown-elf-gcc")


def test_stream_layout():
    rng = np.random.default_rng(5)
    rows = rng.integers(-128, 128, (11, 7))
    w = mac.stream(rows).astype(np.int64).reshape(mac.blocks(11), mac.padded(7), mac.ROWS)
    x = rng.integers(-128, 128, mac.padded(7))
    x[7:] = 99  # padding taps meet zero weights
    acc = np.einsum("btj,t->bj", w, x).reshape(-1)[:11]
    assert np.array_equal(acc, rows @ x[:7])


# Instructions per inference on the emulated rv32imc (exact; measured with these paths,
# bounds a few % above). Before them (portable C): KWS 18,597,029, IC 85,166,669, AD 2,157,813.
# Measured: KWS 11,857,140, IC 51,094,073, AD 906,741.
RV32_INSTRUCTIONS_MAX = {"kws_dscnn": 12_200_000, "ic_resnet8": 52_600_000, "ad_autoencoder": 935_000}


@pytest.mark.parametrize("cnn", [KWS, IC, AD], ids=lambda c: c.name)
def test_models_on_rv32imc(graph_models, tmp_path, cnn):
    instructions = _emulate(graph_models(cnn), "rv32imc", tmp_path, n=1).to_json()["instructions"]
    assert instructions <= RV32_INSTRUCTIONS_MAX[cnn.name], f"{instructions:,} instructions"


def test_registry_has_the_paths():
    for kind, path in PATHS.items():
        assert path in REGISTRY[(kind, "rv32")]
