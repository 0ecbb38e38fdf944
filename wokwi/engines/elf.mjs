// Minimal ELF32 little-endian reader: load segments, symbols and layer markers, enough
// to run firmware on an emulator without the cross toolchain.
import { readFileSync } from 'node:fs';

const PT_LOAD = 1;
const SHT_SYMTAB = 2;
const LAYERS_SECTION = '.tm_layers';

export class ElfError extends Error {}

/**
 * Reads `path`; returns { machine, entry, segments: [{ address, data }], symbols: Map,
 * layerMarks: [{ address, index }] } (layer markers: section .tm_layers, emulation/layers.py).
 * Segments are placed at their physical (load) address, so the flash image of
 * initialised data comes out where the start-up code copies it from.
 */
export function readElf(path) {
  let buf;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new ElfError(`firmware ${path} not found`);
  }
  if (buf.length < 52 || buf.readUInt32BE(0) !== 0x7f454c46) {
    throw new ElfError(`${path} is not a valid ELF`);
  }
  if (buf[4] !== 1 || buf[5] !== 1) {
    throw new ElfError(`${path} is not a 32-bit little-endian ELF`);
  }
  const machine = buf.readUInt16LE(18);
  const entry = buf.readUInt32LE(24);
  const phoff = buf.readUInt32LE(28);
  const shoff = buf.readUInt32LE(32);
  const phentsize = buf.readUInt16LE(42);
  const phnum = buf.readUInt16LE(44);
  const shentsize = buf.readUInt16LE(46);
  const shnum = buf.readUInt16LE(48);

  const segments = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    const type = buf.readUInt32LE(p);
    const offset = buf.readUInt32LE(p + 4);
    const paddr = buf.readUInt32LE(p + 12);
    const filesz = buf.readUInt32LE(p + 16);
    if (type === PT_LOAD && filesz > 0) {
      segments.push({ address: paddr, data: buf.subarray(offset, offset + filesz) });
    }
  }

  const shstrndx = buf.readUInt16LE(50);
  const names = shstrndx < shnum ? buf.readUInt32LE(shoff + shstrndx * shentsize + 16) : 0;
  const layerMarks = [];
  const symbols = new Map();
  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * shentsize;
    const nameAt = names + buf.readUInt32LE(h);
    if (names && buf.toString('latin1', nameAt, buf.indexOf(0, nameAt)) === LAYERS_SECTION) {
      const offset = buf.readUInt32LE(h + 16);
      const size = buf.readUInt32LE(h + 20);
      for (let e = offset; e + 8 <= offset + size; e += 8) {
        layerMarks.push({ address: buf.readUInt32LE(e) & ~1, index: buf.readUInt32LE(e + 4) });
      }
    }
  }
  for (let i = 0; i < shnum; i++) {
    const s = shoff + i * shentsize;
    if (buf.readUInt32LE(s + 4) !== SHT_SYMTAB) continue;
    const offset = buf.readUInt32LE(s + 16);
    const size = buf.readUInt32LE(s + 20);
    const link = buf.readUInt32LE(s + 24);
    const entsize = buf.readUInt32LE(s + 36) || 16;
    const strOffset = buf.readUInt32LE(shoff + link * shentsize + 16);
    for (let e = offset; e + entsize <= offset + size; e += entsize) {
      const nameOffset = buf.readUInt32LE(e);
      if (!nameOffset) continue;
      const start = strOffset + nameOffset;
      const name = buf.toString('latin1', start, buf.indexOf(0, start));
      if (!symbols.has(name)) symbols.set(name, buf.readUInt32LE(e + 4));
    }
  }
  return { machine, entry, segments, symbols, layerMarks };
}
