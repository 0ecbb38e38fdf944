// Runs an ATmega328P (Arduino Uno) firmware ELF built with the firmware/ harness on
// Wokwi's avr8js engine and prints one JSON line: marker pairs with exact instruction
// and cycle counts, console output (USART0), stack peak, exit reason or fault.
//
//     node wokwi/engines/avr-run.mjs firmware.elf [--limit N]
//
// One instruction is one avrInstruction() call; cycles are avr8js's cpu.cycles
// (exact per the datasheet timings). Program addresses in the result are byte
// addresses, as in the ELF; avr8js's program counter counts 16-bit words.
import { Session, UsageError, engineVersion, importEngine, main } from './common.mjs';

const EM_AVR = 83;
const FLASH_BYTES = 32 * 1024;
const SRAM_BYTES = 2048;
const REGISTER_SPACE = 0x100; // registers and I/O below SRAM
const RAMEND = REGISTER_SPACE + SRAM_BYTES - 1; // 0x8ff
const DATA_OFFSET = 0x800000; // data-space addresses in avr-gcc ELFs
const CLOCK_HZ = 16_000_000;
const PAINT = 0xc5;
const DEFAULT_LIMIT = 200_000_000; // as the Python side's default for the Node engines

// Program-counter watch codes (per flash word).
const W_BEGIN = 1;
const W_END = 2;
const W_EXIT = 3;
const W_ERASED = 4;
const W_RESET = 5;

