"""Finding a TFLM tree and reading what it offers from its own files."""

from __future__ import annotations

import pytest

from toolkit.tflm import tree as T
from toolkit.tflm.tree import TflmTreeError, find_tree


def test_explicit_env_then_bundled(tmp_path, monkeypatch, tflm_tree):
    monkeypatch.delenv(T.ENV_TREE, raising=False)
    assert find_tree().root == T.BUNDLED_TREE.resolve() == tflm_tree.root  # the default: the shipped tree
    monkeypatch.setenv(T.ENV_TREE, str(tmp_path))
    with pytest.raises(TflmTreeError, match=f"{tmp_path} .TOOLKIT_TFLM_TREE. is not a TFLM source tree"):
        find_tree()
    assert find_tree(tflm_tree.root).root == tflm_tree.root  # --tflm-tree wins over the variable


def test_no_tree_says_how_to_make_one(monkeypatch, tmp_path):
    monkeypatch.delenv(T.ENV_TREE, raising=False)
    monkeypatch.setattr(T, "BUNDLED_TREE", tmp_path / "absent")
    with pytest.raises(TflmTreeError) as exc:
        find_tree()
    msg = str(exc.value)
    assert "--tflm-tree DIR" in msg and "TOOLKIT_TFLM_TREE" in msg and "create_tflm_tree.py" in msg
    assert "\n" not in msg


def test_resolver_and_kernel_files_come_from_the_tree(tflm_tree):
    fc = tflm_tree.resolver["FULLY_CONNECTED"]
    assert (fc.method, fc.register) == ("AddFullyConnected", "Register_FULLY_CONNECTED")
    assert tflm_tree.resolver["DEPTHWISE_CONV_2D"].method == "AddDepthwiseConv2D"
    assert len(tflm_tree.resolver) >= 90
    assert tflm_tree.kernel_file("Register_FULLY_CONNECTED", False) == "tensorflow/lite/micro/kernels/fully_connected.cc"
    assert tflm_tree.kernel_file("Register_FULLY_CONNECTED", True) == "tensorflow/lite/micro/kernels/cmsis_nn/fully_connected.cc"
    assert tflm_tree.kernel_file("Register_RESHAPE", True) == "tensorflow/lite/micro/kernels/reshape.cc"  # no CMSIS-NN one
    # every builtin the resolver offers has a kernel in both variants
    for entry in tflm_tree.resolver.values():
        assert tflm_tree.kernel_file(entry.register, True), entry
    assert tflm_tree.has_cmsis_nn and len(tflm_tree.fingerprint) == 16


def test_the_bundled_tree_holds_every_file_its_builds_compile(tflm_tree):
    """scripts/vendor_tflm.py kept what every operator of the resolver compiles, both kernel sets."""
    from toolkit.tflm.sources import model_sources

    for cmsis_nn in (False, True):
        sources = model_sources(tflm_tree, sorted(tflm_tree.resolver), cmsis_nn)
        assert sources and all((tflm_tree.root / rel).is_file() for rel in sources)
    for licence in ("LICENSE", "third_party/cmsis_nn/LICENSE", "third_party/flatbuffers/LICENSE"):
        assert (tflm_tree.root / licence).is_file()
