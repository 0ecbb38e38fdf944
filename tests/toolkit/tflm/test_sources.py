"""Only the core and the model's kernels are compiled, with TFLM's own flags."""

from __future__ import annotations

import pytest

from toolkit.tflm.sources import (
    Flags,
    UnsupportedOp,
    cmsis_nn_sources,
    core_sources,
    cpu_flags,
    kernel_sources,
    model_sources,
)

K = "tensorflow/lite/micro/kernels"
M4 = ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16")


def test_core_is_the_interpreter_without_tests_or_kernels(tflm_tree):
    core = core_sources(tflm_tree)
    assert "tensorflow/lite/micro/micro_interpreter.cc" in core
    assert "tensorflow/lite/core/api/flatbuffer_conversions.cc" in core
    assert not [s for s in core if "/kernels/" in s and s.startswith("tensorflow/lite/micro")]
    assert not [s for s in core if "test" in s or "recording" in s]
    assert 30 <= len(core) <= 45


def test_kernels_follow_includes_to_their_helpers(tflm_tree):
    assert kernel_sources(tflm_tree, ["FULLY_CONNECTED"], False) == [
        f"{K}/fully_connected.cc", f"{K}/fully_connected_common.cc", f"{K}/kernel_util.cc"]
    cmsis = kernel_sources(tflm_tree, ["FULLY_CONNECTED", "RESHAPE"], True)
    assert f"{K}/cmsis_nn/fully_connected.cc" in cmsis and f"{K}/fully_connected.cc" not in cmsis
    assert f"{K}/reshape.cc" in cmsis  # no CMSIS-NN version: the reference one
    nn = cmsis_nn_sources(tflm_tree, cmsis)
    assert any(s.endswith("/arm_fully_connected_s8.c") for s in nn)
    assert not any("Pooling" in s or "Softmax" in s for s in nn)  # not what FC calls
    lstm = kernel_sources(tflm_tree, ["UNIDIRECTIONAL_SEQUENCE_LSTM"], False)
    assert f"{K}/lstm_eval.cc" in lstm and f"{K}/lstm_eval_common.cc" in lstm  # helper modules


def test_unknown_op_and_missing_cmsis_nn(tflm_tree):
    with pytest.raises(UnsupportedOp, match="no NOT_AN_OP"):
        kernel_sources(tflm_tree, ["NOT_AN_OP"], False)
    assert len(model_sources(tflm_tree, ["FULLY_CONNECTED"], True)) > len(model_sources(tflm_tree, ["FULLY_CONNECTED"], False))


def test_flags_are_tflms(tflm_tree):
    f = Flags(cpu_flags(("-mcpu=cortex-m0plus", "-mthumb", "-mfloat-abi=soft", "-DTM_PLATFORM_INIT")), cmsis_nn=False)
    assert f.cpu == ("-mcpu=cortex-m0plus", "-mthumb", "-mfloat-abi=soft")  # the platform define is not TFLM's
    core = f.for_source(tflm_tree.root, "tensorflow/lite/micro/micro_interpreter.cc")
    kernel = Flags(M4, cmsis_nn=True).for_source(tflm_tree.root, f"{K}/cmsis_nn/conv.cc")
    c = Flags(M4, cmsis_nn=True).for_source(tflm_tree.root, "third_party/cmsis_nn/Source/X/arm_x.c")
    assert "-Os" in core and "-std=c++17" in core and "-DCPU_M0plus=1" in core and "-DCMSIS_NN" not in core
    assert "-O2" in kernel and "-DCMSIS_NN" in kernel and "-DCPU_M4=1" in kernel and "-fno-rtti" in kernel
    assert "-O2" in c and "-std=c17" in c
