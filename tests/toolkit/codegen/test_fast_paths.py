"""The specialised int8 kernels: identities, bounds, and bit-exactness on every path.

Each path is checked against the TFLM interpreter on the host (the portable C) and in
emulation on cortex-m4 (the DSP C: SMLAD, SMMULR, SSAT) and cortex-m0plus (the
portable C on a core without long multiplies).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from tests.toolkit.modelfactory import ModelSpec
from toolkit import quantization as Q
from toolkit.codegen import generate_c
from toolkit.codegen.fast.dsp import fc_requant as DR
from toolkit.codegen.fast.dsp.fc_layout import input_order
from toolkit.codegen.fc_plan import Int8Plan, plan_int8
from toolkit.codegen.requant_narrow import NARROW_GUARD, narrow_split, narrow_terms, split_fits
from toolkit.hostbuild import build_host
from toolkit.tflite.reader import read_tflite
from toolkit.validation import compare, default_n_inputs, make_inputs, reference_outputs

EMULATED = ["cortex-m4", "cortex-m0plus"]


# -- the arithmetic -------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_folded_requantization_equals_tflm(seed):
    rng = np.random.default_rng(seed)
    for _ in range(60):
        mult = int(rng.integers(2**30, 2**31))
        shift = int(rng.integers(-24, 4))
        zp = int(rng.integers(-128, 128))
        lo, hi = (-128, 127) if rng.random() < 0.5 else sorted(rng.integers(-128, 128, 2).tolist())
        bound = (2**29) >> max(shift, 0)
        acc = np.concatenate([rng.integers(-bound, bound, 4000), np.arange(-600, 600), [-bound, bound - 1]])
        ref = Q.reference_requantize(acc, mult, shift, zp, lo, hi)
        assert np.array_equal(Q.requantize_smmulr(acc, mult, shift, zp, lo, hi), ref)
        assert np.array_equal(Q.requantize_int64(acc[::7], mult, shift, zp, lo, hi), ref[::7])
        if lo >= zp:  # the round-half-away fix for negative accumulators is not needed
            assert np.array_equal(Q.requantize_smmulr(acc, mult, shift, zp, lo, hi, sign_fix=False), ref)


def test_requant_offset():
    assert Q.requant_offset(-6, -128) == 32 - 128 * 64
    assert Q.requant_offset(0, 5) == 5 and Q.requant_offset(3, -2) == -2


def test_sxtb16_lane_order():
    assert input_order(1) == [0, -1]
    assert input_order(4) == [0, 2, 1, 3]
    assert input_order(7) == [0, 2, 1, 3, 4, 5, 6, -1]
    assert input_order(9) == [0, 2, 1, 3, 4, 6, 5, 7, 8, -1]


# -- helpers: models with patched constants, emulation with a forced encoding -----------------


def patch_tflite(src: Path, dst: Path, old: np.ndarray, new: np.ndarray) -> Path:
    """Replace the bytes of one constant tensor in a .tflite (so TFLM sees the same model)."""
    data = bytearray(Path(src).read_bytes())
    raw = np.ascontiguousarray(old).tobytes()
    pos = data.find(raw)
    assert pos >= 0 and data.find(raw, pos + 1) == -1, "constant not unique in the file"
    data[pos : pos + len(raw)] = np.ascontiguousarray(new.astype(old.dtype)).tobytes()
    dst.write_bytes(bytes(data))
    return dst


def prune(src: Path, dst: Path, layer: int, fraction: float, seed: int = 0) -> Path:
    """Zero the `fraction` smallest-magnitude weights of one layer (ties broken at random)."""
    w = read_tflite(src).layers[layer].weights.data
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(w.size), np.abs(w.astype(np.int64)).ravel()))
    flat = w.reshape(-1).copy()
    flat[order[: int(round(fraction * w.size))]] = 0
    return patch_tflite(src, dst, w, flat.reshape(w.shape))


def host_check(path: Path, tmp: Path, sparse: str = "auto", n: int | None = None):
    model = read_tflite(path)
    inputs = make_inputs(model, default_n_inputs(model, n), seed=2)
    gen = generate_c(model, sparse=sparse, fold=False)  # the encodings themselves, without unit folding
    ours = build_host(gen, tmp).invoke(inputs)
    name, ref = reference_outputs(model, path, inputs)
    result = compare(model, ours, ref, name)
    assert result.exact and result.mismatches == 0 and np.array_equal(ours, ref)
    return gen


def emulated(path: Path, arch: str, build: Path, monkeypatch, sparse: str = "auto", n: int | None = None) -> dict:
    import toolkit.emulate as E

    monkeypatch.setattr(E, "generate_c", functools.partial(generate_c, sparse=sparse, fold=False))
    report = E.emulate(path, arch, build, n_inputs=n)
    out = report.to_json()
    assert report.comparison.exact and out["mismatches"] == 0, f"{arch} ({sparse}): {out['mismatches']} mismatches"
    return out


# -- the fast path and its fallback -----------------------------------------------------------


def test_hello_world_plan_is_fast_and_fused(reference_models):
    model = read_tflite(reference_models["int8"])
    plans = [plan_int8(layer) for layer in model.layers]
    assert all(p.fast for p in plans)
    assert [p.sign_fix for p in plans] == [False, False, True]  # RELU layers clamp negatives away
    gen = generate_c(model)
    assert "l0_y0" in gen.source and "tm_smlad" in gen.source and "tm_requant" not in gen.source
    assert "rows unrolled, outputs kept in registers for the next layer" in gen.header
    assert "#define MODEL_CONST_BYTES" in gen.header and gen.const_bytes_by_path["portable"] == 420


@pytest.fixture
def big_bias_model(reference_models, tmp_path) -> Path:
    """Layer 1's first bias set to 2^30: the accumulator bound fails the fast paths."""
    bias = read_tflite(reference_models["int8"]).layers[1].bias.data
    new = bias.copy()
    new[0] = 2**30
    return patch_tflite(reference_models["int8"], tmp_path / "big_bias.tflite", bias, new)


