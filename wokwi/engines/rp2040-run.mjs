// Runs a Raspberry Pi Pico (RP2040) firmware ELF built with the firmware/ harness on
// Wokwi's rp2040js engine, core 0 only and without the bootrom, and prints one JSON
// line: marker pairs with exact instruction and cycle counts, console output (UART0),
// stack peak, exit reason or fault.
//
//     node wokwi/engines/rp2040-run.mjs firmware.elf [--limit N]
//
// The machine (memory map, fault traps, markers) is in rp2040-machine.mjs.
import { main } from './common.mjs';
import { createRp2040Machine } from './rp2040-machine.mjs';

const DEFAULT_LIMIT = 200_000_000; // as the Python side's default for the Node engines

await main(DEFAULT_LIMIT, async ({ elf, image, limit }) => {
  const machine = await createRp2040Machine(elf, image);
  machine.run({ limit });
  return machine.result();
});
