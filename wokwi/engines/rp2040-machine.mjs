// A Raspberry Pi Pico (RP2040) on Wokwi's rp2040js, core 0 only, loaded with a firmware
// ELF (or UF2) built with the firmware/ harness. UART0 is the console. Shared by
// rp2040-run.mjs (run to tm_exit, count) and scenario.mjs (run in simulated time,
// serial in and out, pins).
//
// It boots as the chip does, with what the bootrom does for a flash boot done here
// (rp2040js ships no bootrom image; RP2040 datasheet 2.8.1): the first 256 bytes of flash
// must end with the CRC32 of the other 252, or the bootrom would never start the image;
// they are copied to SRAM at 0x20041f00 and run there with lr = 0 and the bootrom's stack.
// That boot2 stage enters the image through its vector table at 0x10000100. Peripherals
// start held in reset, as the bootrom leaves them; a byte sent on UART0 before the firmware
// has taken UART0, IO_BANK0 and PADS_BANK0 out of reset, enabled UART0 and clk_peri, set a
// baud rate near 115200 and routed GP0 to the UART is a fault (on a board it would never
// reach the serial monitor).
//
// One instruction is one executeInstruction() call; cycles are the core's cycle
// counter (rp2040js's timing: one cycle per instruction plus taken branches,
// loads/stores and peripheral bus waits; flash reads cost no XIP cache misses).
// Simulated time is the engine's clock, advanced by each instruction's cycles at clk_sys
// (125 MHz unless the firmware sets up the PLL), as rp2040js's own Simulator does.
import { Session, UsageError, W_BEGIN, W_END, W_EXIT, W_IDLE, W_LAYER, engineVersion, importEngine } from './common.mjs';

const EM_ARM = 40;
const FLASH_START = 0x10000000;
const FLASH_BYTES = 2 * 1024 * 1024;
const XIP_CTRL_START = 0x14000000; // after the flash windows
const RAM_START = 0x20000000;
const DPRAM_START = 0x50100000; // USB dual-port RAM
const SIO_START = 0xd0000000;
const PAINT = 0xc5c5c5c5;
const B_SELF = 0xe7fe; // b.n .
const DEFAULT_BAUD = 115200; // for serial input while the firmware has not set a divider
const CONSOLE_BAUD = 115200; // what the serial monitor and the harness expect
const BAUD_TOLERANCE = 0.03; // a UART receiver tolerates about 3 % (half a bit over 10 bits, shared)

// Boot (datasheet 2.8.1): boot2 is the first 256 bytes of flash; the bootrom copies it to
// the top of SRAM and runs it there; boot2 hands over to the vector table after it.
const BOOT2_BYTES = 256;
const BOOT2_PAYLOAD = 252;
const BOOT2_LOAD = 0x20041f00;
const BOOTROM_SP = 0x20042000;
const IMAGE_VECTORS = FLASH_START + BOOT2_BYTES;

// RESETS (datasheet 2.14): what the console needs out of reset. The bootrom releases
// only the QSPI pads and pins it uses to read flash.
const RESETS_BASE = 0x4000c000;
const RESET_ALL = 0x01ffffff;
const RESET_BITS = { IO_BANK0: 1 << 5, IO_QSPI: 1 << 6, PADS_BANK0: 1 << 8, PADS_QSPI: 1 << 9, UART0: 1 << 22 };
const GPIO_FUNC_UART = 2;

// Program-counter watch codes (per flash halfword), beyond the markers of common.mjs.
const W_HANDLER = 4;
const W_ENTRY = 5; // the image's reset handler: boot2 is done

/** CRC32 as the RP2040 bootrom checks boot2: polynomial 0x04c11db7, initial 0xffffffff, no reflection. */
export function boot2Crc(bytes) {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte << 24;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
  }
  return crc >>> 0;
}

const VECTOR_NAMES = { 2: 'NMI', 3: 'HardFault', 11: 'SVCall', 14: 'PendSV', 15: 'SysTick' };

/**
 * Builds the machine. `scenario: true` keeps the simulation going at tm_exit (the
 * harness parks there), lets wfi sleep until the next clock alarm, and skips simulated
 * time over self-loops (`b .`) up to the next alarm.
 */