def test_bounds_failure_takes_the_general_kernel(big_bias_model, tmp_path):
    model = read_tflite(big_bias_model)
    plan = plan_int8(model.layers[1])
    assert not plan.fast and "accumulator bound" in plan.reason
    gen = host_check(big_bias_model, tmp_path)
    assert "tm_requant(" in gen.source and "general kernel (accumulator bound" in gen.header


@pytest.mark.parametrize("arch", EMULATED)
def test_general_kernel_emulated(big_bias_model, tmp_path, monkeypatch, arch):
    emulated(big_bias_model, arch, tmp_path / arch, monkeypatch)


@pytest.mark.parametrize("arch", EMULATED)
def test_hello_world_emulated_within_budget(reference_models, tmp_path, monkeypatch, arch):
    """DESIGN.md's targets: the whole firmware within 2 KB of flash, at most 128 B of RAM and
    stack together (static RAM plus the measured stack peak), and on the M4 at most 450
    instructions per inference."""
    out = emulated(reference_models["int8"], arch, tmp_path / arch, monkeypatch)
    assert out["ram_bytes"] + out["stack_bytes"] <= 128 and out["flash_bytes"] <= 2048
    if arch == "cortex-m4":
        assert out["instructions"] <= 450  # TFLM: 5,236


SPECS = [
    ModelSpec((4, 32, 8, 3)),  # per-channel shifts, 4 int8 inputs (one SXTB16 group)
    ModelSpec((6, 13, 7, 2), per_channel=False, seed=3),  # SXTB16 groups with 1-2 byte tails
    ModelSpec((64, 3), seed=3),  # streamed input from the caller's (unaligned) buffer
    ModelSpec((5, 40, 3), activation="relu6", seed=2),  # streamed from the arena, RELU6 clamps
    ModelSpec((4, 32, 8, 3), quant="mixed"),  # QUANTIZE / DEQUANTIZE around the int8 layers
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.slug())
def test_int8_mlps_host(model_factory, tmp_path, spec):
    host_check(model_factory(spec), tmp_path, n=400)


@pytest.mark.parametrize("arch", EMULATED)
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.slug())
def test_int8_mlps_emulated(model_factory, tmp_path, monkeypatch, spec, arch):
    emulated(model_factory(spec), arch, tmp_path / arch, monkeypatch, n=200)


