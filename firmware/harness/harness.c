/* Runs the generated model on every test vector; see harness.h. */
#include "harness.h"
#include "model.h"

extern const MODEL_INPUT_T tm_inputs[];

static MODEL_OUTPUT_T tm_output[MODEL_OUTPUT_SIZE];

#if defined(__AVR__)
/* AVR: the test vectors and constant tables live in program memory, which loads
 * read through LPM; each vector is copied into RAM before the call. */
#include <avr/pgmspace.h>
#define TM_ROM PROGMEM
#define TM_ROM_BYTE(p) pgm_read_byte(p)
#define TM_N_INPUTS() ((uint32_t)pgm_read_dword(&tm_n_inputs))
static MODEL_INPUT_T tm_input[MODEL_INPUT_SIZE];
static const MODEL_INPUT_T *tm_input_at(uint32_t i) {
    memcpy_P(tm_input, &tm_inputs[i * MODEL_INPUT_SIZE], sizeof tm_input);
    return tm_input;
}
#else
/* One address space: the vectors are read where they are. */
#define TM_ROM
#define TM_ROM_BYTE(p) (*(p))
#define TM_N_INPUTS() tm_n_inputs
#define tm_input_at(i) (&tm_inputs[(i) * MODEL_INPUT_SIZE])
#endif

/* noipa keeps the two identical bodies from being folded into one function;
 * the asm "uses" the arguments and clobbers memory so the call and its
 * argument set-up stay where they are. GCC before 8 (avr-gcc 5) has no noipa:
 * noclone there, and such builds pass -fno-ipa-icf. */
#if defined(__GNUC__) && __GNUC__ < 8
#define TM_NOIPA noclone
#else
#define TM_NOIPA noipa
#endif

__attribute__((noinline, TM_NOIPA, used)) void tm_mark_begin(const void *data, uint32_t bytes) {
    __asm__ volatile("" : : "r"(data), "r"(bytes) : "memory");
}

__attribute__((noinline, TM_NOIPA, used)) void tm_mark_end(const void *data, uint32_t bytes) {
    __asm__ volatile("" : : "r"(data), "r"(bytes) : "memory");
}

#if defined(__arm__)
/* Console and exit through ARM semihosting, unless a platform file overrides them
 * (other cores always bring a platform file: firmware/<core>/platform.c). */
static uint32_t tm_semihost(uint32_t op, const void *arg) {
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

__attribute__((weak)) void tm_putc(char c) {
    tm_semihost(TM_SYS_WRITEC, &c);
}

__attribute__((weak, noreturn)) void tm_exit(uint32_t reason) {
    /* On AArch32 the reason code is passed directly in r1. */
    tm_semihost(TM_SYS_EXIT, (const void *)reason);
    for (;;) {
    }
}
#endif

static void tm_put_hex(const uint8_t *p, uint32_t n) {
    static const char digits[16] TM_ROM = "0123456789abcdef";
    while (n--) {
        tm_putc(TM_ROM_BYTE(&digits[*p >> 4]));
        tm_putc(TM_ROM_BYTE(&digits[*p & 15u]));
        p++;
    }
}

/* The calibration pair and the measured call each live in a function of their
 * own, so the compiler cannot schedule loop bookkeeping into either window: what
 * is measured is the model_invoke call (argument set-up, call, return code). */
__attribute__((noinline, TM_NOIPA)) static void tm_calibrate(void) {
    tm_mark_begin(0, 0);
    tm_mark_end(0, 0);
    __asm__ volatile("" ::: "memory"); /* no tail call, as in tm_invoke */
}

__attribute__((noinline, TM_NOIPA)) static int tm_invoke(const MODEL_INPUT_T *in) {
    tm_mark_begin(in, sizeof(MODEL_INPUT_T) * MODEL_INPUT_SIZE);
    int rc = model_invoke(in, tm_output);
    tm_mark_end(tm_output, sizeof tm_output);
    __asm__ volatile("" ::: "memory");
    return rc;
}

/* A model_invoke failure: "E:<input index>:<code>" and exit. Out of main so that main's
 * frame holds no buffers: the stack peak that the emulator reports is main's frame plus
 * the measured call. */
__attribute__((noinline, noreturn)) static void tm_fail(uint32_t i, int rc) {
    const uint8_t idx[4] = {(uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
    const uint8_t code = (uint8_t)rc;
    tm_putc('E');
    tm_putc(':');
    tm_put_hex(idx, 4);
    tm_putc(':');
    tm_put_hex(&code, 1);
    tm_putc('\n');
    tm_exit(TM_ADP_STOPPED_RUNTIME_ERROR);
}

int main(void) {
    tm_calibrate();
    const uint32_t n = TM_N_INPUTS();
    for (uint32_t i = 0; i < n; i++) {
        int rc = tm_invoke(tm_input_at(i));
        if (rc != 0) tm_fail(i, rc);
        tm_putc('O');
        tm_putc(':');
        tm_put_hex((const uint8_t *)tm_output, sizeof tm_output);
        tm_putc('\n');
    }
    tm_exit(TM_ADP_STOPPED_APPLICATION_EXIT);
}