export async function createRp2040Machine(elf, image, { scenario = false } = {}) {
  const { RP2040, GPIOPinState } = await importEngine('rp2040js');
  if (image.machine !== EM_ARM) {
    throw new UsageError(`${elf} is not an ARM ELF (e_machine ${image.machine})`);
  }
  const sym = (name) => image.symbols.get(name);
  // A scenario can run any firmware; counting needs the harness.
  for (const name of scenario ? [] : ['tm_mark_begin', 'tm_mark_end', 'tm_exit']) {
    if (sym(name) === undefined) throw new UsageError(`${elf} has no ${name}: not built with the harness`);
  }
  const origin = sym('__flash_origin');
  if (origin !== undefined && origin !== FLASH_START) {
    throw new UsageError(`${elf} is linked for flash at 0x${origin.toString(16)}, not the RP2040's ` +
      `0x${FLASH_START.toString(16)}: build it for rp2040`);
  }

  const mcu = new RP2040();
  const core = mcu.core;
  const clock = mcu.clock;
  const session = new Session();
  let lastPc = 0;
  let count = 0;
  let entered = false; // boot2 has handed over to the image
  let halted = false;
  let imageEnd = FLASH_START;

  for (const { address, data } of image.segments) {
    if (address >= FLASH_START && address + data.length <= FLASH_START + FLASH_BYTES) {
      mcu.flash.set(data, address - FLASH_START);
      imageEnd = Math.max(imageEnd, address + data.length);
    } else if (address >= RAM_START && address + data.length <= RAM_START + mcu.sram.length) {
      mcu.sram.set(data, address - RAM_START);
    } else {
      throw new UsageError(`${elf}: load segment at 0x${address.toString(16)} is neither in flash nor in SRAM`);
    }
  }

  // The engine logs what it cannot do; for a firmware run those are faults.
  const hex = (v) => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
  const onLog = (level) => (_component, message) => {
    let m;
    if ((m = /Read from invalid memory address: ([0-9a-f]+)/.exec(message))) {
      const address = parseInt(m[1], 16);
      const fetch = address >>> 2 === lastPc >>> 2;
      session.setFault('unmapped_access', `${fetch ? 'fetch from' : 'read of'} unmapped address ${hex(address)}`,
        { address, pc: lastPc });
    } else if ((m = /Write to undefined address: ([0-9a-f]+)/.exec(message))) {
      const address = parseInt(m[1], 16);
      session.setFault('unmapped_access', `write to unmapped address ${hex(address)}`, { address, pc: lastPc });
    } else if ((m = /address ([0-9a-f]+), which is not 32 bit aligned/.exec(message))) {
      const address = parseInt(m[1], 16);
      session.setFault('unaligned_access', `unaligned word access at ${hex(address)} (a HardFault on the ` +
        'Cortex-M0+)', { address, pc: lastPc });
    } else if (/is not implemented/.test(message)) {
      session.setFault('undefined_instruction', 'undefined instruction', { pc: lastPc });
    } else if (level === 'error') {
      session.setFault('engine_error', message, { pc: lastPc });
    }
  };
  mcu.logger = { debug() {}, info() {}, warn: onLog('warn'), error: onLog('error') };
  mcu.onBreak = (code) => {
    const insn = mcu.readUint16(lastPc);
    const udf = (insn >> 8) === 0xde || (insn >> 4) === 0xf7f;
    session.setFault(udf ? 'undefined_instruction' : 'breakpoint',
      udf ? `permanently undefined instruction (udf #${code})` : `bkpt 0x${code.toString(16)} outside a debugger`,
      { pc: lastPc });
  };
  // Stores to the bootrom or to flash (below the XIP control registers), which the engine
  // would let through, are faults; stores to nothing would first be read back (and logged
  // as reads). The flash interface (SSI at 0x18000000) is a peripheral like the others.
  const ramEnd = RAM_START + mcu.sram.length;
  const mapped = (address) => mcu.findPeripheral(address) !== undefined ||
    (address >= DPRAM_START && address < DPRAM_START + mcu.usbDPRAM.length) ||
    address >>> 12 === 0xe000e || (address >= SIO_START && address < SIO_START + 0x10000000);
  for (const method of ['writeUint32', 'writeUint16', 'writeUint8']) {
    const original = mcu[method].bind(mcu);
    mcu[method] = (address, value) => {
      address >>>= 0;
      if ((address >= RAM_START && address < ramEnd) || mapped(address)) {
        original(address, value);
      } else if (address < XIP_CTRL_START) {
        session.setFault('protected_access', `write to ${address < FLASH_START ? 'the bootrom' : 'flash'} ` +
          `at ${hex(address)}` + (address < 0x100 ? ' (null pointer?)' : ''), { address, pc: lastPc });
      } else {
        session.setFault('unmapped_access', `write to unmapped address ${hex(address)}`, { address, pc: lastPc });
      }
    };
  }
  const machine = { onSerial: null };
  const uart = mcu.uart[0];
  const resets = mcu.findPeripheral(RESETS_BASE);
  const baudRate = () => (uart.baudDivider ? mcu.clocks.periFreq / (16 * uart.baudDivider) : 0);
  // Why a byte written to UART0 now would not reach the serial monitor on a board, or null.
  const consoleProblem = () => {
    const held = Object.entries(RESET_BITS).filter(([n, bit]) =>
      ['UART0', 'IO_BANK0', 'PADS_BANK0'].includes(n) && resets.reset & bit).map(([n]) => n);
    if (held.length) return `UART0 written while ${held.join(', ')} ${held.length > 1 ? 'are' : 'is'} held in reset`;
    if (!mcu.clocks.periFreq) return 'UART0 written while clk_peri is stopped (CLK_PERI_CTRL)';
    if (!uart.enabled || !uart.txEnabled) return 'UART0 written while it is disabled (UARTCR: UARTEN and TXE)';
    const baud = baudRate();
    if (!baud) return 'UART0 written before its baud rate was set (UARTIBRD, UARTFBRD)';
    if (Math.abs(baud / CONSOLE_BAUD - 1) > BAUD_TOLERANCE) {
      return `UART0 runs at ${Math.round(baud)} baud (clk_peri ${mcu.clocks.periFreq} Hz), not ${CONSOLE_BAUD}`;
    }
    const func = mcu.gpio[0].functionSelect;
    if (func !== GPIO_FUNC_UART) {
      return `UART0 written while GP0 is not its TX pin (IO_BANK0 GPIO0_CTRL FUNCSEL ${func}, the UART is ` +
        `${GPIO_FUNC_UART})`;
    }
    return null;
  };
  let consoleChecked = false;
  uart.onByte = (value) => {
    if (!consoleChecked) {
      // Checked at the first byte: the set-up happens once, before the console is used.
      consoleChecked = true;
      const problem = consoleProblem();
      if (problem !== null) {
        session.setFault('console_not_ready', `${problem}: on a board the byte would not reach the serial monitor`,
          { pc: lastPc });
        return;
      }
    }
    session.console.push(value);
    if (machine.onSerial !== null) machine.onSerial(value);
  };

  // Stack painted between __stack_limit and __stack_top when the image starts (boot2 ran
  // in the top of that range); SP below the limit is an overflow.
  const stackTop = sym('__stack_top');
  const stackLimit = sym('__stack_limit');
  const hasStack = stackTop !== undefined && stackLimit !== undefined &&
    stackLimit >= RAM_START && stackTop <= RAM_START + mcu.sram.length;
  const paintStack = () => {
    if (!hasStack) return;
    for (let a = stackLimit; a < Math.min(regs[13], stackTop); a += 4) mcu.sramView.setUint32(a - RAM_START, PAINT, true);
  };

  const watch = new Uint8Array(FLASH_BYTES >> 1);
  const watchAt = (address, code) => {
    const offset = ((address & ~1) - FLASH_START) >>> 0;
    if (offset < FLASH_BYTES && watch[offset >> 1] === 0) watch[offset >> 1] = code;
  };
  for (const [name, code] of [['tm_mark_begin', W_BEGIN], ['tm_mark_end', W_END], ['tm_exit', W_EXIT]]) {
    if (sym(name) !== undefined) watchAt(sym(name), code);
  }
  const layerAt = new Map(); // layer markers by address
  for (const { address, index } of scenario ? [] : image.layerMarks) {
    watchAt(address, W_LAYER);
    layerAt.set(address, index);
  }
  const resetHandler = mcu.readUint32(IMAGE_VECTORS + 4) & ~1;
  if (((resetHandler - FLASH_START) >>> 0) >= imageEnd - FLASH_START) {
    throw new UsageError(`${elf}: the reset vector at 0x${(IMAGE_VECTORS + 4).toString(16)} ` +
      `(0x${resetHandler.toString(16)}) is not in the image: the vector table must follow boot2`);
  }
  watchAt(resetHandler, W_ENTRY);
  const handlers = new Map();
  for (const [index, name] of Object.entries(VECTOR_NAMES)) {
    const address = mcu.readUint32(IMAGE_VECTORS + 4 * index) & ~1;
    if (address >= FLASH_START && address < FLASH_START + FLASH_BYTES) {
      handlers.set(address, [...(handlers.get(address) || []), name]);
      watchAt(address, W_HANDLER);
    }
  }
  if (scenario) {
    // The program counter can only be on such a halfword when it executes it as a branch to itself.
    for (let h = 0; h < (imageEnd - FLASH_START) >> 1; h++) if (mcu.flash16[h] === B_SELF) watch[h] |= W_IDLE;
  }

  // The bootrom's part of a flash boot: check, copy and enter boot2 (lr = 0 tells boot2 to
  // enter the image rather than return), with the peripherals still in reset.
  const boot2 = mcu.flash.subarray(0, BOOT2_BYTES);
  const stored = new DataView(boot2.buffer, boot2.byteOffset + BOOT2_PAYLOAD, 4).getUint32(0, true);
  const crc = boot2Crc(boot2.subarray(0, BOOT2_PAYLOAD));
  if (crc !== stored) {
    throw new UsageError(`${elf}: no valid boot2 stage at the start of flash (CRC32 of its first ${BOOT2_PAYLOAD} ` +
      `bytes is ${hex(crc)}, the stage stores ${hex(stored)}): the RP2040 bootrom would not start it; ` +
      'build the firmware for rp2040 with the toolkit, which links one');
  }
  mcu.sram.set(boot2, BOOT2_LOAD - RAM_START);
  resets.reset = RESET_ALL & ~(RESET_BITS.IO_QSPI | RESET_BITS.PADS_QSPI);
  core.VTOR = 0;
  core.SP = BOOTROM_SP;
  core.LR = 0;
  core.PC = BOOT2_LOAD;
  core.cycles = 0;

  let cycleNanos = 1e9 / mcu.clkSys;
  mcu.addClockListener((hz) => {
    cycleNanos = 1e9 / hz;
  });

  const regs = core.registers;
  const argBuffer = () => {
    const ptr = regs[0];
    const len = regs[1];
    if (len === 0) return new Uint8Array(0);
    for (const [start, memory] of [[RAM_START, mcu.sram], [FLASH_START, mcu.flash]]) {
      const offset = ptr - start;
      if (offset >= 0 && offset + len <= memory.length) return memory.slice(offset, offset + len);
    }
    session.setFault('bad_marker', `marker buffer of ${len} bytes at ${hex(ptr)} is neither in SRAM nor in flash`,
      { address: ptr, pc: regs[15] });
    return null;
  };

  const nextAlarmNanos = () => (clock.nextAlarm ? clock.nextAlarm.nanos : Infinity);

  // A self-loop seen twice in a row with nothing in between: nothing changes until the
  // next clock alarm (or the time limit), so jump there in whole loop iterations.
  let idlePc = -1;
  let idleCycles = 0;
  const skipIdle = (pc, untilNanos) => {
    if (lastPc !== pc || idlePc !== pc) {
      idlePc = pc;
      idleCycles = core.cycles;
      return;
    }
    const per = core.cycles - idleCycles;
    const target = Math.min(nextAlarmNanos(), untilNanos);
    if (per > 0 && target !== Infinity) {
      const skip = Math.ceil((target - clock.nanos) / (per * cycleNanos)) - 1;
      if (skip > 0) {
        core.cycles += skip * per;
        count += skip;
        clock.tick(skip * per * cycleNanos);
      }
    }
    idleCycles = core.cycles;
  };

  const onWatch = (code, pc, untilNanos) => {
    const base = code & ~W_IDLE;
    if (session.marker(base, count, core.cycles, argBuffer)) {
      // tm_mark_begin / tm_mark_end recorded
    } else if (base === W_LAYER) {
      if (layerAt.has(pc)) session.layer(layerAt.get(pc), count, core.cycles);
    } else if (base === W_ENTRY) {
      if (!entered) paintStack();
      entered = true;
    } else if (base === W_EXIT) {
      if (session.exitReason === null) session.exitReason = regs[0];
      if (!scenario) return true;
    } else if (base === W_HANDLER) {
      const names = handlers.get(pc);
      const name = names.includes('HardFault') ? 'HardFault' : names[0];
      const lr = regs[14];
      const onException = lr >>> 28 === 0xf;
      // An exception stacks the interrupted pc at sp + 24; a direct call leaves it in lr.
      const from = onException ? mcu.readUint32(regs[13] + 24) : (lr & ~1) - 4;
      session.setFault(name === 'HardFault' ? 'hardfault' : 'exception_handler',
        `the guest entered its ${name} handler ${onException ? 'on an exception' : 'by a direct call'}`,
        { pc: from >>> 0 });
    }
    if (session.fault !== null) return true;
    if (code & W_IDLE) skipIdle(pc, untilNanos);
    return false;
  };

  /**
   * Runs until tm_exit (not in scenario mode), a fault, more than `limit` instructions
   * (a runaway fault), the simulated time `untilNanos` or halt(). Returns 'exit',
   * 'fault', 'time' or 'halt'.
   */
  const run = ({ limit = Infinity, untilNanos = Infinity } = {}) => {
    halted = false;
    if (session.fault !== null) return 'fault';
    if (clock.nanos >= untilNanos) return 'time';
    for (;;) {
      const pc = regs[15];
      const offset = (pc - FLASH_START) >>> 0;
      if (offset < FLASH_BYTES) {
        const w = watch[offset >> 1];
        if (w !== 0 && onWatch(w, pc, untilNanos)) return session.fault !== null ? 'fault' : 'exit';
      }
      lastPc = pc;
      clock.tick(core.executeInstruction() * cycleNanos);
      count++;
      if (session.fault !== null) return 'fault';
      if (hasStack && regs[13] < stackLimit) {
        session.setFault('stack_overflow', `the stack pointer (${hex(regs[13])}) went below __stack_limit ` +
          `(${hex(stackLimit)})`, { address: regs[13], pc: lastPc });
        return 'fault';
      }
      if (core.waiting) {
        if (!scenario) {
          session.setFault('no_exit', `the core halted (wfi/wfe) with no interrupt to wake it`, { pc: lastPc });
          return 'fault';
        }
        // Asleep until the next alarm (which may raise an interrupt) or the time limit.
        const target = Math.min(nextAlarmNanos(), untilNanos);
        if (target === Infinity) {
          session.setFault('no_exit', `the core halted (wfi/wfe) with nothing left to wake it`, { pc: lastPc });
          return 'fault';
        }
        if (target > clock.nanos) clock.tick(target - clock.nanos);
      }
      if (count > limit) {
        session.runaway(limit, regs[15]);
        return 'fault';
      }
      if (clock.nanos >= untilNanos) return 'time';
      if (halted) return 'halt';
    }
  };

  // Serial input: one byte per character time (10 bits at the UART's baud rate, 115200
  // until the firmware sets a divider) into UART0's receive FIFO; a byte that finds
  // the FIFO full is lost.
  const rxQueue = [];
  let rxScheduled = false;
  let rxDropped = 0;
  let rxDelivered = 0;
  const charNanos = () => 10e9 / (uart.baudDivider ? uart.baudRate : DEFAULT_BAUD);
  const rxAlarm = clock.createAlarm(() => {
    rxScheduled = false;
    if (rxQueue.length === 0) return;
    const value = rxQueue.shift();
    if (uart.rxFIFO.full) {
      rxDropped++;
    } else {
      uart.feedByte(value);
      rxDelivered++;
    }
    if (rxQueue.length > 0) {
      rxAlarm.schedule(charNanos());
      rxScheduled = true;
    }
  });

  const stackBytes = () => {
    if (!hasStack) return null;
    let lowest = stackLimit;
    while (lowest < stackTop && mcu.sramView.getUint32(lowest - RAM_START, true) === PAINT) lowest += 4;
    return stackTop - lowest;
  };

  // defineProperties, not Object.assign: the getters must stay getters.
  return Object.defineProperties(machine, Object.getOwnPropertyDescriptors({
    session,
    engine: engineVersion('rp2040js'),
    get clockHz() {
      return mcu.clkSys;
    },
    /** UART0's baud rate as set up by the firmware (0 before it sets a divider). */
    get baud() {
      return Math.round(baudRate());
    },
    run,
    halt() {
      halted = true;
    },
    get instructions() {
      return count;
    },
    get cycles() {
      return core.cycles;
    },
    get nanos() {
      return clock.nanos;
    },
    /** Serial input bytes that reached the receiver, and bytes lost. */
    get serialIn() {
      return { delivered: rxDelivered, dropped: rxDropped };
    },
    writeSerial(bytes) {
      rxQueue.push(...bytes);
      if (!rxScheduled && rxQueue.length > 0) {
        rxAlarm.schedule(charNanos());
        rxScheduled = true;
      }
    },
    pinNames: mcu.gpio.map((_pin, i) => `GP${i}`),
    /** 0 or 1 as a pin reads from outside: driven high, or an input with its pull-up on, is 1. */
    readPin(name) {
      const m = /^GP(\d+)$/.exec(String(name));
      const pin = m ? mcu.gpio[Number(m[1])] : undefined;
      if (pin === undefined) return null;
      const state = pin.value;
      return state === GPIOPinState.High || state === GPIOPinState.InputPullUp ? 1 : 0;
    },
    /** The runner's JSON fields. */
    result() {
      return session.result({
        engine: machine.engine,
        total_instructions: count,
        total_cycles: core.cycles,
        clock_hz: mcu.clkSys,
        uart_baud: machine.baud,
        stack_bytes: stackBytes(),
        pc: regs[15],
      });
    },
  }));
}