await main(DEFAULT_LIMIT, async ({ elf, image, limit }) => {
  const avr = await importEngine('avr8js');
  if (image.machine !== EM_AVR) {
    throw new UsageError(`${elf} is not an AVR ELF (e_machine ${image.machine})`);
  }
  const sym = (name) => image.symbols.get(name);
  for (const name of ['tm_mark_begin', 'tm_mark_end', 'tm_exit']) {
    if (sym(name) === undefined) throw new UsageError(`${elf} has no ${name}: not built with the harness`);
  }

  // Program memory: every load segment below the data-space offset, at its load address.
  const progBytes = new Uint8Array(FLASH_BYTES).fill(0xff);
  let imageEnd = 0;
  for (const { address, data } of image.segments) {
    if (address >= DATA_OFFSET) continue;
    if (address + data.length > FLASH_BYTES) {
      throw new UsageError(`${elf} does not fit in the ${FLASH_BYTES / 1024} KB of flash`);
    }
    progBytes.set(data, address);
    imageEnd = Math.max(imageEnd, address + data.length);
  }
  const progMem = new Uint16Array(progBytes.buffer);

  // The whole 16-bit data space exists in the engine; what lies past RAMEND is
  // trapped by hooks, so a stray pointer is reported instead of read as garbage.
  const cpu = new avr.CPU(progMem, 0x10000 - REGISTER_SPACE);
  const session = new Session();
  let lastPc = 0;
  let count = 0;
  const outside = (kind, addr) => session.setFault('unmapped_access', `${kind} of data address ` +
    `0x${addr.toString(16)}, past the end of SRAM (0x${RAMEND.toString(16)})`, { address: addr, pc: 2 * lastPc });
  const readOutside = (addr) => {
    outside('read', addr);
    return 0;
  };
  const writeOutside = (_value, _old, addr) => {
    outside('write', addr);
    return true; // dropped
  };
  cpu.readHooks = new Array(0x10000).fill(null);
  cpu.writeHooks = new Array(0x10000).fill(null);
  for (let a = RAMEND + 1; a < 0x10000; a++) {
    cpu.readHooks[a] = readOutside;
    cpu.writeHooks[a] = writeOutside;
  }

  new avr.AVRTimer(cpu, avr.timer0Config);
  new avr.AVRTimer(cpu, avr.timer1Config);
  new avr.AVRTimer(cpu, avr.timer2Config);
  const usart = new avr.AVRUSART(cpu, avr.usart0Config, CLOCK_HZ);
  usart.onByteTransmit = (value) => session.console.push(value);

  // Stack: paint SRAM between the end of .data/.bss and RAMEND; the stack pointer
  // must not go below that end.
  const ramUsedEnd = Math.max(...['__data_end', '__bss_end', '__noinit_end']
    .map((n) => sym(n)).filter((v) => v !== undefined && v >= DATA_OFFSET).map((v) => v - DATA_OFFSET),
  REGISTER_SPACE);
  const data = cpu.data;
  data.fill(PAINT, ramUsedEnd, RAMEND + 1);

  const watch = new Uint8Array(progMem.length);
  for (let w = (imageEnd + 1) >> 1; w < watch.length; w++) watch[w] = W_ERASED;
  watch[0] = W_RESET;
  watch[sym('tm_mark_begin') >> 1] = W_BEGIN;
  watch[sym('tm_mark_end') >> 1] = W_END;
  watch[sym('tm_exit') >> 1] = W_EXIT;

  const u32 = (r) => (data[r] | (data[r + 1] << 8) | (data[r + 2] << 16) | (data[r + 3] << 24)) >>> 0;
  const argBuffer = () => {
    // tm_mark_*(const void *data, uint32_t bytes): pointer in r25:r24, length in r23..r20.
    const ptr = data[24] | (data[25] << 8);
    const len = u32(20);
    if (ptr + len > RAMEND + 1) {
      session.setFault('bad_marker', `marker buffer of ${len} bytes at 0x${ptr.toString(16)} is not in SRAM`,
        { address: ptr, pc: 2 * cpu.pc });
      return null;
    }
    return data.slice(ptr, ptr + len);
  };

  /** Returns true to stop the run. */
  const onWatch = (code) => {
    if (code === W_BEGIN) {
      const buf = argBuffer();
      if (buf) session.begin(count, cpu.cycles, buf);
    } else if (code === W_END) {
      const buf = argBuffer();
      if (buf) session.end(count, cpu.cycles, buf);
    } else if (code === W_EXIT) {
      session.exitReason = u32(22); // tm_exit(uint32_t reason): r25..r22
      return true;
    } else if (code === W_ERASED) {
      session.setFault('unmapped_access', 'jump to erased flash, past the end of the program',
        { address: 2 * cpu.pc, pc: 2 * lastPc });
    } else if (code === W_RESET && count > 0) {
      session.setFault('reset', 'jump to the reset vector (a call through a null function pointer?)',
        { address: 0, pc: 2 * lastPc });
    }
    return session.fault !== null;
  };

  const { avrInstruction } = avr;
  const spFloor = ramUsedEnd - 1; // SP points at the next free byte
  for (;;) {
    const pc = cpu.pc;
    const w = watch[pc];
    if (w !== 0 && onWatch(w)) break;
    lastPc = pc;
    avrInstruction(cpu);
    cpu.tick();
    count++;
    if (session.fault !== null) break;
    if ((data[93] | (data[94] << 8)) < spFloor) {
      const sp = data[93] | (data[94] << 8);
      session.setFault('stack_overflow', `the stack pointer (0x${sp.toString(16)}) went below the end of ` +
        `.data/.bss (0x${ramUsedEnd.toString(16)})`, { address: sp + 1, pc: 2 * lastPc });
      break;
    }
    if (count > limit) {
      session.setFault('runaway', `the guest ran past the limit of ${limit.toLocaleString('en-US')} ` +
        'instructions without exiting', { pc: 2 * cpu.pc });
      break;
    }
  }

  let lowest = ramUsedEnd;
  while (lowest <= RAMEND && data[lowest] === PAINT) lowest++;
  return session.result({
    engine: engineVersion('avr8js'),
    total_instructions: count,
    total_cycles: cpu.cycles,
    stack_bytes: RAMEND + 1 - lowest,
    pc: 2 * cpu.pc,
  });
});
