// Runs a Wokwi automation scenario headless on Wokwi's open-source engines: a firmware ELF
// built with the firmware/ harness on avr8js (Arduino Uno) or rp2040js (Raspberry Pi
// Pico), in simulated time, with wokwi-cli's step semantics and exit codes.
//
//     node wokwi/engines/scenario.mjs --engine avr|rp2040 --elf FIRMWARE.elf --steps STEPS.json
//          [--firmware FIRMWARE.uf2|.hex] [--timeout MS] [--part-id ID] [--verbose] [--quiet]
//
// --firmware loads flash from the file Wokwi itself would load (wokwi.toml's `firmware`:
// UF2 for the Pico, with the RP2040 bootrom's block rules; Intel HEX for the Uno); the ELF
// then only gives the symbols. Without it the ELF's load segments are the flash.
//
// STEPS.json holds the scenario's `steps` list (the YAML file's, as JSON), or an object
// {"steps": [...], "part_id": "uno"}. Steps run here:
//   wait-serial: TEXT     run until a serial line (bytes up to '\n') that ends after the
//                         step started contains TEXT, as wokwi-cli's ExpectEngine matches
//   delay: 200ms          advance simulated time (ns, us, ms or s; units required; "0")
//   write-serial: 'text' | [bytes]   send bytes to the board's UART receiver, one per
//                         character time, and go on at once
//   expect-pin: {part-id, pin, value}   read a pin of the board now; fail unless it is `value`
// Other wokwi-cli steps (set-control, wait-pin, take-screenshot, ...) need the Wokwi
// cloud and are refused before the simulation starts.
//
// Exit status as wokwi-cli: 0 every step passed; 1 a step failed, the guest faulted or a
// step cannot run here; 42 the simulated time reached --timeout (ms, default 30000; 0 for
// none) first. 2: bad command line or ELF; 3: internal error. stdout carries the serial
// output, then, as its last line, one JSON object: status ("pass", "fail", "timeout"),
// message, serial, cycles, sim_time_ns, steps_done and more (see result() below).
import { readFileSync } from 'node:fs';

import { createAvrMachine } from './avr-machine.mjs';
import { UsageError } from './common.mjs';
import { ElfError, readElf } from './elf.mjs';
import { FirmwareError, readFirmware } from './firmware.mjs';
import { createRp2040Machine } from './rp2040-machine.mjs';

const EXIT_PASS = 0;
const EXIT_FAIL = 1;
const EXIT_USAGE = 2;
const EXIT_TIMEOUT = 42;
const EXIT_SUCCESS_REASON = 0x20026; // the harness's tm_exit(ADP_Stopped_ApplicationExit)
const MAX_LINE = 10_000; // as wokwi-cli's ExpectEngine

const ENGINES = {
  avr: { create: createAvrMachine, partId: 'uno', board: 'Arduino Uno' },
  rp2040: { create: createRp2040Machine, partId: 'pico', board: 'Raspberry Pi Pico' },
};
const LOCAL_STEPS = ['wait-serial', 'delay', 'write-serial', 'expect-pin'];
// wokwi-cli's other step commands: valid in a scenario, but they need the Wokwi cloud.
const CLOUD_STEPS = ['set-control', 'wait-pin', 'take-screenshot', 'expect-chip-output', 'touch', 'touch-move',
  'touch-press', 'touch-release'];

class StepError extends Error {}

