"""Fast paths for ARMv6-M cores (Cortex-M0/M0+, RP2040), under `#if defined(__ARM_ARCH_6M__)`.

Thumb-1 has no SIMD multiply, no 32x32->64 multiply, eight low registers and no signed
byte load with an immediate offset (LDRSB only takes a register offset). The kernels
therefore work on bytes biased by +128 (LDRB with immediate offsets; the biases' sums
are corrected per pixel and per channel, exactly), keep accumulators in r8-r11, and
requantize from 32-bit multiplies (identity 8 of docs/codegen.md).
"""
