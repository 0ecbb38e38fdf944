/*
 * Runs the generated script (script.c: tm_script[], tm_script_len) once and exits
 * (MIT, as MicroPython; derived from MicroPython's ports/qemu, Copyright (c) 2014-2025
 * Damien P. George and MicroPython contributors).
 *
 * Start-up and the linker script are the toolkit's own (firmware/cortex-m), shared
 * with the generated C and TF Lite Micro. Phases, hooked by the emulator at
 * tm_mp_phase (modtinyml.c): 1 main entered, 2 VM initialised, 3 script compiled
 * (parsed and compiled to bytecode on the device), 4 the script's model set up,
 * 5 every inference done, 6 script returned; 7/8 around one gc.collect().
 * The GC heap is filled with a pattern first; at the end the highest word that no
 * longer holds it gives the heap's high-water mark, printed as
 * "M:heap_bytes=<configured> heap_peak_bytes=<used>".
 */
#include <stdint.h>

#include "py/compile.h"
#include "py/cstack.h"
#include "py/gc.h"
#include "py/mphal.h"
#include "py/runtime.h"
#include "shared/runtime/gchelper.h"

#define HEAP_WORDS (MICROPY_HEAP_SIZE / 4)
#define HEAP_FILL 0xa5a5a5a5u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u
#define ADP_STOPPED_RUNTIME_ERROR 0x20023u

extern const char tm_script[];
extern const uint32_t tm_script_len;
void tm_mp_phase(uint32_t id);

static uint32_t gc_heap[HEAP_WORDS];

static int run_script(void) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_lexer_t *lex = mp_lexer_new_from_str_len(MP_QSTR_model_dot_py, tm_script, tm_script_len, 0);
        qstr source_name = lex->source_name;
        mp_parse_tree_t tree = mp_parse(lex, MP_PARSE_FILE_INPUT);
        mp_obj_t module = mp_compile(&tree, source_name, false);
        tm_mp_phase(3);
        mp_call_function_0(module);
        nlr_pop();
        return 0;
    }
    mp_obj_print_exception(&mp_plat_print, MP_OBJ_FROM_PTR(nlr.ret_val));
    return 1;
}

static uint32_t heap_peak_bytes(void) {
    uint32_t i = HEAP_WORDS;
    while (i > 0 && gc_heap[i - 1] == HEAP_FILL) {
        i--;
    }
    return i * 4;
}

int main(void) {
    tm_mp_phase(1);
    for (uint32_t i = 0; i < HEAP_WORDS; i++) {
        gc_heap[i] = HEAP_FILL;
    }
    mp_cstack_init_with_sp_here(MICROPY_STACK_SIZE);
    gc_init(gc_heap, gc_heap + HEAP_WORDS);
    mp_init();
    tm_mp_phase(2);
    int status = run_script();
    tm_mp_phase(6);
    mp_printf(&mp_plat_print, "M:heap_bytes=%u heap_peak_bytes=%u\n", (unsigned)MICROPY_HEAP_SIZE,
        (unsigned)heap_peak_bytes());
    gc_sweep_all();
    mp_deinit();
    tm_exit(status == 0 ? ADP_STOPPED_APPLICATION_EXIT : ADP_STOPPED_RUNTIME_ERROR);
}

void gc_collect(void) {
    gc_collect_start();
    gc_helper_collect_regs_and_stack();
    gc_collect_end();
}

void nlr_jump_fail(void *val) {
    (void)val;
    mp_printf(&mp_plat_print, "FATAL: uncaught NLR\n");
    tm_exit(ADP_STOPPED_RUNTIME_ERROR);
}

void abort(void) {
    mp_printf(&mp_plat_print, "FATAL: abort\n");
    tm_exit(ADP_STOPPED_RUNTIME_ERROR);
}
