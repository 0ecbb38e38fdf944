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
