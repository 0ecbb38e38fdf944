"""The numpy integer arithmetic against a plain big-integer transliteration of TFLite's C++,
and the generated C kernel against the numpy version."""

import subprocess

import pytest

from toolkit import quantization as Q
from toolkit.codegen.context import kernel_source
from toolkit.hostbuild import host_compiler


def tflite_mbqm(x: int, m: int, shift: int) -> int:
    """MultiplyByQuantizedMultiplier, line by line from tensorflow/lite/kernels/internal/common.h."""
    left, right = (shift, 0) if shift > 0 else (0, -shift)
    a = ((x * (1 << left) + 2**31) % 2**32) - 2**31  # int32 multiplication wraps
    if a == m == -(2**31):
        high = 2**31 - 1
    else:
        ab = a * m
        nudge = (1 << 30) if ab >= 0 else (1 - (1 << 30))
        q = abs(ab + nudge) >> 31  # C division truncates toward zero
        high = q if ab + nudge >= 0 else -q
    mask = (1 << right) - 1
    remainder = high & mask
    threshold = (mask >> 1) + (1 if high < 0 else 0)
    return (high >> right) + (1 if remainder > threshold else 0)


def _cases(rng, n):
    x = rng.integers(-(2**31), 2**31, n)
    x[: n // 2] = rng.integers(-100000, 100000, n // 2)
    m = rng.integers(2**30, 2**31, n)
    s = rng.integers(-31, 8, n)
    edges = [(-(2**31), 2**31 - 1, 0), (2**31 - 1, 2**31 - 1, 0), (0, 2**30, -1), (5, 2**30, -1), (-5, 2**30, -1), (3, 2**30, -2), (-3, 2**30, -2)]
    for i, (a, b, c) in enumerate(edges):
        x[i], m[i], s[i] = a, b, c
    return x, m, s


def test_numpy_requantization_matches_tflite_formula(rng):
    x, m, s = _cases(rng, 3000)
    expected = [tflite_mbqm(int(a), int(b), int(c)) for a, b, c in zip(x, m, s)]
    assert Q.multiply_by_quantized_multiplier(x, m, s).tolist() == expected


def test_c_requantization_matches_numpy(rng, tmp_path):
    x, m, s = _cases(rng, 20000)
    src = tmp_path / "t.c"
    src.write_text(
        "#include <stdint.h>\n#include <stdio.h>\n" + kernel_source("requant") +
        "int main(void){ long long a,b,c; while (scanf(\"%lld %lld %lld\", &a, &b, &c) == 3)"
        " printf(\"%d\\n\", tm_requant((int32_t)a, (int32_t)b, (int32_t)c)); return 0; }\n"
    )
    exe = tmp_path / "t"
    subprocess.run([host_compiler(), "-std=c99", "-O2", "-Wall", "-Werror", str(src), "-o", str(exe)], check=True)
    out = subprocess.run([str(exe)], input="\n".join(f"{a} {b} {c}" for a, b, c in zip(x, m, s)), capture_output=True, text=True, check=True)
    assert [int(v) for v in out.stdout.split()] == Q.multiply_by_quantized_multiplier(x, m, s).tolist()


@pytest.mark.parametrize(
    "real, expected",
    [(0.5, (1 << 30, 0)), (1.0, (1 << 30, 1)), (0.25, (1 << 30, -1)), (0.0, (0, 0)), (1e-12, (0, 0)), (0.75, (1610612736, 0))],
)
def test_quantize_multiplier(real, expected):
    assert Q.quantize_multiplier(real) == expected


def test_quantize_multiplier_reconstructs_the_real_value(rng):
    for real in rng.uniform(1e-6, 4.0, 500):
        m, s = Q.quantize_multiplier(real)
        assert 2**30 <= m < 2**31
        assert abs(m * 2.0 ** (s - 31) - real) <= real * 2**-30


def test_activation_ranges():
    assert Q.activation_range_int8("NONE", 0.1, 3) == (-128, 127)
    assert Q.activation_range_int8("RELU", 0.1, -20) == (-20, 127)
    assert Q.activation_range_int8("RELU6", 0.1, -128) == (-128, -68)
    assert Q.activation_range_int8("RELU_N1_TO_1", 0.01, 0) == (-100, 100)