# -- sparse encodings ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pruned(reference_models, tmp_path_factory) -> dict[float, Path]:
    root = tmp_path_factory.mktemp("pruned")
    return {f: prune(reference_models["int8"], root / f"hello_{int(f * 100)}.tflite", 1, f) for f in (0.5, 0.8)}


@pytest.mark.parametrize("fraction", [0.5, 0.8])
@pytest.mark.parametrize("mode", ["auto", "sparse"])
def test_sparse_host(pruned, tmp_path, fraction, mode):
    gen = host_check(pruned[fraction], tmp_path, sparse=mode)
    stored = f"{int(np.count_nonzero(read_tflite(pruned[fraction]).layers[1].weights.data))} of 256 weights stored"
    if mode == "sparse" or fraction == 0.8:
        assert stored in gen.header
    if fraction == 0.8:  # 51 values and column indices instead of 256 weights
        assert gen.const_bytes_by_path["portable"] < 420 - 100


@pytest.mark.parametrize("arch", EMULATED)
@pytest.mark.parametrize("fraction", [0.5, 0.8])
def test_sparse_emulated(pruned, tmp_path, monkeypatch, fraction, arch):
    """Forced sparse code is exact; "auto" never loses to dense, and at 80 % it wins both."""
    dense = emulated(pruned[fraction], arch, tmp_path / "dense", monkeypatch, "dense")
    forced = emulated(pruned[fraction], arch, tmp_path / "sparse", monkeypatch, "sparse")
    auto = emulated(pruned[fraction], arch, tmp_path / "auto", monkeypatch, "auto")
    assert auto["instructions"] <= dense["instructions"] and auto["flash_bytes"] <= dense["flash_bytes"]
    if fraction == 0.8:
        assert auto["instructions"] < dense["instructions"] and auto["flash_bytes"] < dense["flash_bytes"]
    assert forced["instructions"] != dense["instructions"]  # a different kernel ran


@pytest.mark.parametrize("arch", EMULATED)
def test_sparse_streamed_layer(model_factory, tmp_path, monkeypatch, arch):
    """A 64-input layer at 85 % sparsity: sparse rows on the portable path, exact, smaller and
    faster; on the DSP cores the int8-weight kernel (fast/dsp/fc_int8.py) is faster than
    sparse rows, so "auto" keeps it: no slower and no larger than "dense"."""
    base = model_factory(ModelSpec((64, 24, 3), seed=5))
    path = prune(base, tmp_path / "pruned.tflite", 0, 0.85)
    gen = host_check(path, tmp_path / "host", n=300)
    assert "sparse rows" in gen.header.split("\n 1 ")[0]
    dense = emulated(path, arch, tmp_path / "dense", monkeypatch, "dense", n=100)
    auto = emulated(path, arch, tmp_path / "auto", monkeypatch, "auto", n=100)
    if arch == "cortex-m4":
        assert auto["instructions"] <= dense["instructions"] and auto["flash_bytes"] <= dense["flash_bytes"]
        return
    assert auto["instructions"] < dense["instructions"] and auto["flash_bytes"] < dense["flash_bytes"]


# -- per-channel requantization constants on the DSP path ---------------------------------------

PER_CHANNEL_SINE = ModelSpec((1, 16, 16, 1))  # the sine topology, per-channel weight scales


def test_per_channel_layouts(model_factory):
    """Layout "kr" packs K·2^8 + r: ASR #8 gives K back, the bottom byte (all an ASR by register
    reads) is r; "imm" is only offered where rows are written out."""
    plan = plan_int8(read_tflite(model_factory(PER_CHANNEL_SINE)).layers[1])
    assert not plan.per_tensor and np.any(plan.right != plan.right[0])
    assert DR.requant_layouts(plan) == ["r", "kr", "k_r"]
    assert DR.requant_layouts(plan, rows_unrolled=True)[-1] == "imm"
    kr = DR.requant_words(plan, "kr")
    assert np.array_equal(kr[:, 0], plan.mult)
    assert np.array_equal(kr[:, 1] >> 8, plan.offset) and np.array_equal(kr[:, 1] & 255, plan.right)
    assert np.all(np.abs(kr) < 2**31)
    assert np.array_equal(DR.requant_words(plan, "k_r"), np.stack([plan.mult, plan.offset, plan.right], axis=1))


