"""rp2040 (Raspberry Pi Pico) on rp2040js, checked against the Unicorn Cortex-M0+ run."""
from __future__ import annotations

import pytest

from emulation import run_elf
from emulation.elf import load_elf

from .firmware_fixtures import COUNT_INPUTS, size_table

ARCH = "rp2040"


@pytest.mark.parametrize("model", ["int8", "float"])
def test_same_outputs_and_counts_as_unicorn_cortex_m0plus(firmware, model):
    """The same model on two engines: rp2040js (RP2040 memory map, UART console) and
    Unicorn (MPS2 map, semihosting). Same code, so the same outputs and instruction counts."""
    pico = run_elf(firmware.elf(model, ARCH), ARCH)
    m0 = run_elf(firmware.elf(model, "cortex-m0plus"), "cortex-m0plus")
    assert pico.outputs == m0.outputs and len(pico.outputs) == 6
    assert pico.inputs == m0.inputs
    assert pico.instructions_per_inference == m0.instructions_per_inference
    assert pico.marker_overhead == m0.marker_overhead
    assert pico.stack_bytes == m0.stack_bytes
    assert pico.cycles is not None and m0.cycles is None
    for n, c in zip(pico.instructions_per_inference, pico.cycles_per_inference):
        assert n <= c < 4 * n


def test_image_runs_from_flash_at_0x10000000(firmware):
    image = load_elf(firmware.elf("int8", ARCH))
    assert image.symbol("__flash_origin") == 0x10000000 and image.symbol("__ram_origin") == 0x20000000
    assert image.symbol("__stack_top") == 0x20000000 + 264 * 1024
    assert image.function_at(image.symbol("model_invoke")) == "model_invoke"
    assert 0x10000000 <= image.symbol("model_invoke") < 0x10200000


def test_cycles_per_loop_iteration(firmware):
    """count_model's loop (subs, bne) costs 3 cycles per iteration on rp2040js (taken branch: 2)."""
    result = run_elf(firmware.elf("count", ARCH), ARCH)
    n = [int(v) for v in COUNT_INPUTS[:, 0]]
    base = result.cycles_per_inference[0] - 3 * n[0]
    assert result.cycles_per_inference == [base + 3 * k for k in n]
    first, second = result, run_elf(firmware.elf("count", ARCH), ARCH)
    assert first.total_cycles == second.total_cycles


def test_sizes_agree_with_binutils(firmware):
    elf = firmware.elf("int8", ARCH)
    result = run_elf(elf, ARCH)
    sizes = size_table(elf, "arm-none-eabi-size")
    assert sizes[".boot2"] == 256
    assert result.flash_bytes == sum(sizes.get(s, 0) for s in (".boot2", ".isr_vector", ".text", ".rodata",
                                                               ".ARM.exidx", ".data"))
    assert result.ram_bytes == sizes.get(".data", 0) + sizes.get(".bss", 0)
    assert result.sections["vectors"] == sizes[".tm_vectors"]


def test_stack_peak_is_measured(firmware):
    big = run_elf(firmware.elf("faults", ARCH, "-DFAULT=8"), ARCH)  # 2 KB stack buffer
    assert 2048 < big.stack_bytes < 2048 + 512


def test_instruction_limit_is_exact(firmware):
    from emulation import GuestFault

    elf = firmware.elf("count", ARCH)
    total = run_elf(elf, ARCH).total_instructions
    assert run_elf(elf, ARCH, instruction_limit=total).total_instructions == total
    with pytest.raises(GuestFault) as info:
        run_elf(elf, ARCH, instruction_limit=total - 50)
    assert info.value.fault.kind == "runaway"


def _node_json(*args: str) -> tuple[int, dict, str]:
    import json
    import subprocess

    from emulation.data import engines_dir as wokwi_dir
    from emulation.node import node_path

    proc = subprocess.run([node_path(), *args], capture_output=True, text=True, cwd=wokwi_dir(), timeout=120)
    lines = proc.stdout.strip().splitlines()
    return proc.returncode, (json.loads(lines[-1]) if lines else {}), proc.stdout + proc.stderr


def test_boots_through_boot2_and_sets_up_clocks_and_uart(firmware):
    """The engine starts the image as the bootrom does (boot2 at 0x20041f00); start-up then
    runs the crystal and PLL (133 MHz) and UART0 at 115200 baud before main prints."""
    from emulation.data import engines_dir as wokwi_dir

    elf = firmware.elf("int8", ARCH)
    code, result, out = _node_json(str(wokwi_dir() / "engines" / "rp2040-run.mjs"), str(elf))
    assert code == 0 and result["fault"] is None, out
    assert result["clock_hz"] == 133_000_000
    assert result["uart_baud"] == pytest.approx(115200, rel=0.001)
    assert result["console"].count("O:") == 6


def test_an_image_without_a_valid_boot2_is_refused(firmware, tmp_path):
    """One flipped bit in the boot2 stage: the bootrom would not start the image, nor does the engine."""
    from elftools.elf.elffile import ELFFile

    from emulation import EmulationError

    elf = firmware.elf("int8", ARCH)
    with open(elf, "rb") as f:
        offset = ELFFile(f).get_section_by_name(".boot2")["sh_offset"]
    data = bytearray(elf.read_bytes())
    data[offset + 20] ^= 0x01
    bad = tmp_path / "bad_boot2.elf"
    bad.write_bytes(bytes(data))
    with pytest.raises(EmulationError, match="no valid boot2 stage.*bootrom would not start it"):
        run_elf(bad, ARCH)


def test_printing_without_the_platform_set_up_is_a_fault(firmware):
    """Built without the start-up call of tm_platform_init: UART0 is still in reset when the
    harness prints, so on a board nothing would reach the serial monitor."""
    from emulation import GuestFault

    with pytest.raises(GuestFault) as info:
        run_elf(firmware.elf("int8", ARCH, "-UTM_PLATFORM_INIT"), ARCH)
    fault = info.value.fault
    assert fault.kind == "console_not_ready"
    assert "IO_BANK0, PADS_BANK0, UART0 are held in reset" in fault.message and fault.symbol == "tm_putc"


@pytest.mark.parametrize("broken, message", [
    (0, None),
    (1, "GP0 is not its TX pin (IO_BANK0 GPIO0_CTRL FUNCSEL 5"),
    (2, "UART0 runs at 9600 baud"),
    (3, "UART0 written while it is disabled"),
    (4, "clk_peri is stopped"),
    (5, "UART0 is held in reset"),
])
def test_console_set_up_is_checked(tmp_path, broken, message):
    """Each part of the console set-up undone in turn: the first byte is a console_not_ready fault."""
    import json

    from emulation import build_program
    from emulation.data import engines_dir as wokwi_dir

    from .firmware_fixtures import FIXTURES, require_arch

    require_arch(ARCH)
    elf = build_program([FIXTURES / "rp2040_console" / "console.c"], ARCH, tmp_path, name="console", harness=False,
                        extra_cflags=[f"-DBREAK={broken}"]).elf
    steps = tmp_path / "steps.json"
    steps.write_text(json.dumps([{"wait-serial": "console ok"}]))
    code, result, out = _node_json(str(wokwi_dir() / "engines" / "scenario.mjs"), "--engine", "rp2040", "--elf",
                                   str(elf), "--steps", str(steps), "--timeout", "100")
    if message is None:
        assert code == 0 and result["serial"] == "console ok\n", out
    else:
        assert code == 1 and result["fault"]["kind"] == "console_not_ready", out
        assert message in result["fault"]["message"] and result["serial"] == ""