function parseArgs(argv) {
  const args = {
    engine: null, elf: null, firmware: null, steps: null, timeout: 30_000, partId: null, verbose: false, quiet: false,
  };
  const value = (i, name) => {
    if (i >= argv.length) throw new UsageError(`${name} needs a value`);
    return argv[i];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--engine') args.engine = value(++i, a);
    else if (a === '--elf') args.elf = value(++i, a);
    else if (a === '--firmware') args.firmware = value(++i, a);
    else if (a === '--steps') args.steps = value(++i, a);
    else if (a === '--part-id') args.partId = value(++i, a);
    else if (a === '--timeout') {
      args.timeout = Number(value(++i, a));
      if (!Number.isFinite(args.timeout) || args.timeout < 0) {
        throw new UsageError('--timeout needs a number of simulated milliseconds (0: none)');
      }
    } else if (a === '--verbose' || a === '-v') args.verbose = true;
    else if (a === '--quiet' || a === '-q') args.quiet = true;
    else throw new UsageError(`unknown argument ${a}`);
  }
  if (!args.engine || !args.elf || !args.steps) {
    throw new UsageError('usage: node scenario.mjs --engine avr|rp2040 --elf FIRMWARE.elf --steps STEPS.json ' +
      '[--firmware FIRMWARE.uf2|.hex] [--timeout MS] [--part-id ID] [--verbose] [--quiet]');
  }
  if (!(args.engine in ENGINES)) {
    throw new UsageError(`unknown engine ${args.engine}: avr (Arduino Uno) or rp2040 (Raspberry Pi Pico)`);
  }
  return args;
}

