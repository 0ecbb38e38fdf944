/* Inner loops of the convolution kernels are kept out of line: inlined into a large
 * function, GCC (-Os, Thumb-1 above all) runs out of registers and spills the
 * accumulators inside the loop. */
#ifndef TM_NOINLINE
#if defined(__GNUC__)
#define TM_NOINLINE __attribute__((noinline))
#else
#define TM_NOINLINE
#endif
#endif
