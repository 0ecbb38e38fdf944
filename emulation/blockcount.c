/*
 * Native UC_HOOK_BLOCK callback: exact instruction counting for Unicorn, and an
 * estimate of clock cycles from a per-core timing model.
 *
 * Unicorn calls tm_on_block on entry to every translated block. The number of
 * instructions in a block is decoded once and cached by (address, size); the
 * hook then only adds it to a running total, so no Python runs per block. Past
 * `limit` the hook stops the emulation once. Both instruction sets counted here
 * mix 16- and 32-bit instructions; `isa` selects how a length is decoded.
 *
 * Timing (optional: `weigh` set). The first time a block is seen, `weigh` (a
 * Python callback, emulation/timing) is handed its bytes and returns the block's
 * static cost: its cycles when a conditional exit falls through, the penalty of
 * that exit going the costly way, and whether it has one. Every later entry costs
 * a few integer operations here. The dynamic part is one bit per block entry:
 * a block was left by a jump when the next block does not start where it ended.
 *   predictor = 0: a conditional exit costs `penalty` when taken (cores without
 *                  branch prediction: the taken branch refills the pipeline);
 *   predictor = 1: each block's conditional exit has a 2-bit saturating counter
 *                  (an ideal branch history table, no aliasing) and costs
 *                  `penalty` when mispredicted.
 *
 * The library does not link against Unicorn: Python hands over the addresses of
 * uc_mem_read and uc_emu_stop from the already loaded libunicorn.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int (*uc_mem_read_fn)(void *uc, uint64_t address, void *bytes, size_t size);
typedef int (*uc_emu_stop_fn)(void *uc);

/* What the timing model says about one block (ctypes mirror in counter.py). */
typedef struct {
    uint32_t cycles;  /* the block's cycles, a conditional exit not taken */
    uint16_t penalty; /* extra cycles when the conditional exit is taken (or mispredicted) */
    uint8_t flags;    /* TM_EXIT_CONDITIONAL */
    uint8_t pad;
} tm_weight;

typedef int (*tm_weigh_fn)(uint64_t address, const uint8_t *code, uint32_t size, tm_weight *out);

enum { TM_EXIT_CONDITIONAL = 1, TM_BHT_SHIFT = 1, TM_BHT_MASK = 6, TM_BHT_INITIAL = 1 << TM_BHT_SHIFT };