function readSteps(path) {
  let data;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read the steps file ${path}: ${err.message}`);
  }
  const steps = Array.isArray(data) ? data : data && data.steps;
  if (!Array.isArray(steps)) throw new UsageError(`${path}: expected a list of steps or {"steps": [...]}`);
  return { steps, partId: Array.isArray(data) ? null : data.part_id ?? null };
}

const TIME = /^(\d+(\.\d*)?)\s*(ns|us|ms|s)$|^0(\.?0*)$/i;
const NANOS = { ns: 1, us: 1e3, ms: 1e6, s: 1e9 };

/** wokwi-cli's parseTime: nanoseconds; units are required except for 0. */
function parseTime(text) {
  const m = TIME.exec(String(text).trim());
  if (!m) {
    throw new StepError(Number.isNaN(parseFloat(text)) ? `invalid time: ${text}` : `missing units: ${text} (e.g. ${text}ms)`);
  }
  return m[1] === undefined ? 0 : parseFloat(m[1]) * NANOS[m[3].toLowerCase()];
}

const latin1 = (bytes) => Buffer.from(bytes).toString('latin1');
const utf8 = (text) => new TextEncoder().encode(text);
const quote = (text) => JSON.stringify(String(text));

/** Checks every step before the simulation starts; returns [{ key, value, name }]. */
function checkSteps(steps) {
  return steps.map((step, i) => {
    const where = `step ${i + 1}`;
    if (step === null || typeof step !== 'object' || Array.isArray(step)) {
      throw new StepError(`${where}: a step must be a mapping such as {wait-serial: 'text'}`);
    }
    const keys = Object.keys(step).filter((k) => k !== 'name');
    for (const key of keys) {
      if (CLOUD_STEPS.includes(key)) {
        throw new StepError(`${where}: '${key}' needs the Wokwi cloud (wokwi-cli with WOKWI_CLI_TOKEN); ` +
          `the local engines run ${LOCAL_STEPS.join(', ')}`);
      }
      if (!LOCAL_STEPS.includes(key)) throw new StepError(`${where}: invalid scenario step key: ${key}`);
    }
    if (keys.length !== 1) throw new StepError(`${where}: needs exactly one command, has ${keys.length}`);
    const key = keys[0];
    const value = step[key];
    if (key === 'wait-serial' && typeof value !== 'string') {
      throw new StepError(`${where}: wait-serial takes a string`);
    } else if (key === 'delay') {
      if (typeof value === 'number') {
        throw new StepError(`${where}: invalid delay value ${value}: the value must include units (e.g. ${value}ms)`);
      }
      if (typeof value !== 'string') throw new StepError(`${where}: delay value must be a string`);
      try {
        parseTime(value);
      } catch (err) {
        throw new StepError(`${where}: ${err.message}`);
      }
    } else if (key === 'write-serial') {
      if (Array.isArray(value)) {
        if (value.length === 0 || !value.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)) {
          throw new StepError(`${where}: write-serial array must hold at least one byte (0-255)`);
        }
      } else if (typeof value !== 'string') {
        throw new StepError(`${where}: write-serial takes a string or an array of bytes`);
      }
    } else if (key === 'expect-pin') {
      if (value === null || typeof value !== 'object' || !('part-id' in value) ||
          !('pin' in value || 'name' in value) || !('value' in value)) {
        throw new StepError(`${where}: expect-pin needs part-id, pin and value`);
      }
      if (value.value !== 0 && value.value !== 1) {
        throw new StepError(`${where}: expect-pin value must be 0 or 1, not ${JSON.stringify(value.value)}`);
      }
    }
    return { key, value, name: step.name };
  });
}

async function scenario(args) {
  const engine = ENGINES[args.engine];
  const { steps: rawSteps, partId: filePartId } = readSteps(args.steps);
  const partId = args.partId ?? filePartId ?? engine.partId;
  const out = {
    status: 'fail', message: '', serial: '', cycles: 0, sim_time_ns: 0, steps_done: 0, steps_total: rawSteps.length,
    failed_step: null, engine: null, clock_hz: null, uart_baud: null, instructions: 0, exit_reason: null, fault: null,
    inferences: 0, cycles_per_inference: null, serial_rx_bytes: 0, serial_rx_dropped: 0,
  };
  let steps;
  try {
    steps = checkSteps(rawSteps);
  } catch (err) {
    if (!(err instanceof StepError)) throw err;
    out.message = err.message;
    out.failed_step = Number(/^step (\d+)/.exec(err.message)?.[1]) || null;
    return [EXIT_FAIL, out];
  }

  const image = readElf(args.elf);
  if (args.firmware !== null) image.segments = readFirmware(args.firmware);
  const machine = await engine.create(args.elf, image, { scenario: true });
  const timeoutNs = args.timeout > 0 ? args.timeout * 1e6 : Infinity;
  const ms = (ns) => `${(ns / 1e6).toFixed(3)} ms`;
  const log = (text) => {
    if (args.verbose) process.stderr.write(`[scenario ${ms(machine.nanos)}] ${text}\n`);
  };

  // Serial out: echoed line by line; each completed line is offered to the wait-serial
  // in progress, which halts the simulation right after the '\n' that completes it.
  const serial = [];
  let line = '';
  let lastLine = '';
  let expect = null;
  let matched = false;
  machine.onSerial = (byte) => {
    serial.push(byte);
    if (byte === 10) {
      if (!args.quiet) process.stdout.write(line + '\n');
      if (expect !== null && line.includes(expect)) {
        expect = null;
        matched = true;
        machine.halt();
      }
      lastLine = line;
      line = '';
    } else if (line.length < MAX_LINE) {
      line += String.fromCharCode(byte);
    }
  };

  const finish = (code, status, message, failedStep = null) => {
    if (!args.quiet && line.length > 0) process.stdout.write(line + '\n');
    const { session } = machine;
    const pairs = session.pairs;
    const calibration = pairs.length > 0 ? pairs[0].cycles : 0;
    const measured = pairs.slice(1).map((p) => p.cycles - calibration);
    Object.assign(out, {
      status, message, failed_step: failedStep,
      serial: Buffer.from(serial).toString('utf8'),
      cycles: machine.cycles,
      sim_time_ns: Math.round(machine.nanos),
      engine: machine.engine,
      clock_hz: machine.clockHz,
      uart_baud: machine.baud ?? null,
      instructions: machine.instructions,
      exit_reason: session.exitReason,
      fault: session.fault,
      inferences: measured.length,
      cycles_per_inference: measured.length ? Math.round(measured.reduce((a, b) => a + b, 0) / measured.length) : null,
      serial_rx_bytes: machine.serialIn.delivered,
      serial_rx_dropped: machine.serialIn.dropped,
    });
    return [code, out];
  };
  const faultMessage = () => {
    const f = machine.session.fault;
    const pc = f.pc === null || f.pc === undefined ? '' : ` (pc 0x${(f.pc >>> 0).toString(16)})`;
    return `guest fault ${f.kind}: ${f.message}${pc}`;
  };
  const timedOut = (i, what) => {
    const { exitReason } = machine.session;
    let state = '';
    if (exitReason === EXIT_SUCCESS_REASON) state = '; the firmware had finished (parked in tm_exit)';
    else if (exitReason !== null) state = `; the firmware stopped with exit reason 0x${exitReason.toString(16)}`;
    const last = lastLine ? `; last serial line ${quote(lastLine)}` : '; no serial line yet';
    return finish(EXIT_TIMEOUT, 'timeout', `Timeout: simulation did not finish in ${args.timeout}ms ` +
      `(step ${i + 1} of ${steps.length}, ${what}${last}${state})`, i + 1);
  };

  for (let i = 0; i < steps.length; i++) {
    const { key, value, name } = steps[i];
    if (name) log(`step ${i + 1}: ${name}`);
    if (key === 'wait-serial') {
      expect = latin1(utf8(value));
      matched = false;
      while (!matched) {
        const stop = machine.run({ untilNanos: timeoutNs });
        if (matched) break;
        if (stop === 'fault') return finish(EXIT_FAIL, 'fail', faultMessage(), i + 1);
        if (stop === 'time') return timedOut(i, `wait-serial ${quote(value)}`);
      }
      log(`expected text matched: ${quote(value)}`);
    } else if (key === 'delay') {
      const target = machine.nanos + parseTime(value);
      const until = Math.min(target, timeoutNs);
      for (;;) {
        const stop = machine.run({ untilNanos: until });
        if (stop === 'fault') return finish(EXIT_FAIL, 'fail', faultMessage(), i + 1);
        if (stop === 'time') break;
      }
      if (target > timeoutNs) return timedOut(i, `delay ${value}`);
      log(`delay ${value}`);
    } else if (key === 'write-serial') {
      const bytes = Array.isArray(value) ? value : [...utf8(value)];
      machine.writeSerial(bytes);
      log(`write-serial ${bytes.length} bytes`);
    } else if (key === 'expect-pin') {
      const part = value['part-id'];
      const pinName = value.pin ?? value.name;
      const expected = value.value;
      if (part !== partId) {
        return finish(EXIT_FAIL, 'fail', `step ${i + 1}: expect-pin: no part '${part}'; the local engines ` +
          `simulate only the board, '${partId}' (${engine.board})`, i + 1);
      }
      const actual = machine.readPin(pinName);
      if (actual === null) {
        return finish(EXIT_FAIL, 'fail', `step ${i + 1}: expect-pin: ${engine.board} has no pin ` +
          `'${pinName}' (pins: ${machine.pinNames.join(', ')})`, i + 1);
      }
      if (actual !== expected) {
        return finish(EXIT_FAIL, 'fail', `[${Math.round(machine.nanos)}ns] GPIO ${part}:${pinName} expected to be ` +
          `${expected} but was ${actual} (step ${i + 1})`, i + 1);
      }
      log(`expect-pin ${part}:${pinName} == ${expected}`);
    }
    out.steps_done = i + 1;
  }
  return finish(EXIT_PASS, 'pass', 'Scenario completed successfully');
}

try {
  const args = parseArgs(process.argv.slice(2));
  const [code, result] = await scenario(args);
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exitCode = code;
} catch (err) {
  if (err instanceof UsageError || err instanceof ElfError || err instanceof FirmwareError) {
    process.stderr.write(`error: ${err.message}\n`);
    process.exitCode = EXIT_USAGE;
  } else {
    process.stderr.write(`error: internal error in the scenario runner: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 3;
  }
}
