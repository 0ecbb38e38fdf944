// The firmware files a Wokwi project names in wokwi.toml, read as the simulator (and the
// chip's own loader) would: UF2 for the Raspberry Pi Pico, Intel HEX for the Arduino Uno.
// Each reader returns load segments [{ address, data }] like readElf's, so a run can take
// its flash contents from exactly the file Wokwi would load and its symbols from the ELF.
import { readFileSync } from 'node:fs';

export class FirmwareError extends Error {}

const UF2_MAGIC_START0 = 0x0a324655;
const UF2_MAGIC_START1 = 0x9e5d5157;
const UF2_MAGIC_END = 0x0ab16f30;
const UF2_FLAG_NOT_MAIN_FLASH = 0x00000001;
const UF2_FLAG_FAMILY_ID = 0x00002000;
const UF2_BLOCK = 512;
export const RP2040_FAMILY_ID = 0xe48bff56;

function readBytes(path) {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new FirmwareError(`firmware ${path} not found`);
  }
}

/**
 * UF2 blocks for `familyId`, with the RP2040 bootrom's rules: 256-byte payloads at
 * 256-byte-aligned flash addresses, block numbers 0..n-1 of one file.
 */
export function readUf2(path, { familyId = RP2040_FAMILY_ID, pageBytes = 256 } = {}) {
  const buf = readBytes(path);
  if (buf.length === 0 || buf.length % UF2_BLOCK !== 0) {
    throw new FirmwareError(`${path} is not a UF2 file (${buf.length} bytes, not a multiple of 512)`);
  }
  const segments = [];
  const count = buf.length / UF2_BLOCK;
  for (let n = 0; n < count; n++) {
    const b = n * UF2_BLOCK;
    const word = (i) => buf.readUInt32LE(b + 4 * i);
    const where = `${path}: block ${n}`;
    if (word(0) !== UF2_MAGIC_START0 || word(1) !== UF2_MAGIC_START1 || buf.readUInt32LE(b + 508) !== UF2_MAGIC_END) {
      throw new FirmwareError(`${where} has no UF2 magic numbers`);
    }
    const [flags, address, size, blockNo, numBlocks, family] = [word(2), word(3), word(4), word(5), word(6), word(7)];
    if (flags & UF2_FLAG_NOT_MAIN_FLASH) continue;
    if (!(flags & UF2_FLAG_FAMILY_ID) || family !== familyId) {
      throw new FirmwareError(`${where} is not for family 0x${familyId.toString(16)} ` +
        `(flags 0x${flags.toString(16)}, family 0x${family.toString(16)}): the bootrom ignores it`);
    }
    if (size !== pageBytes || address % pageBytes !== 0) {
      throw new FirmwareError(`${where} carries ${size} bytes for 0x${address.toString(16)}; the bootrom takes ` +
        `only ${pageBytes}-byte pages at ${pageBytes}-byte-aligned addresses`);
    }
    if (blockNo !== n || numBlocks !== count) {
      throw new FirmwareError(`${where} says it is block ${blockNo} of ${numBlocks}; the file has ${count}`);
    }
    segments.push({ address, data: buf.subarray(b + 32, b + 32 + size) });
  }
  if (segments.length === 0) throw new FirmwareError(`${path} has no blocks for the main flash`);
  return segments;
}

/** Intel HEX records 00 (data), 01 (end), 02 and 04 (segment and linear base addresses). */
export function readIntelHex(path) {
  const text = readBytes(path).toString('latin1');
  const segments = [];
  let base = 0;
  let ended = false;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length && !ended; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const where = `${path}:${i + 1}`;
    if (!/^:([0-9a-fA-F]{2})+$/.test(line)) throw new FirmwareError(`${where}: not an Intel HEX record`);
    const bytes = Buffer.from(line.slice(1), 'hex');
    const length = bytes[0];
    if (bytes.length !== length + 5) throw new FirmwareError(`${where}: record length ${length} does not match`);
    if (bytes.reduce((a, v) => (a + v) & 0xff, 0) !== 0) throw new FirmwareError(`${where}: bad checksum`);
    const offset = bytes.readUInt16BE(1);
    const type = bytes[3];
    const data = bytes.subarray(4, 4 + length);
    if (type === 0x00) segments.push({ address: base + offset, data });
    else if (type === 0x01) ended = true;
    else if (type === 0x02) base = data.readUInt16BE(0) * 16;
    else if (type === 0x04) base = data.readUInt16BE(0) * 0x10000;
    else if (type !== 0x03 && type !== 0x05) throw new FirmwareError(`${where}: unknown record type ${type}`);
  }
  if (!ended) throw new FirmwareError(`${path} has no end-of-file record`);
  return segments;
}

/** Segments of a .uf2 or .hex file, by its extension. */
export function readFirmware(path) {
  if (/\.uf2$/i.test(path)) return readUf2(path);
  if (/\.hex$/i.test(path)) return readIntelHex(path);
  throw new FirmwareError(`${path}: firmware must be a .uf2 (Raspberry Pi Pico) or .hex (Arduino Uno) file`);
}
