// Shared by the engine runners: command line, the harness protocol (marker pairs,
// console, exit) and the one-line JSON result.
import { readFileSync } from 'node:fs';

import { ElfError, readElf } from './elf.mjs';

export class UsageError extends Error {}

/** Imports an npm package, or fails with the one-line hint the Python side passes on. */
export async function importEngine(name) {
  try {
    return await import(name);
  } catch (err) {
    if (err && (err.code === 'ERR_MODULE_NOT_FOUND' || err.code === 'MODULE_NOT_FOUND')) {
      throw new UsageError(`the npm package ${name} is not installed in wokwi/node_modules: run make setup`);
    }
    throw err;
  }
}

export function engineVersion(name) {
  try {
    const url = new URL(`../node_modules/${name}/package.json`, import.meta.url);
    return `${name} ${JSON.parse(readFileSync(url, 'utf8')).version}`;
  } catch {
    return name;
  }
}

function parseArgs(argv, defaultLimit) {
  const args = { elf: null, limit: defaultLimit };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--limit') {
      const value = Number(argv[++i]);
      if (!Number.isSafeInteger(value) || value <= 0) {
        throw new UsageError('--limit needs a positive number of instructions');
      }
      args.limit = value;
    } else if (a.startsWith('-')) {
      throw new UsageError(`unknown option ${a}`);
    } else if (args.elf === null) {
      args.elf = a;
    } else {
      throw new UsageError(`unexpected argument ${a}`);
    }
  }
  if (args.elf === null) throw new UsageError('usage: node <runner> FIRMWARE.elf [--limit N]');
  return args;
}

/** What the harness reports while it runs: marker pairs, console bytes, exit reason. */
// Program-counter watch codes of the harness markers, shared by the engines (each adds
// its own codes from 4 up); W_IDLE is a flag on top of them.
export const W_BEGIN = 1;
export const W_END = 2;
export const W_EXIT = 3;
export const W_LAYER = 0x40; // a layer marker's nop (emulation/layers.py)
export const W_IDLE = 0x80;

export class Session {
  constructor() {
    this.pairs = []; // { instructions, cycles, input, output } per marker pair, calibration first
    this.pending = null;
    this.console = [];
    this.exitReason = null;
    this.fault = null;
  }

  begin(instructions, cycles, input) {
    this.pending = { instructions, cycles, input, layers: [] };
  }

  /** A layer marker reached inside a pair: its index and the counts since the begin marker. */
  layer(index, instructions, cycles) {
    if (this.pending === null) return;
    const { pending } = this;
    pending.layers.push([index, instructions - pending.instructions, cycles - pending.cycles]);
  }

  end(instructions, cycles, output) {
    if (this.pending === null) return;
    const { pending } = this;
    this.pending = null;
    this.pairs.push({
      instructions: instructions - pending.instructions,
      cycles: cycles - pending.cycles,
      input: Buffer.from(pending.input).toString('hex'),
      output: Buffer.from(output).toString('hex'),
      layers: pending.layers,
    });
  }

  /**
   * Handles tm_mark_begin / tm_mark_end: `argBuffer()` reads the (pointer, length)
   * arguments. Returns false for any other watch code.
   */
  marker(base, instructions, cycles, argBuffer) {
    if (base !== W_BEGIN && base !== W_END) return false;
    const buf = argBuffer();
    if (buf) (base === W_BEGIN ? this.begin : this.end).call(this, instructions, cycles, buf);
    return true;
  }

  /** Records the first fault only; kind and message as the Python side names them. */
  setFault(kind, message, { address = null, pc = null } = {}) {
    if (this.fault === null) this.fault = { kind, message, address, pc };
  }

  /** The run went past `limit` instructions without reaching tm_exit. */
  runaway(limit, pc) {
    this.setFault('runaway', `the guest ran past the limit of ${limit.toLocaleString('en-US')} ` +
      'instructions without exiting', { pc });
  }

  result(extra) {
    return {
      pairs: this.pairs,
      console: Buffer.from(this.console).toString('utf8'),
      exit_reason: this.exitReason,
      fault: this.fault,
      ...extra,
    };
  }
}

/** Runs `run({ elf, image, limit })` and prints its result as one JSON line. */
export async function main(defaultLimit, run) {
  try {
    const args = parseArgs(process.argv.slice(2), defaultLimit);
    const image = readElf(args.elf);
    const result = await run({ ...args, image });
    process.stdout.write(JSON.stringify(result) + '\n');
  } catch (err) {
    if (err instanceof UsageError || err instanceof ElfError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`error: internal error in the runner: ${err && err.stack ? err.stack : err}\n`);
    process.exit(3);
  }
}
