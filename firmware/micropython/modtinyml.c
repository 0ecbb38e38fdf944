/*
 * The `tinyml` module: what the generated script needs from the firmware (MIT, as
 * MicroPython).
 *
 *   tinyml.inputs()        number of test vectors (tm_n_inputs, in .tm_vectors)
 *   tinyml.read(i, buf)    copy test vector i into buf (any writable buffer)
 *   tinyml.begin(buf)      tm_mark_begin(buf, len(buf)): an inference starts on buf
 *   tinyml.end(buf)        tm_mark_end(buf, len(buf)): it ended, its output is buf
 *   tinyml.phase(n)        tm_mp_phase(n): a point of the run (start-up, compile, ...)
 *
 * tm_mark_begin/tm_mark_end are the markers of the toolkit's C harness
 * (firmware/harness/harness.h): the emulator hooks their addresses, counts the
 * instructions between them and copies the output buffer. A first pair on empty
 * buffers, called exactly as the measured pair, is the calibration that is subtracted.
 * tm_mp_phase's address is hooked too (toolkit/micropython/engine.py).
 */
#include <string.h>

#include "py/runtime.h"

extern const uint32_t tm_n_inputs;
extern const unsigned char tm_inputs[];

/* As in harness.c: never inlined or folded, the arguments "used", memory clobbered. */
__attribute__((noinline, noipa, used)) void tm_mark_begin(const void *data, uint32_t bytes) {
    __asm__ volatile ("" : : "r" (data), "r" (bytes) : "memory");
}

__attribute__((noinline, noipa, used)) void tm_mark_end(const void *data, uint32_t bytes) {
    __asm__ volatile ("" : : "r" (data), "r" (bytes) : "memory");
}

__attribute__((noinline, noipa, used)) void tm_mp_phase(uint32_t id) {
    __asm__ volatile ("" : : "r" (id) : "memory");
}

static mp_obj_t tinyml_inputs(void) {
    return MP_OBJ_NEW_SMALL_INT(tm_n_inputs);
}
static MP_DEFINE_CONST_FUN_OBJ_0(tinyml_inputs_obj, tinyml_inputs);

static mp_obj_t tinyml_read(mp_obj_t index_in, mp_obj_t buf_in) {
    mp_buffer_info_t buf;
    mp_get_buffer_raise(buf_in, &buf, MP_BUFFER_WRITE);
    mp_uint_t i = mp_obj_get_int(index_in);
    if (i >= tm_n_inputs) {
        mp_raise_ValueError(MP_ERROR_TEXT("no such test vector"));
    }
    memcpy(buf.buf, tm_inputs + i * buf.len, buf.len);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(tinyml_read_obj, tinyml_read);

static mp_obj_t tinyml_begin(mp_obj_t buf_in) {
    mp_buffer_info_t buf;
    mp_get_buffer_raise(buf_in, &buf, MP_BUFFER_READ);
    tm_mark_begin(buf.buf, buf.len);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(tinyml_begin_obj, tinyml_begin);

static mp_obj_t tinyml_end(mp_obj_t buf_in) {
    mp_buffer_info_t buf;
    mp_get_buffer_raise(buf_in, &buf, MP_BUFFER_READ);
    tm_mark_end(buf.buf, buf.len);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(tinyml_end_obj, tinyml_end);

static mp_obj_t tinyml_phase(mp_obj_t id_in) {
    tm_mp_phase(mp_obj_get_int(id_in));
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(tinyml_phase_obj, tinyml_phase);

static const mp_rom_map_elem_t tinyml_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_tinyml) },
    { MP_ROM_QSTR(MP_QSTR_inputs), MP_ROM_PTR(&tinyml_inputs_obj) },
    { MP_ROM_QSTR(MP_QSTR_read), MP_ROM_PTR(&tinyml_read_obj) },
    { MP_ROM_QSTR(MP_QSTR_begin), MP_ROM_PTR(&tinyml_begin_obj) },
    { MP_ROM_QSTR(MP_QSTR_end), MP_ROM_PTR(&tinyml_end_obj) },
    { MP_ROM_QSTR(MP_QSTR_phase), MP_ROM_PTR(&tinyml_phase_obj) },
};
static MP_DEFINE_CONST_DICT(tinyml_module_globals, tinyml_module_globals_table);

const mp_obj_module_t mp_module_tinyml = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&tinyml_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR_tinyml, mp_module_tinyml);
