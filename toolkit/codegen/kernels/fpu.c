/* TM_FPU: floats are computed in hardware (hosts, ARM cores with an FPU, RISC-V with F).
 * Without one each operation is a library call, so unrolling only costs flash. */
#if (defined(__arm__) && !defined(__ARM_FP)) || defined(__AVR__) || (defined(__riscv) && !defined(__riscv_flen))
#define TM_FPU 0
#else
#define TM_FPU 1
#endif
