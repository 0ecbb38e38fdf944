"""The int8-weight DSP path of FULLY_CONNECTED (toolkit/codegen/fast/dsp/fc_int8.py): which
layers take it, bit-exactness with TFLM on the emulated Cortex-M4, M7 and M33 on odd shapes
(inputs not a multiple of 4, rows left over after the passes of four, per-tensor and
per-channel, with and without ReLU), the ReLU folded into USAT, and the MLPerf Tiny
anomaly-detection autoencoder (tests/toolkit/cnnmodels.py AD): bit-exact on the host and
on the M4, M0+ and RV32, its M4 instruction count and its flash guarded."""

from __future__ import annotations

import numpy as np
import pytest

from tests.toolkit.cnnmodels import AD, PUBLISHED_MACS
from tests.toolkit.graph.harness import check_model, reference_rows
from tests.toolkit.graphmodels import GraphCase
from toolkit.codegen import generate_c
from toolkit.codegen.context import CContext
from toolkit.codegen.fast import choose
from toolkit.codegen.fast.dsp import fc_int8 as FI
from toolkit.ir import Quant
from toolkit.tflite.reader import read_tflite
from toolkit.validation import make_inputs


def dense(*layers: tuple[int, str | None]):
    """Dense layers (units, activation) in a chain."""
    def build(keras, x):
        y = x
        for units, act in layers:
            y = keras.layers.Dense(units, activation=act, bias_initializer="random_normal")(y)
        return y
    return build


CASES = {  # name -> (builder, input length)
    "fc37x13_relu": (dense((13, "relu")), 37),  # 1 input and 1 row left over
    "fc50x6": (dense((6, None)), 50),  # 2 and 2
    "fc70x23_relu_33": (dense((23, "relu"), (33, None)), 70),  # 2 and 3, then 3 and 1: two layers
    "fc19x4_relu6": (dense((4, "relu6")), 19),  # one pass only
    "fc300x40": (dense((40, None)), 300),  # the dot product in a loop
    "fc40x3": (dense((3, None)), 40),  # fewer rows than a pass: not taken
}


def case(name: str, quant: str = "int8") -> GraphCase:
    build, n = CASES[name]
    return GraphCase(f"fastfc_{name}", build, inputs=((n,),), quant=quant)


INT8 = [case(n) for n in CASES] + [case(n, "int8-pt") for n in ("fc37x13_relu", "fc70x23_relu_33", "fc300x40")]


def _emulate(path, arch, tmp_path, n=8):
    from toolkit.emulate import emulate

    report = emulate(path, arch, tmp_path, n_inputs=n)
    assert report.comparison.passed and report.to_json()["mismatches"] == 0, report.comparison
    return report


@pytest.mark.parametrize("case", INT8, ids=str)
def test_int8_path_taken(graph_models, case):
    model = read_tflite(graph_models(case))
    for op in model.ops:
        if op.kind == "FULLY_CONNECTED":
            taken = op.in_features >= FI.IN_MIN and op.out_features >= 4
            assert (choose(op, "dsp", CContext("model")) is FI.PATH) == taken, op.describe()


@pytest.mark.parametrize("case", INT8, ids=str)
@pytest.mark.parametrize("arch", ["cortex-m4", "cortex-m7", "cortex-m33"])
def test_bit_exact_on_dsp_cores(graph_models, tmp_path, case, arch):
    _emulate(graph_models(case), arch, tmp_path, n=8 if arch == "cortex-m4" else 4)


def test_stream_is_the_portable_bytes(graph_models):
    """int8 weights stay int8: the DSP build's constants are at most the portable build's
    plus the padding of each row to whole words (37 inputs: 3 bytes per row); per word of
    the stream: the bias, four weights, the per-channel words."""
    from toolkit.codegen.fast.dsp.conv_requant import channel_columns

    for quant in ("int8", "int8-pt"):
        model = read_tflite(graph_models(case("fc37x13_relu", quant)))
        gen = generate_c(model)
        cols = channel_columns(FI.fc_plan(model.ops[0]))
        assert gen.const_bytes_by_path["dsp"] == 4 * 13 * (1 + 10 + len(cols))
        assert gen.const_bytes_by_path["dsp"] <= gen.const_bytes_by_path["portable"] + 13 * 3


