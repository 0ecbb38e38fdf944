"""Fast paths for ARMv7E-M cores with the DSP extension (Cortex-M4/M7/M33), under `#if TM_DSP`.

The C they emit uses the intrinsics of kernels/dsp.c: SMLAD (two 16x16 multiply-
accumulates), SMMULR/SMMLAR (rounding high multiply), SSAT, SXTB16 and LDRD.
"""
