"""Layer markers (emulation/layers.py): per-segment counts of the hand-written layer_model
fixture on every core, and the arithmetic that turns marker counts into segments."""
from __future__ import annotations

import pytest

from emulation import run_elf
from emulation.layers import LayerMark, parse_section, segments

from .firmware_fixtures import ALL_ARCHS, COUNT_INPUTS


def test_segments_split_a_pair_exactly():
    # raw pair: 100 instructions, 300 cycles; calibration pair 4 instructions, 9 cycles
    marks = [LayerMark(0, 10, cycles_est=30, nop_cycles_est=1), LayerMark(3, 50, cycles_est=140, nop_cycles_est=2)]
    segs = segments(marks, 100, cycles_est=300, overhead=4, cycles_est_overhead=9)
    assert [(s.index, s.instructions, s.cycles_est) for s in segs] == [(None, 6, 21), (0, 39, 109), (3, 49, 158)]
    assert sum(s.instructions + s.marker_instructions for s in segs) == 100 - 4
    assert sum(s.cycles_est + s.marker_cycles_est for s in segs) == 300 - 9
    assert segments([], 100) == []


def test_parse_section_clears_the_thumb_bit():
    data = (0x1235).to_bytes(4, "little") + (7).to_bytes(4, "little") + (0x2000).to_bytes(4, "little") + bytes(4)
    assert parse_section(data) == [(0x1234, 7), (0x2000, 0)]


@pytest.mark.parametrize("arch", ALL_ARCHS)
def test_segments_equal_a_hand_count(firmware, arch):
    """layer_model is count_model with markers 0 (before its loop of 2n instructions), 1 (before
    three single-cycle moves) and 7 (before the return): see its source."""
    result = run_elf(firmware.elf("layers", arch), arch)
    plain = run_elf(firmware.elf("count", arch), arch)
    exact = result.cycles_per_inference
    for k, n in enumerate(int(v) for v in COUNT_INPUTS[:, 0]):
        segs = result.layers[k]
        assert [s.index for s in segs] == [None, 0, 1, 7]
        before, loop, moves, after = segs
        assert loop.instructions == 2 * n
        assert moves.instructions == 3 and moves.cycles_est == 3
        assert before.instructions + after.instructions == plain.instructions_per_inference[k] - 2 * n
        # everything measured is in a segment or a marker
        assert result.instructions_per_inference[k] == plain.instructions_per_inference[k] + 3 + 3
        assert sum(s.instructions + s.marker_instructions for s in segs) == result.instructions_per_inference[k]
        if result.cycles_est_per_inference:
            assert sum(s.cycles_est + s.marker_cycles_est for s in segs) == result.cycles_est_per_inference[k]
        if exact:
            assert moves.cycles == 3 and sum(s.cycles + s.marker_cycles for s in segs) == exact[k]
    assert result.outputs == plain.outputs


def test_no_markers_no_layers(firmware):
    assert run_elf(firmware.elf("count", "cortex-m4"), "cortex-m4").layers == []


def test_segments_without_the_timing_model(firmware):
    elf = firmware.elf("layers", "cortex-m4")
    timed, counted = run_elf(elf, "cortex-m4"), run_elf(elf, "cortex-m4", timing=False)
    assert [[s.instructions for s in i] for i in counted.layers] == [[s.instructions for s in i] for i in timed.layers]
    assert all(s.cycles_est is None for i in counted.layers for s in i)
