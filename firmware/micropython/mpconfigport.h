/*
 * Configuration of the toolkit's bare-metal MicroPython port (MIT, as MicroPython;
 * derived from MicroPython's ports/qemu, Copyright (c) 2014-2025 Damien P. George
 * and MicroPython contributors).
 *
 * The core language with single-precision floats and the modules a model script
 * needs: array, math, struct, gc, micropython, and this port's `tinyml` (markers and
 * test vectors, modtinyml.c). No REPL, no file system, no timers or interrupts, no
 * native emitters: the script is compiled to bytecode on the device and interpreted.
 */
#include <stdint.h>

#define MICROPY_CONFIG_ROM_LEVEL    (MICROPY_CONFIG_ROM_LEVEL_CORE_FEATURES)

#define MICROPY_FLOAT_IMPL          (MICROPY_FLOAT_IMPL_FLOAT)
#define MICROPY_PY_BUILTINS_FLOAT   (1)
#define MICROPY_PY_MATH             (1)
#define MICROPY_PY_ARRAY            (1)
#define MICROPY_PY_ARRAY_SLICE_ASSIGN (1)
#define MICROPY_PY_BUILTINS_MEMORYVIEW (1)
#define MICROPY_PY_STRUCT           (1)
#define MICROPY_PY_GC               (1)
#define MICROPY_PY_MICROPYTHON      (1)
#define MICROPY_PY_SYS              (1)
#define MICROPY_PY_IO               (0)
#define MICROPY_PY_TIME             (0)

#define MICROPY_EMIT_THUMB          (0)
#define MICROPY_EMIT_INLINE_THUMB   (0)

#define MICROPY_ENABLE_GC           (1)
#define MICROPY_ENABLE_COMPILER     (1)
#define MICROPY_ENABLE_SOURCE_LINE  (1)
#define MICROPY_ENABLE_EMERGENCY_EXCEPTION_BUF (1)
#define MICROPY_EMERGENCY_EXCEPTION_BUF_SIZE (0)
#define MICROPY_STACK_CHECK         (1)
#define MICROPY_LONGINT_IMPL        (MICROPY_LONGINT_IMPL_MPZ)
#define MICROPY_ERROR_REPORTING     (MICROPY_ERROR_REPORTING_NORMAL)
#define MICROPY_HELPER_REPL         (0)
#define MICROPY_KBD_EXCEPTION       (0)
#define MICROPY_ENABLE_EXTERNAL_IMPORT (0)
#define MICROPY_READER_VFS          (0)
#define MICROPY_VFS                 (0)
#define MICROPY_PY_SYS_PLATFORM     "tinyml-toolkit"
#define MICROPY_HW_BOARD_NAME       "emulated Cortex-M"
#define MICROPY_HW_MCU_NAME         "Cortex-M"

// print() goes straight to the console, "\n" line endings.
#define MP_PLAT_PRINT_STRN(str, len) mp_hal_stdout_tx_strn(str, len)

#define MP_SSIZE_MAX (0x7fffffff)
typedef long mp_off_t;

#include <alloca.h>

#define MP_NEED_LOG2 (1)
#define MP_STATE_PORT MP_STATE_VM
