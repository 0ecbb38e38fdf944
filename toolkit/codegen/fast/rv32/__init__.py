"""Fast paths for RV32IMC (`#if defined(__riscv)`): 32 registers, LB with 12-bit
immediate offsets, MUL and MULH. The kernels keep eight accumulators in registers and
the file's int8 weights interleaved eight rows per tap (one pointer, constant offsets);
the requantization is the portable C's 64-bit form, which GCC compiles to MUL/MULH.
"""