def test_per_channel_sine_host(model_factory, tmp_path):
    gen = host_check(model_factory(PER_CHANNEL_SINE), tmp_path)
    assert "K and r immediates, rows unrolled" in gen.header  # layer 0, written out
    assert "per-channel m K<<8|r streamed, 2 rows per iteration" in gen.header  # layer 1, a loop


@pytest.mark.parametrize("arch", EMULATED)
def test_per_channel_sine_emulated(model_factory, tmp_path, monkeypatch, arch):
    out = emulated(model_factory(PER_CHANNEL_SINE), arch, tmp_path / arch, monkeypatch)
    if arch == "cortex-m4":
        # measured 488 instructions, 2,148 B (per-channel shifts computed per row: 614, 2,240 B)
        assert out["instructions"] <= 500 and out["flash_bytes"] <= 2200


PER_CHANNEL_SPECS = [
    PER_CHANNEL_SINE,
    ModelSpec((1, 16, 16, 1), activation="linear", seed=1),  # the same with the sign term
    ModelSpec((4, 32, 8, 3), activation="linear", seed=1),  # sign term in every layer
    ModelSpec((6, 13, 7, 2), activation="relu6", seed=4),  # 1-2 byte tails, RELU6 clamps
]


@pytest.mark.parametrize("layout", ["r", "kr", "k_r", "imm"])
@pytest.mark.parametrize("spec", PER_CHANNEL_SPECS, ids=lambda s: s.slug())
def test_per_channel_layouts_exact_on_m4(model_factory, tmp_path, monkeypatch, spec, layout):
    """Every layout, forced wherever it applies, is bit-exact against TFLM on the DSP path."""
    chosen = DR.choose_requant_layout

    def force(plan, words, xr, rows_unrolled):
        return layout if layout in DR.requant_layouts(plan, rows_unrolled) else chosen(plan, words, xr, rows_unrolled)

    monkeypatch.setattr(DR, "choose_requant_layout", force)
    emulated(model_factory(spec), "cortex-m4", tmp_path / "m4", monkeypatch, n=200)


# -- the portable requantization from 32-bit multiplies (ARMv6-M) -------------------------------

NARROW_EMULATED = ["cortex-m0plus", "rp2040"]
INT32 = (-(2**31), 2**31 - 1)


def _in_int32(x: np.ndarray) -> np.ndarray:
    assert x.min(initial=0) >= INT32[0] and x.max(initial=0) <= INT32[1], "an int32 step overflows"
    return x


def narrow_requantize(acc, mult: int, shift: int, zp: int, lo: int, hi: int, splits, sign_fix: bool,
                      folded: bool) -> np.ndarray:
    """The C of requant_c._narrow (the ARMv6-M requantization) in numpy, every intermediate checked to fit int32.

    folded: the per-tensor form (offset and sign term in the last constant), else the
    per-channel one (h, then (h + K + s) >> r, digits extracted at run time)."""
    acc = np.asarray(acc, np.int64)
    left, right = max(shift, 0), max(-shift, 0)
    a = _in_int32(acc << left)
    terms = narrow_terms(mult, splits, skip_zero=folded)
    t = np.zeros_like(a)
    for k, (step, _, _, d) in enumerate(terms):
        t = _in_int32(_in_int32(a * d) + (t >> step if k else 0))
    e = terms[-1][1] if terms else 0
    k_off = Q.requant_offset(shift, zp)
    s = (acc >> 63) if (right and sign_fix) else np.zeros_like(acc)
    if folded:
        base = 2**30 + 2**31 * k_off
        c = np.where(s < 0, (base - 2**31) >> e, base >> e)
        v = _in_int32(t + c) >> (31 + right - e)
    else:
        h = _in_int32(t + 2 ** (30 - e)) >> (31 - e)
        v = _in_int32(h + k_off + s) >> right
    return np.clip(v, lo, hi)