typedef struct {
    uint64_t key;     /* address | size << 32; 0 = empty slot */
    uint64_t hits;    /* times the block was entered */
    uint32_t count;   /* instructions in the block */
    uint32_t cycles;  /* tm_weight.cycles */
    uint16_t penalty; /* tm_weight.penalty */
    uint8_t flags;    /* TM_EXIT_CONDITIONAL | 2-bit predictor state << TM_BHT_SHIFT */
    uint8_t pad;
    uint32_t taken;   /* times its conditional exit was taken (saturating) */
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
    /* timing: all zero unless weigh is set */
    tm_weigh_fn weigh;
    uint64_t cycles;       /* estimated cycles so far */
    uint64_t prev_end;     /* address just past the previous block */
    uint64_t prev;         /* slot index + 1 of the previous block; 0 = none */
    uint64_t taken;        /* conditional exits taken */
    uint64_t mispredicted; /* conditional exits mispredicted (predictor = 1) */
    uint32_t predictor;    /* 0: penalty when taken; 1: penalty when mispredicted */
    uint32_t weigh_errors; /* blocks the callback could not weigh (charged 1 cycle per instruction) */
    uint64_t current;      /* key of the block entered last (a code hook inside it reads this) */
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
        uint64_t prev = 0;
        for (uint64_t i = 0; i <= c->mask; i++) {
            if (!c->slots[i].key) continue;
            uint64_t j = mix(c->slots[i].key) & (cap - 1);
            while (slots[j].key) j = (j + 1) & (cap - 1);
            slots[j] = c->slots[i];
            if (c->prev == i + 1) prev = j + 1;
        }
        c->prev = prev;
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

/* Count (and, with a timing model, weigh) a block seen for the first time. */
static void decode_block(void *uc, tm_counter *c, uint64_t address, uint32_t size, tm_slot *slot) {
    uint8_t stackbuf[1024];
    uint8_t *buf = size <= sizeof stackbuf ? stackbuf : malloc(size);
    tm_weight w = {0, 0, 0, 0};
    if (!buf || c->mem_read(uc, address, buf, size) != 0) {
        c->read_errors++;
        slot->count = size / 2; /* unreachable in practice: the block was just translated */
        w.cycles = slot->count;
    } else {
        slot->count = count_insns(c->isa, buf, size);
        if (c->weigh && c->weigh(address, buf, size, &w) != 0) {
            c->weigh_errors++;
            memset(&w, 0, sizeof w);
            w.cycles = slot->count;
        }
    }
    if (buf != stackbuf) free(buf);
    slot->cycles = w.cycles;
    slot->penalty = w.penalty;
    slot->flags = (uint8_t)((w.flags & TM_EXIT_CONDITIONAL) | TM_BHT_INITIAL);
}

/* Cycles of entering block `s` at `address`, settling the previous block's exit. */
static inline void account(tm_counter *c, tm_slot *s, uint64_t index, uint64_t address, uint32_t size) {
    uint64_t cycles = s->cycles;
    if (c->prev) {
        tm_slot *p = &c->slots[c->prev - 1];
        if (p->flags & TM_EXIT_CONDITIONAL) {
            uint32_t jumped = address != c->prev_end;
            if (c->predictor) {
                uint32_t state = (p->flags & TM_BHT_MASK) >> TM_BHT_SHIFT;
                if ((state >= 2) != jumped) {
                    cycles += p->penalty;
                    c->mispredicted++;
                }
                state = jumped ? (state < 3 ? state + 1 : 3) : (state > 0 ? state - 1 : 0);
                p->flags = (uint8_t)((p->flags & ~TM_BHT_MASK) | (state << TM_BHT_SHIFT));
            } else if (jumped) {
                cycles += p->penalty;
            }
            if (jumped) {
                c->taken++;
                if (p->taken != UINT32_MAX) p->taken++;
            }
        }
    }
    c->cycles += cycles;
    c->prev = index + 1;
    c->prev_end = address + size;
}

void tm_on_block(void *uc, uint64_t address, uint32_t size, void *user_data) {
    tm_counter *c = (tm_counter *)user_data;
    uint64_t key = (address & 0xFFFFFFFFull) | ((uint64_t)size << 32);
    uint32_t n = 0;
    c->current = key;
    if (key) {
        if (!c->slots && grow(c) != 0) return;
        uint64_t j = mix(key) & c->mask;
        while (c->slots[j].key && c->slots[j].key != key) j = (j + 1) & c->mask;
        tm_slot *s = &c->slots[j];
        int inserted = s->key != key;
        if (inserted) {
            s->key = key;
            decode_block(uc, c, address, size, s);
            c->used++;
        }
        s->hits++;
        n = s->count;
        if (c->weigh) account(c, s, j, address, size);
        if (inserted && c->used * 2 > c->mask + 1) grow(c); /* moves the slots: s is stale after */
    }
    c->total += n;
    if (c->total > c->limit && !c->stopped) {
        c->stopped = 1;
        c->stop_pc = address;
        c->emu_stop(uc);
    }
}

/* Copies up to `max` occupied slots into `out` (for profiles); returns how many there are. */
uint64_t tm_counter_blocks(const tm_counter *c, tm_slot *out, uint64_t max) {
    uint64_t n = 0;
    if (!c->slots) return 0;
    for (uint64_t i = 0; i <= c->mask; i++) {
        if (!c->slots[i].key) continue;
        if (n < max) out[n] = c->slots[i];
        n++;
    }
    return n;
}

/* Frees the block cache; the counter itself belongs to the caller. */
void tm_counter_release(tm_counter *c) {
    free(c->slots);
    c->slots = NULL;
    c->mask = 0;
    c->used = 0;
    c->prev = 0;
}

/* Lets Python check that its struct mirrors have the same size. */
uint32_t tm_counter_sizeof(void) { return (uint32_t)sizeof(tm_counter); }
uint32_t tm_slot_sizeof(void) { return (uint32_t)sizeof(tm_slot); }
uint32_t tm_weight_sizeof(void) { return (uint32_t)sizeof(tm_weight); }
