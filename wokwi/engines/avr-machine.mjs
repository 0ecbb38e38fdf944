// An ATmega328P (Arduino Uno) on Wokwi's avr8js, loaded with a firmware ELF built with
// the firmware/ harness: program memory, USART0, timers 0-2, fault traps, the harness
// markers. Shared by avr-run.mjs (run to tm_exit, count) and scenario.mjs (run in
// simulated time, serial in and out, pins).
//
// One instruction is one avrInstruction() call; cycles are avr8js's cpu.cycles (exact
// per the datasheet timings). Program addresses in results are byte addresses, as in
// the ELF; avr8js's program counter counts 16-bit words.
import { Session, UsageError, W_BEGIN, W_END, W_EXIT, W_IDLE, W_LAYER, engineVersion, importEngine } from './common.mjs';

const EM_AVR = 83;
const FLASH_BYTES = 32 * 1024;
const SRAM_BYTES = 2048;
const REGISTER_SPACE = 0x100; // registers and I/O below SRAM
const RAMEND = REGISTER_SPACE + SRAM_BYTES - 1; // 0x8ff
const DATA_OFFSET = 0x800000; // data-space addresses in avr-gcc ELFs
export const AVR_CLOCK_HZ = 16_000_000;
const NS_PER_CYCLE = 1e9 / AVR_CLOCK_HZ; // 62.5
const PAINT = 0xc5;
const RJMP_SELF = 0xcfff; // rjmp .-2

// Program-counter watch codes (per flash word), beyond the markers of common.mjs.
const W_ERASED = 4;
const W_RESET = 5;

// Arduino Uno pin names (as on Wokwi's wokwi-arduino-uno part) -> [port, bit].
const UNO_PINS = new Map([
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => [String(i), ['D', i]]),
  ...[8, 9, 10, 11, 12, 13].map((i) => [String(i), ['B', i - 8]]),
  ...[0, 1, 2, 3, 4, 5].map((i) => [`A${i}`, ['C', i]]),
]);

/**
 * Builds the machine. `scenario: true` keeps the simulation going at tm_exit (the
 * harness parks there) and skips simulated time over self-loops (`rjmp .-2`) up to the
 * next clock event; it also attaches GPIO ports B, C and D for pin reads.
 */