def _plan(mult: int, shift: int, zp: int, lo: int, hi: int, bound: int) -> Int8Plan:
    plan = Int8Plan(np.zeros((1, 1), np.int64), np.zeros(1, np.int64), np.array([mult]), np.array([shift]),
                      zp, lo, hi, np.array([bound]))
    plan.left, plan.right = np.maximum(plan.shift, 0), np.maximum(-plan.shift, 0)
    plan.offset = np.array([Q.requant_offset(shift, zp)], np.int64)
    plan.sign_fix = lo < zp
    return plan


def _check_layer_exhaustively(plan: Int8Plan, folded: bool) -> None:
    splits = narrow_split(plan, folded)
    assert splits is not None
    for o in range(plan.out_n):
        b = int(plan.bound[o])
        acc = np.arange(-b, b + 1)  # every accumulator the layer can produce, both ends included
        m, sh = int(plan.mult[o]), int(plan.shift[o])
        ref = Q.reference_requantize(acc, m, sh, plan.zero_point, plan.lo, plan.hi)
        got = narrow_requantize(acc, m, sh, plan.zero_point, plan.lo, plan.hi, splits, plan.sign_fix, folded)
        assert np.array_equal(got, ref), f"row {o}"


def test_narrow_requantization_hello_world_exhaustive(reference_models):
    """Every accumulator within the bounds of every row of the hello-world model."""
    for layer in read_tflite(reference_models["int8"]).layers:
        plan = plan_int8(layer)
        _check_layer_exhaustively(plan, folded=True)
        _check_layer_exhaustively(plan, folded=False)  # the per-channel form on the same rows


def test_narrow_requantization_per_channel_exhaustive(model_factory):
    for layer in read_tflite(model_factory(PER_CHANNEL_SPECS[1])).layers:  # sign term, r from 4 to 11
        plan = plan_int8(layer)
        _check_layer_exhaustively(plan, folded=plan.per_tensor)


@pytest.mark.parametrize("seed", range(4))
def test_narrow_requantization_equals_tflm(seed):
    """Random multipliers, shifts (left ones included), zero points and clamps, with bounds
    up to 2^19 checked exhaustively; the largest bound the split allows is checked at its
    edges (the int32 steps are asserted in the model, so the generator's check is tight
    enough), and one more than the largest overflows or has no split."""
    rng = np.random.default_rng(100 + seed)
    for _ in range(10):
        mult = int(rng.integers(2**30, 2**31))
        shift = int(rng.integers(-14, 3))
        zp = int(rng.integers(-128, 128))
        lo, hi = (-128, 127) if rng.random() < 0.5 else sorted(rng.integers(-128, 128, 2).tolist())
        bound = int(2 ** rng.uniform(6, 19)) >> max(shift, 0)
        for folded in (True, False):
            plan = _plan(mult, shift, zp, lo, hi, bound)
            splits = narrow_split(plan, folded)
            if splits is None:
                continue
            acc = np.arange(-bound, bound + 1)
            ref = Q.reference_requantize(acc, mult, shift, zp, lo, hi)
            assert np.array_equal(narrow_requantize(acc, mult, shift, zp, lo, hi, splits, plan.sign_fix, folded), ref)
    # bounds at the limit of a split: exact at the edges
    for _ in range(20):
        mult, shift = int(rng.integers(2**30, 2**31)), int(rng.integers(-10, 2))
        zp = int(rng.integers(-128, 128))
        lo = int(rng.integers(-128, zp + 1)) if rng.random() < 0.5 else -128
        splits = (0, *sorted(rng.choice(np.arange(1, 31), 2, replace=False).tolist()))
        top = 0
        for step in reversed(range(31)):  # the largest bound with which this split fits
            if split_fits(top + (1 << step), mult, splits, 2**30 + 2**31 * Q.requant_offset(shift, zp),
                             bool(shift < 0 and lo < zp)):
                top += 1 << step
        if top == 0 or (top << max(shift, 0) + 1) >= 2**31:
            continue
        b = top >> max(shift, 0)  # |acc << L| <= top
        acc = np.concatenate([np.arange(-b, -b + 300), np.arange(-300, 300), np.arange(b - 300, b + 1)])
        acc = acc[np.abs(acc) <= b]
        ref = Q.reference_requantize(acc, mult, shift, zp, lo, 127)
        for folded in (True, False):
            assert np.array_equal(narrow_requantize(acc, mult, shift, zp, lo, 127, splits, lo < zp, folded), ref)


