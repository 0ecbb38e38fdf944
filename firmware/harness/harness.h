/*
 * Test harness convention shared by the firmware and the emulator.
 *
 * main() feeds every test vector to model_invoke() between two marker calls:
 *     tm_mark_begin(input, input_bytes); model_invoke(input, output);
 *     tm_mark_end(output, output_bytes);
 * An emulator hooks the two marker addresses to count instructions and copy the
 * output. One calibration pair with nothing between the calls comes first, so
 * the marker overhead can be subtracted exactly.
 *
 * Layer markers (optional, emulation/layers.py): model_invoke() may mark points of its
 * own with a single nop whose address and an index are recorded in the non-allocated
 * section .tm_layers (two 32-bit words per marker: address, index); the linker scripts
 * keep that section. The emulator reads its counts at each marker inside a pair and
 * reports the segment from one marker to the next (or to tm_mark_end) under the first
 * marker's index. The toolkit's generated C has them with layer_markers=True (TM_LAYER).
 *
 * Each output is also printed through tm_putc() as one text line:
 *     "O:" then the output bytes in lowercase hex, then "\n"
 * and a failing model_invoke() prints "E:<index>:<return code>\n" and stops.
 */
#ifndef TM_HARNESS_H
#define TM_HARNESS_H

#include <stdint.h>

/* Semihosting operations (ARM "Semihosting for AArch32 and AArch64"). */
#define TM_SYS_WRITEC 0x03u
#define TM_SYS_WRITE0 0x04u
#define TM_SYS_EXIT 0x18u
#define TM_ADP_STOPPED_APPLICATION_EXIT 0x20026u
#define TM_ADP_STOPPED_RUNTIME_ERROR 0x20023u

/* Test vectors, generated into vectors.c (section .tm_vectors, in flash; on AVR in
 * program memory, read with pgm_read_* / memcpy_P). */
extern const uint32_t tm_n_inputs;

void tm_mark_begin(const void *data, uint32_t bytes);
void tm_mark_end(const void *data, uint32_t bytes);

/* Console. On Cortex-M weak, semihosting by default; other cores get it from their
 * platform file (firmware/<core>/platform.c: ecall, USART0, UART0). */
void tm_putc(char c);
/* Ends the program: on Cortex-M weak, semihosting SYS_EXIT by default; elsewhere from the
 * platform file. */
void tm_exit(uint32_t reason) __attribute__((noreturn));

#endif
