/*
 * Native UC_HOOK_BLOCK callback: exact instruction counting for Unicorn.
 *
 * Unicorn calls tm_on_block on entry to every translated block. The number of
 * instructions in a block is decoded once and cached by (address, size); the
 * hook then only adds it to a running total, so no Python runs per block. Past
 * `limit` the hook stops the emulation once. Both instruction sets counted here
 * mix 16- and 32-bit instructions; `isa` selects how a length is decoded.
 *
 * The library does not link against Unicorn: Python hands over the addresses of
 * uc_mem_read and uc_emu_stop from the already loaded libunicorn.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int (*uc_mem_read_fn)(void *uc, uint64_t address, void *bytes, size_t size);
typedef int (*uc_emu_stop_fn)(void *uc);

typedef struct {
    uint64_t key;   /* address | size << 32; 0 = empty slot */
    uint32_t count; /* instructions in the block */
    uint32_t pad;
} tm_slot;

/* Shared with Python (ctypes mirror in counter.py): keep in sync. */
typedef struct {
    uint64_t total;      /* instructions executed so far */
    uint64_t limit;      /* stop the guest once total exceeds this */
    uint64_t stop_pc;    /* block address where the limit was hit */
    uint32_t stopped;    /* 1 once the limit was hit */
    uint32_t read_errors;/* blocks whose bytes could not be read */
    uint32_t isa;        /* TM_ISA_THUMB or TM_ISA_RISCV */
    uint32_t reserved;
    uc_mem_read_fn mem_read;
    uc_emu_stop_fn emu_stop;
    tm_slot *slots;      /* open-addressing cache, capacity = mask + 1 */
    uint64_t mask;
    uint64_t used;
} tm_counter;

static uint64_t mix(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return k;
}

static int grow(tm_counter *c) {
    uint64_t cap = c->slots ? (c->mask + 1) * 2 : 4096;
    tm_slot *slots = calloc(cap, sizeof *slots);
    if (!slots) return -1;
    if (c->slots) {
        for (uint64_t i = 0; i <= c->mask; i++) {
            if (!c->slots[i].key) continue;
            uint64_t j = mix(c->slots[i].key) & (cap - 1);
            while (slots[j].key) j = (j + 1) & (cap - 1);
            slots[j] = c->slots[i];
        }
        free(c->slots);
    }
    c->slots = slots;
    c->mask = cap - 1;
    return 0;
}

enum { TM_ISA_THUMB = 0, TM_ISA_RISCV = 1 };

/* Length in bytes of the instruction starting with halfword `hw`.
 * Thumb: top five bits 0b11101, 0b11110 or 0b11111 start a 32-bit instruction.
 * RISC-V: low two bits 0b11 start a 32-bit instruction, anything else is a
 * 16-bit compressed one (no 48-bit and longer encodings in RV32IMC). */
static uint32_t insn_length(uint32_t isa, uint16_t hw) {
    if (isa == TM_ISA_RISCV) return (hw & 3u) == 3u ? 4 : 2;
    return (hw & 0xF800u) >= 0xE800u ? 4 : 2;
}

static uint32_t count_insns(uint32_t isa, const uint8_t *p, uint32_t size) {
    uint32_t n = 0, i = 0;
    while (i + 2 <= size) {
        i += insn_length(isa, (uint16_t)(p[i] | (p[i + 1] << 8)));
        n++;
    }
    return n;
}

static uint32_t decode_block(void *uc, tm_counter *c, uint64_t address, uint32_t size) {
    uint8_t stackbuf[1024];
    uint8_t *buf = size <= sizeof stackbuf ? stackbuf : malloc(size);
    uint32_t n;
    if (!buf || c->mem_read(uc, address, buf, size) != 0) {
        c->read_errors++;
        n = size / 2; /* unreachable in practice: the block was just translated */
    } else {
        n = count_insns(c->isa, buf, size);
    }
    if (buf != stackbuf) free(buf);
    return n;
}

void tm_on_block(void *uc, uint64_t address, uint32_t size, void *user_data) {
    tm_counter *c = (tm_counter *)user_data;
    uint64_t key = (address & 0xFFFFFFFFull) | ((uint64_t)size << 32);
    uint32_t n = 0;
    if (key) {
        if (!c->slots && grow(c) != 0) return;
        uint64_t j = mix(key) & c->mask;
        while (c->slots[j].key && c->slots[j].key != key) j = (j + 1) & c->mask;
        if (c->slots[j].key == key) {
            n = c->slots[j].count;
        } else {
            n = decode_block(uc, c, address, size);
            c->slots[j].key = key;
            c->slots[j].count = n;
            if (++c->used * 2 > c->mask + 1) grow(c);
        }
    }
    c->total += n;
    if (c->total > c->limit && !c->stopped) {
        c->stopped = 1;
        c->stop_pc = address;
        c->emu_stop(uc);
    }
}

/* Frees the block cache; the counter itself belongs to the caller. */
void tm_counter_release(tm_counter *c) {
    free(c->slots);
    c->slots = NULL;
    c->mask = 0;
    c->used = 0;
}

/* Lets Python check that its struct mirror has the same size. */
uint32_t tm_counter_sizeof(void) { return (uint32_t)sizeof(tm_counter); }
