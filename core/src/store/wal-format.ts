import { CorruptionError } from '../errors.js';
import { checksum, readVarint, varintLength, writeVarint } from './encoding.js';

/**
 * The write-ahead log record format. A WAL file is a sequence of records; each holds one batch of
 * operations, applied all together or not at all.
 *
 * ```
 *  0        4        8    9
 *  +--------+--------+----+--------------------------------------+
 *  | crc32  | length | ty | payload (length bytes)               |
 *  +--------+--------+----+--------------------------------------+
 *  crc32  u32 LE: CRC-32 of bytes 4 .. 9+length (length, type and payload), so a damaged length is caught
 *  length u32 LE: payload bytes
 *  ty     u8:     RECORD_BATCH
 *
 *  payload: count varint, then per operation
 *    op u8 (OP_PUT | OP_DELETE), keyLen varint, key (internal key), and for OP_PUT: valueLen varint, value
 * ```
 *
 * Part of the on-disk format: these constants never change meaning. A new record type gets a new
 * number; a retired one keeps its number.
 */
export const RECORD_HEADER_BYTES = 9;
export const RECORD_BATCH = 1;
export const OP_PUT = 1;
export const OP_DELETE = 2;

/** One operation of a batch. `value` is undefined for a delete (a tombstone). */
export interface Operation {
  readonly key: Buffer;
  readonly value: Buffer | undefined;
}

/**
 * Encodes a batch as one WAL record in memory from `allocate`, and returns the operations again as
 * views of the record's bytes: what the memtable keeps (see record-arena.ts). Keeping the caller's
 * buffers instead let a caller that reuses its buffer change a value after it was written.
 */
export function encodeRecord(
  operations: readonly Operation[],
  allocate: (bytes: number) => Buffer = Buffer.allocUnsafeSlow,
): { record: Buffer; views: Operation[] } {
  let length = varintLength(operations.length);
  for (const { key, value } of operations) {
    length += 1 + varintLength(key.length) + key.length;
    if (value !== undefined) length += varintLength(value.length) + value.length;
  }
  const record = allocate(RECORD_HEADER_BYTES + length);
  record.writeUInt32LE(length, 4);
  record[8] = RECORD_BATCH;
  const views: Operation[] = new Array(operations.length);
  let at = writeVarint(record, RECORD_HEADER_BYTES, operations.length);
  for (let i = 0; i < operations.length; i++) {
    const { key, value } = operations[i] as Operation;
    record[at++] = value === undefined ? OP_DELETE : OP_PUT;
    at = writeVarint(record, at, key.length);
    const keyStart = at;
    at += key.copy(record, at);
    let valueView: Buffer | undefined;
    if (value !== undefined) {
      at = writeVarint(record, at, value.length);
      valueView = record.subarray(at, at + value.length);
      at += value.copy(record, at);
    }
    views[i] = { key: record.subarray(keyStart, keyStart + key.length), value: valueView };
  }
  record.writeUInt32LE(checksum(record.subarray(4)), 0);
  return { record, views };
}

/** Decodes a batch payload, or returns undefined if it does not parse. */
function decodePayload(payload: Buffer): Operation[] | undefined {
  const n = { value: 0 };
  let at = readVarint(payload, 0, n);
  if (at < 0) return undefined;
  const operations: Operation[] = [];
  for (let i = n.value; i > 0; i--) {
    const op = payload[at++];
    if (op !== OP_PUT && op !== OP_DELETE) return undefined;
    at = readVarint(payload, at, n);
    if (at < 0 || at + n.value > payload.length) return undefined;
    const key = payload.subarray(at, at + n.value);
    at += n.value;
    let value: Buffer | undefined;
    if (op === OP_PUT) {
      at = readVarint(payload, at, n);
      if (at < 0 || at + n.value > payload.length) return undefined;
      value = payload.subarray(at, at + n.value);
      at += n.value;
    }
    operations.push({ key, value });
  }
  return at === payload.length ? operations : undefined;
}

/** The batch of a valid record at `offset` and where the record ends, or undefined. */
function recordAt(data: Buffer, offset: number): { operations: Operation[]; end: number } | undefined {
  if (offset + RECORD_HEADER_BYTES > data.length) return undefined;
  const length = data.readUInt32LE(offset + 4);
  const end = offset + RECORD_HEADER_BYTES + length;
  if (end > data.length || data[offset + 8] !== RECORD_BATCH) return undefined;
  if (checksum(data.subarray(offset + 4, end)) !== data.readUInt32LE(offset)) return undefined;
  const operations = decodePayload(data.subarray(offset + RECORD_HEADER_BYTES, end));
  return operations === undefined ? undefined : { operations, end };
}

/** What a WAL holds: its batches in order, and whether a torn tail was dropped. */
export interface WalContents {
  readonly batches: Operation[][];
  /** Bytes of valid records; anything after is a torn tail. */
  readonly validLength: number;
}

/**
 * Reads every record of a WAL. A record that fails its checksum or does not parse ends the log: if
 * no valid record follows it, it is a torn tail (a write cut short by a crash) and is dropped, never
 * misread as data. If a valid record does follow, acknowledged writes sit beyond the damage, and the
 * log is reported as corrupt instead of silently losing them.
 */
export function readWal(data: Buffer, file: string): WalContents {
  const batches: Operation[][] = [];
  let offset = 0;
  while (offset < data.length) {
    const record = recordAt(data, offset);
    if (record === undefined) break;
    batches.push(record.operations);
    offset = record.end;
  }
  for (let probe = offset + 1; probe + RECORD_HEADER_BYTES <= data.length; probe++) {
    if (data[probe + 8] === RECORD_BATCH && recordAt(data, probe) !== undefined) {
      throw new CorruptionError(file, `damaged record at byte ${offset}, followed by valid records at byte ${probe}`);
    }
  }
  return { batches, validLength: offset };
}