@pytest.mark.parametrize("quant", ["int8", "int8-pt"])
def test_relu_at_the_zero_point_as_usat(graph_models, tmp_path, quant):
    """The output zero point patched to -100 under a ReLU: the lower clamp is the zero
    point, which USAT #31 on the accumulator gives; emulated == the numpy reference."""
    import emulation
    from toolkit.codegen import write_c

    model = read_tflite(graph_models(case("fc37x13_relu", quant)))
    op = model.ops[0]
    op.output.quant = Quant(op.output.quant.scale, np.array([-100]))
    assert FI.relu_at_zero(FI.fc_plan(op))
    inputs = make_inputs(model, 8, seed=5)
    gen = generate_c(model)
    assert "__builtin_arm_usat" in gen.source
    write_c(gen, tmp_path / "model")
    fw = emulation.build_firmware(tmp_path / "model", inputs, "cortex-m4", tmp_path)
    ours = emulation.run_elf(fw.elf, "cortex-m4").outputs_array("int8")
    ref = reference_rows(model, inputs)
    assert np.array_equal(ours.reshape(ref.shape), ref)
    assert np.any(ref == -100) and len(np.unique(ref)) > 2  # clamped, not only


def test_ad_autoencoder_on_the_host(graph_models, tmp_path):
    model = check_model(graph_models(AD), tmp_path, n=10)
    assert model.macs == PUBLISHED_MACS["ad_autoencoder"]
    assert [op.kind for op in model.ops] == ["FULLY_CONNECTED"] * 10


# Instructions per inference on the emulated Cortex-M4 (exact; measured 319,700 with this
# path, bound a few % above): issue 12's target is 1.3 per MAC. Before it (int8 layers
# above 4 KB of int16 pairs took the portable loop): 1,356,600.
AD_M4_INSTRUCTIONS_MAX = 330_000


@pytest.mark.parametrize("arch", ["cortex-m4", "cortex-m0plus", "rv32imc"])
def test_ad_autoencoder_emulated(graph_models, tmp_path, arch):
    report = _emulate(graph_models(AD), arch, tmp_path, n=2)
    if arch != "cortex-m4":
        return
    data = report.to_json()
    assert data["instructions"] <= AD_M4_INSTRUCTIONS_MAX, f"{data['instructions']:,} instructions"
    assert data["instructions"] / PUBLISHED_MACS["ad_autoencoder"] <= 1.3
    weights = sum(op.weights.size for op in read_tflite(graph_models(AD)).ops)
    assert data["flash_bytes"] <= 1.1 * weights + 8192, f"{data['flash_bytes']:,} flash bytes, {weights:,} of weights"


@pytest.mark.parametrize("opt", ["-O0", "-Og", "-O3"])
def test_assembly_compiles_at_every_optimisation_level(graph_models, tmp_path, opt):
    """The passes' assembly takes 13 registers: at -O0 r7 is the frame pointer and 13 are
    all that is left (the end of the input words is read from memory for that)."""
    import shutil
    import subprocess

    from toolkit.codegen import write_c

    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc not installed")
    for c in (AD, case("fc70x23_relu_33")):
        out = tmp_path / c.name
        write_c(generate_c(read_tflite(graph_models(c))), out)
        for cpu in ("cortex-m4", "cortex-m33"):
            cmd = ["arm-none-eabi-gcc", f"-mcpu={cpu}", "-mthumb", "-std=c99", opt, "-Wall", "-Wextra", "-Werror",
                   "-c", str(out / "model.c"), "-o", str(out / "model.o")]
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            assert done.returncode == 0, f"{' '.join(cmd)}\n{done.stderr}"