def test_narrow_split_prefers_fewer_multiplies():
    plan = _plan(2**30, -3, 0, -128, 127, 1000)  # a power of two: one non-zero digit
    splits = narrow_split(plan, True)
    assert len(narrow_terms(2**30, splits)) == 1
    assert narrow_split(_plan(2**31 - 1, 0, 0, -128, 127, 2**27), True) is None  # |acc| near 2^27


def test_hello_world_narrow_source(reference_models):
    source = generate_c(read_tflite(reference_models["int8"])).source
    assert source.count(f"#if {NARROW_GUARD}") == 3 and "int64_t" in source


@pytest.mark.parametrize("arch", NARROW_EMULATED)
def test_hello_world_narrow_emulated(reference_models, tmp_path, monkeypatch, arch):
    """No 64-bit multiply on ARMv6-M: measured 2,590 instructions and 1,456 B on the M0+
    (with __aeabi_lmul: 3,990 and 1,532 B). The Pico image also holds its boot2 stage and
    clock/UART set-up, which are not the model's: they are left out of its flash here."""
    from elftools.elf.elffile import ELFFile

    out = emulated(reference_models["int8"], arch, tmp_path / arch, monkeypatch)
    with open(out["elf"], "rb") as f:
        elf = ELFFile(f)
        boot2 = elf.get_section_by_name(".boot2")
        init = [s for s in elf.get_section_by_name(".symtab").iter_symbols() if s.name == "tm_platform_init"]
        platform = (boot2["sh_size"] if boot2 else 0) + sum(s["st_size"] for s in init)
    assert (arch == "rp2040") == (platform > 256)
    assert out["instructions"] <= 2650 and out["flash_bytes"] - platform <= 1500
    assert "__aeabi_lmul" not in Path(out["elf"]).with_suffix(".map").read_text()


def test_cortex_m3_keeps_the_long_multiply(reference_models, tmp_path, monkeypatch):
    import shutil
    import subprocess

    out = emulated(reference_models["int8"], "cortex-m3", tmp_path / "m3", monkeypatch)
    objdump = shutil.which("arm-none-eabi-objdump")
    if objdump is None:
        pytest.skip("arm-none-eabi-objdump not found")
    text = subprocess.run([objdump, "-d", out["elf"]], capture_output=True, text=True, check=True).stdout
    assert "smull" in text and "__aeabi_lmul" not in text


@pytest.mark.parametrize("arch", NARROW_EMULATED)
@pytest.mark.parametrize("spec", PER_CHANNEL_SPECS, ids=lambda s: s.slug())
def test_per_channel_narrow_emulated(model_factory, tmp_path, monkeypatch, spec, arch):
    model = read_tflite(model_factory(spec))
    assert all(narrow_split(plan_int8(layer), plan_int8(layer).per_tensor) for layer in model.layers)
    emulated(model_factory(spec), arch, tmp_path / arch, monkeypatch, n=200)


@pytest.fixture
def wide_bias_model(reference_models, tmp_path) -> Path:
    """Layer 1's first bias set to 2^27: within the fast paths' bounds, too large for a
    requantization from 32-bit multiplies (which keeps the 64-bit one on every core)."""
    bias = read_tflite(reference_models["int8"]).layers[1].bias.data
    new = bias.copy()
    new[0] = 2**27
    return patch_tflite(reference_models["int8"], tmp_path / "wide_bias.tflite", bias, new)


def test_narrow_fallback_plan(wide_bias_model):
    model = read_tflite(wide_bias_model)
    plans = [plan_int8(layer) for layer in model.layers]
    assert all(p.fast for p in plans) and narrow_split(plans[1], True) is None
    source = generate_c(model).source
    assert source.count(f"#if {NARROW_GUARD}") == 2  # layers 0 and 2


@pytest.mark.parametrize("arch", NARROW_EMULATED)
def test_narrow_fallback_emulated(wide_bias_model, tmp_path, monkeypatch, arch):
    emulated(wide_bias_model, arch, tmp_path / arch, monkeypatch)
