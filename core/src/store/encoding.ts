import { crc32 } from 'node:zlib';

/** CRC-32 (IEEE) of `data`, from zlib's native implementation. */
export function checksum(data: Uint8Array): number {
  return crc32(data);
}

/** Bytes needed to encode `value` as an unsigned LEB128 varint. */
export function varintLength(value: number): number {
  let length = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 128)) length++;
  return length;
}

/** Writes `value` (0 to 2^53) as an unsigned LEB128 varint at `offset`; returns the offset after it. */
export function writeVarint(buffer: Uint8Array, offset: number, value: number): number {
  let rest = value;
  let at = offset;
  while (rest >= 0x80) {
    buffer[at++] = (rest % 128) | 0x80;
    rest = Math.floor(rest / 128);
  }
  buffer[at++] = rest;
  return at;
}

/**
 * Reads an unsigned LEB128 varint at `offset` into `out.value` and returns the offset after it, or -1
 * when the buffer ends first or the varint is longer than 8 bytes (so a reader can tell a truncated
 * or corrupt record from data).
 */
export function readVarint(buffer: Uint8Array, offset: number, out: { value: number }): number {
  let value = 0;
  let scale = 1;
  for (let at = offset; at < buffer.length && at < offset + 8; at++) {
    const byte = buffer[at] as number;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      out.value = value;
      return at + 1;
    }
    scale *= 128;
  }
  return -1;
}
