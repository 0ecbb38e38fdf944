// Runs an ATmega328P (Arduino Uno) firmware ELF built with the firmware/ harness on
// Wokwi's avr8js engine and prints one JSON line: marker pairs with exact instruction
// and cycle counts, console output (USART0), stack peak, exit reason or fault.
//
//     node wokwi/engines/avr-run.mjs firmware.elf [--limit N]
//
// The machine (memory, peripherals, fault traps, markers) is in avr-machine.mjs.
import { createAvrMachine } from './avr-machine.mjs';
import { main } from './common.mjs';

const DEFAULT_LIMIT = 200_000_000; // as the Python side's default for the Node engines

await main(DEFAULT_LIMIT, async ({ elf, image, limit }) => {
  const machine = await createAvrMachine(elf, image);
  machine.run({ limit });
  return machine.result();
});