export async function createAvrMachine(elf, image, { scenario = false } = {}) {
  const avr = await importEngine('avr8js');
  if (image.machine !== EM_AVR) {
    throw new UsageError(`${elf} is not an AVR ELF (e_machine ${image.machine})`);
  }
  const sym = (name) => image.symbols.get(name);
  // A scenario can run any firmware; counting needs the harness.
  for (const name of scenario ? [] : ['tm_mark_begin', 'tm_mark_end', 'tm_exit']) {
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
  let halted = false;
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
  const usart = new avr.AVRUSART(cpu, avr.usart0Config, AVR_CLOCK_HZ);
  const machine = { onSerial: null };
  usart.onByteTransmit = (value) => {
    session.console.push(value);
    if (machine.onSerial !== null) machine.onSerial(value);
  };
  const ports = scenario
    ? { B: new avr.AVRIOPort(cpu, avr.portBConfig), C: new avr.AVRIOPort(cpu, avr.portCConfig),
      D: new avr.AVRIOPort(cpu, avr.portDConfig) }
    : null;

  // Stack: paint SRAM between the end of .data/.bss and RAMEND; the stack pointer
  // must not go below that end.
  const ramUsedEnd = Math.max(...['__data_end', '__bss_end', '__noinit_end']
    .map((n) => sym(n)).filter((v) => v !== undefined && v >= DATA_OFFSET).map((v) => v - DATA_OFFSET),
  REGISTER_SPACE);
  const data = cpu.data;
  data.fill(PAINT, ramUsedEnd, RAMEND + 1);

  const imageWords = (imageEnd + 1) >> 1;
  const watch = new Uint8Array(progMem.length);
  for (let w = imageWords; w < watch.length; w++) watch[w] = W_ERASED;
  watch[0] = W_RESET;
  for (const [name, code] of [['tm_mark_begin', W_BEGIN], ['tm_mark_end', W_END], ['tm_exit', W_EXIT]]) {
    if (sym(name) !== undefined) watch[sym(name) >> 1] = code;
  }
  const layerAt = new Map(); // layer markers by word address
  for (const { address, index } of scenario ? [] : image.layerMarks) {
    if (address >> 1 < imageWords && watch[address >> 1] === 0) {
      watch[address >> 1] = W_LAYER;
      layerAt.set(address >> 1, index);
    }
  }
  if (scenario) {
    // The program counter can only be on such a word when it executes it as an rjmp to itself.
    for (let w = 0; w < imageWords; w++) if (progMem[w] === RJMP_SELF) watch[w] |= W_IDLE;
  }

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

  // A self-loop seen twice in a row with nothing in between: nothing changes until the
  // next clock event (or the time limit), so jump there in whole loop iterations.
  let idlePc = -1;
  let idleCycles = 0;
  const skipIdle = (pc, untilCycles) => {
    if (lastPc !== pc || idlePc !== pc) {
      idlePc = pc;
      idleCycles = cpu.cycles;
      return;
    }
    const per = cpu.cycles - idleCycles;
    const event = cpu.nextClockEvent;
    const target = Math.min(event ? event.cycles : Infinity, untilCycles);
    if (per > 0 && target !== Infinity && !(cpu.interruptsEnabled && cpu.nextInterrupt >= 0)) {
      const skip = Math.ceil((target - cpu.cycles) / per) - 1;
      if (skip > 0) {
        cpu.cycles += skip * per;
        count += skip;
      }
    }
    idleCycles = cpu.cycles;
  };

  /** Returns true to stop the run. */
  const onWatch = (code, pc, untilCycles) => {
    const base = code & ~W_IDLE;
    if (session.marker(base, count, cpu.cycles, argBuffer)) {
      // tm_mark_begin / tm_mark_end recorded
    } else if (base === W_LAYER) {
      session.layer(layerAt.get(pc), count, cpu.cycles);
    } else if (base === W_EXIT) {
      if (session.exitReason === null) session.exitReason = u32(22); // tm_exit(uint32_t reason): r25..r22
      if (!scenario) return true;
    } else if (base === W_ERASED) {
      session.setFault('unmapped_access', 'jump to erased flash, past the end of the program',
        { address: 2 * cpu.pc, pc: 2 * lastPc });
    } else if (base === W_RESET && count > 0) {
      session.setFault('reset', 'jump to the reset vector (a call through a null function pointer?)',
        { address: 0, pc: 2 * lastPc });
    }
    if (session.fault !== null) return true;
    if (code & W_IDLE) skipIdle(pc, untilCycles);
    return false;
  };

  const { avrInstruction } = avr;
  const spFloor = ramUsedEnd - 1; // SP points at the next free byte

  /**
   * Runs until tm_exit (not in scenario mode), a fault, more than `limit` instructions
   * (a runaway fault), the simulated time `untilNanos` or halt(). Returns 'exit',
   * 'fault', 'time' or 'halt'.
   */
  const run = ({ limit = Infinity, untilNanos = Infinity } = {}) => {
    halted = false;
    const untilCycles = untilNanos === Infinity ? Infinity : Math.ceil(untilNanos / NS_PER_CYCLE);
    if (session.fault !== null) return 'fault';
    if (cpu.cycles >= untilCycles) return 'time';
    for (;;) {
      const pc = cpu.pc;
      const w = watch[pc];
      if (w !== 0 && onWatch(w, pc, untilCycles)) return session.fault !== null ? 'fault' : 'exit';
      lastPc = pc;
      avrInstruction(cpu);
      cpu.tick();
      count++;
      if (session.fault !== null) return 'fault';
      if ((data[93] | (data[94] << 8)) < spFloor) {
        const sp = data[93] | (data[94] << 8);
        session.setFault('stack_overflow', `the stack pointer (0x${sp.toString(16)}) went below the end of ` +
          `.data/.bss (0x${ramUsedEnd.toString(16)})`, { address: sp + 1, pc: 2 * lastPc });
        return 'fault';
      }
      if (count > limit) {
        session.runaway(limit, 2 * cpu.pc);
        return 'fault';
      }
      if (cpu.cycles >= untilCycles) return 'time';
      if (halted) return 'halt';
    }
  };

  // Serial input: one byte per character time of the USART's current setting, as a
  // terminal would send them. A byte that arrives while the receiver is disabled is lost.
  const rxQueue = [];
  let rxScheduled = false;
  let rxDropped = 0;
  let rxDelivered = 0;
  usart.onRxComplete = () => {
    rxDelivered++;
  };
  const feedNext = () => {
    rxScheduled = false;
    if (rxQueue.length === 0) return;
    if (!usart.rxEnable) {
      rxQueue.shift();
      rxDropped++;
    } else if (!usart.rxBusy) {
      usart.writeByte(rxQueue.shift());
    }
    if (rxQueue.length > 0) {
      cpu.addClockEvent(feedNext, usart.cyclesPerChar + 1);
      rxScheduled = true;
    }
  };

  const stackBytes = () => {
    let lowest = ramUsedEnd;
    while (lowest <= RAMEND && data[lowest] === PAINT) lowest++;
    return RAMEND + 1 - lowest;
  };

  // defineProperties, not Object.assign: the getters must stay getters.
  return Object.defineProperties(machine, Object.getOwnPropertyDescriptors({
    session,
    engine: engineVersion('avr8js'),
    clockHz: AVR_CLOCK_HZ,
    run,
    halt() {
      halted = true;
    },
    get instructions() {
      return count;
    },
    get cycles() {
      return cpu.cycles;
    },
    get nanos() {
      return cpu.cycles * NS_PER_CYCLE;
    },
    /** Serial input bytes that reached the receiver, and bytes lost. */
    get serialIn() {
      return { delivered: rxDelivered, dropped: rxDropped };
    },
    writeSerial(bytes) {
      rxQueue.push(...bytes);
      if (!rxScheduled) feedNext();
    },
    pinNames: [...UNO_PINS.keys()],
    /** 0 or 1 as a pin reads from outside: driven high, or an input with its pull-up on, is 1. */
    readPin(name) {
      const where = UNO_PINS.get(String(name));
      if (where === undefined || ports === null) return null;
      const state = ports[where[0]].pinState(where[1]);
      return state === avr.PinState.High || state === avr.PinState.InputPullUp ? 1 : 0;
    },
    /** The runner's JSON fields. */
    result() {
      return session.result({
        engine: machine.engine,
        total_instructions: count,
        total_cycles: cpu.cycles,
        stack_bytes: stackBytes(),
        pc: 2 * cpu.pc,
      });
    },
  }));
}
