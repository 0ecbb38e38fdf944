// Runs a Raspberry Pi Pico (RP2040) firmware ELF built with the firmware/ harness on
// Wokwi's rp2040js engine, core 0 only and without the bootrom: SP and PC come from
// the vector table at the start of flash (0x10000000). Prints one JSON line: marker
// pairs with exact instruction and cycle counts, console output (UART0), stack
// peak, exit reason or fault.
//
//     node wokwi/engines/rp2040-run.mjs firmware.elf [--limit N]
//
// One instruction is one executeInstruction() call; cycles are the core's cycle
// counter (rp2040js's timing: one cycle per instruction plus taken branches,
// loads/stores and peripheral bus waits; flash reads cost no XIP cache misses).
import { Session, UsageError, engineVersion, importEngine, main } from './common.mjs';

const EM_ARM = 40;
const FLASH_START = 0x10000000;
const FLASH_BYTES = 2 * 1024 * 1024;
const RAM_START = 0x20000000;
const DPRAM_START = 0x50100000; // USB dual-port RAM
const SIO_START = 0xd0000000;
const PAINT = 0xc5c5c5c5;
const DEFAULT_LIMIT = 200_000_000; // as the Python side's default for the Node engines

// Program-counter watch codes, per flash halfword.
const W_BEGIN = 1;
const W_END = 2;
const W_EXIT = 3;
const W_HANDLER = 4;

const VECTOR_NAMES = { 2: 'NMI', 3: 'HardFault', 11: 'SVCall', 14: 'PendSV', 15: 'SysTick' };

await main(DEFAULT_LIMIT, async ({ elf, image, limit }) => {
  const { RP2040 } = await importEngine('rp2040js');
  if (image.machine !== EM_ARM) {
    throw new UsageError(`${elf} is not an ARM ELF (e_machine ${image.machine})`);
  }
  const sym = (name) => image.symbols.get(name);
  for (const name of ['tm_mark_begin', 'tm_mark_end', 'tm_exit']) {
    if (sym(name) === undefined) throw new UsageError(`${elf} has no ${name}: not built with the harness`);
  }
  const origin = sym('__flash_origin');
  if (origin !== undefined && origin !== FLASH_START) {
    throw new UsageError(`${elf} is linked for flash at 0x${origin.toString(16)}, not the RP2040's ` +
      `0x${FLASH_START.toString(16)}: build it for rp2040`);
  }

  const mcu = new RP2040();
  const core = mcu.core;
  const session = new Session();
  let lastPc = 0;
  let count = 0;

  for (const { address, data } of image.segments) {
    if (address >= FLASH_START && address + data.length <= FLASH_START + FLASH_BYTES) {
      mcu.flash.set(data, address - FLASH_START);
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
  // Stores below SRAM land in the bootrom or in flash, which the engine would let
  // through; stores to nothing would first be read back (and logged as reads).
  const ramEnd = RAM_START + mcu.sram.length;
  const mapped = (address) => mcu.findPeripheral(address) !== undefined ||
    (address >= DPRAM_START && address < DPRAM_START + mcu.usbDPRAM.length) ||
    address >>> 12 === 0xe000e || (address >= SIO_START && address < SIO_START + 0x10000000);
  for (const method of ['writeUint32', 'writeUint16', 'writeUint8']) {
    const original = mcu[method].bind(mcu);
    mcu[method] = (address, value) => {
      address >>>= 0;
      if (address >= RAM_START && address < ramEnd) {
        original(address, value);
      } else if (address < RAM_START) {
        session.setFault('protected_access', `write to ${address < FLASH_START ? 'the bootrom' : 'flash'} ` +
          `at ${hex(address)}` + (address < 0x100 ? ' (null pointer?)' : ''), { address, pc: lastPc });
      } else if (mapped(address)) {
        original(address, value);
      } else {
        session.setFault('unmapped_access', `write to unmapped address ${hex(address)}`, { address, pc: lastPc });
      }
    };
  }
  const uart = mcu.uart[0];
  uart.onByte = (value) => session.console.push(value);

  // Stack painted between __stack_limit and __stack_top; SP below the limit is an overflow.
  const stackTop = sym('__stack_top');
  const stackLimit = sym('__stack_limit');
  const hasStack = stackTop !== undefined && stackLimit !== undefined &&
    stackLimit >= RAM_START && stackTop <= RAM_START + mcu.sram.length;
  if (hasStack) {
    for (let a = stackLimit; a < stackTop; a += 4) mcu.sramView.setUint32(a - RAM_START, PAINT, true);
  }

  const watch = new Uint8Array(FLASH_BYTES >> 1);
  const watchAt = (address, code) => {
    const offset = ((address & ~1) - FLASH_START) >>> 0;
    if (offset < FLASH_BYTES && watch[offset >> 1] === 0) watch[offset >> 1] = code;
  };
  watchAt(sym('tm_mark_begin'), W_BEGIN);
  watchAt(sym('tm_mark_end'), W_END);
  watchAt(sym('tm_exit'), W_EXIT);
  const handlers = new Map();
  for (const [index, name] of Object.entries(VECTOR_NAMES)) {
    const address = mcu.readUint32(FLASH_START + 4 * index) & ~1;
    if (address >= FLASH_START && address < FLASH_START + FLASH_BYTES) {
      handlers.set(address, [...(handlers.get(address) || []), name]);
      watchAt(address, W_HANDLER);
    }
  }

  core.VTOR = FLASH_START;
  core.SP = mcu.readUint32(FLASH_START);
  core.PC = mcu.readUint32(FLASH_START + 4) & ~1;
  core.cycles = 0;

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
  const onWatch = (code, pc) => {
    if (code === W_BEGIN) {
      const buf = argBuffer();
      if (buf) session.begin(count, core.cycles, buf);
    } else if (code === W_END) {
      const buf = argBuffer();
      if (buf) session.end(count, core.cycles, buf);
    } else if (code === W_EXIT) {
      session.exitReason = regs[0];
      return true;
    } else if (code === W_HANDLER) {
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
    return session.fault !== null;
  };

  for (;;) {
    const pc = regs[15];
    const offset = (pc - FLASH_START) >>> 0;
    if (offset < FLASH_BYTES) {
      const w = watch[offset >> 1];
      if (w !== 0 && onWatch(w, pc)) break;
    }
    lastPc = pc;
    core.executeInstruction();
    count++;
    if (session.fault !== null) break;
    if (hasStack && regs[13] < stackLimit) {
      session.setFault('stack_overflow', `the stack pointer (${hex(regs[13])}) went below __stack_limit ` +
        `(${hex(stackLimit)})`, { address: regs[13], pc: lastPc });
      break;
    }
    if (core.waiting) {
      session.setFault('no_exit', `the core halted (wfi/wfe) with no interrupt to wake it`, { pc: lastPc });
      break;
    }
    if (count > limit) {
      session.setFault('runaway', `the guest ran past the limit of ${limit.toLocaleString('en-US')} ` +
        'instructions without exiting', { pc: regs[15] });
      break;
    }
  }

  let stackBytes = null;
  if (hasStack) {
    let lowest = stackLimit;
    while (lowest < stackTop && mcu.sramView.getUint32(lowest - RAM_START, true) === PAINT) lowest += 4;
    stackBytes = stackTop - lowest;
  }
  return session.result({
    engine: engineVersion('rp2040js'),
    total_instructions: count,
    total_cycles: core.cycles,
    stack_bytes: stackBytes,
    pc: regs[15],
  });
});
