"""budget reports the weights each core is built with: the DSP layout only on Cortex-M4/M7/M33."""

from __future__ import annotations

from toolkit.boards import get_board
from toolkit.budget import check
from toolkit.codegen import generate_c
from toolkit.tflite.reader import read_tflite


def test_weight_bytes_follow_the_core(reference_models, tmp_path):
    gen = generate_c(read_tflite(reference_models["int8"]))
    dsp, portable = gen.const_bytes_by_path["dsp"], gen.const_bytes_by_path["portable"]
    assert dsp > portable  # pre-widened int16 weights on the DSP cores
    for name, expected in (("arduino-uno", portable), ("stm32f103-bluepill", portable), ("arduino-nano-33-ble", dsp)):
        board = get_board(name)
        assert gen.const_bytes_on(board.arch) == expected
        result = check(reference_models["int8"], board, tmp_path / name)
        assert result.const_bytes == expected, name
        assert result.to_json()["const_bytes"] == expected


def test_const_bytes_per_core_are_what_the_compiler_keeps(graph_models, tmp_path):
    """The weights each core's build holds (its fast paths' layouts, the portable arrays of the
    ops it has no fast path for) equal the arrays the cross-compiler emits for that core."""
    import shutil
    import subprocess

    import pytest

    from emulation import get_arch
    from tests.toolkit.cnnmodels import KWS
    from toolkit.codegen import write_c

    gen = generate_c(read_tflite(graph_models(KWS)))
    write_c(gen, tmp_path)
    sizes = set()
    for arch in ("cortex-m4", "cortex-m0plus", "rv32imc", "cortex-m3"):
        spec = get_arch(arch)
        cc = spec.toolchain.cc
        if shutil.which(cc) is None:
            pytest.skip(f"{cc} not installed ({spec.toolchain.install_hint})")
        obj = tmp_path / f"{arch}.o"
        specs = [f for f in spec.toolchain.ldflags if f.startswith("--specs")]  # the C library's headers
        subprocess.run([cc, *spec.cflags, *spec.toolchain.cflags, *specs, "-c", str(tmp_path / "model.c"), "-o", str(obj)],
                       check=True)
        nm = subprocess.run([f"{spec.toolchain.prefix}nm", "-S", str(obj)], capture_output=True, text=True, check=True)
        held = sum(int(size, 16) for _, size, kind, name in (ln.split() for ln in nm.stdout.splitlines() if len(ln.split()) == 4)
                   if kind in "rR" and name.startswith("model_l"))
        assert held == gen.const_bytes_on(arch), arch
        sizes.add(held)
    assert len(sizes) >= 3  # the DSP, ARMv6-M and portable layouts differ on this model
