/**
 * The tar format of backup chunks: POSIX ustar, readable by `tar -x` alone. A chunk is a sequence of
 * regular files, each a 512-byte header followed by its bytes padded to 512, then two zero blocks.
 *
 * ```
 * header (512 B): name[100] mode[8] uid[8] gid[8] size[12] mtime[12] chksum[8] typeflag[1]
 *                 linkname[100] magic[6]="ustar\0" version[2]="00" uname[32] gname[32]
 *                 devmajor[8] devminor[8] prefix[155] pad[12]
 * ```
 *
 * Sizes of 8 GiB and more use GNU's base-256 size field (first byte 0x80), which GNU tar and bsdtar
 * read. Names over 100 bytes are split into prefix and name at a "/"; a name that cannot be split
 * (a class name may have 255 characters) is carried by a POSIX pax header (`path=`) before its entry.
 * Written and read as streams, so memory does not grow with the archive.
 */

import { BackupCorruptError, quoted } from '../errors.js';

const BLOCK = 512;
const OCTAL_SIZE_LIMIT = 8 * 1024 ** 3;

/** A file to put in an archive. */
export interface TarEntry {
  readonly name: string;
  readonly size: number;
  readonly mtime: Date;
  readonly content: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

function writeOctal(header: Buffer, offset: number, length: number, value: number): void {
  header.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'latin1');
}

function writeSize(header: Buffer, size: number): void {
  if (size < OCTAL_SIZE_LIMIT) {
    writeOctal(header, 124, 12, size);
    return;
  }
  header[124] = 0x80;
  let rest = BigInt(size);
  for (let i = 135; i > 124; i--) {
    header[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
}

/** `name` as ustar's prefix and name fields, or undefined when it does not fit them. */
function ustarName(name: string): { prefix: string; base: string } | undefined {
  if (Buffer.byteLength(name) <= 100) return { prefix: '', base: name };
  for (let cut = name.indexOf('/'); cut > 0; cut = name.indexOf('/', cut + 1)) {
    const prefix = name.slice(0, cut);
    const base = name.slice(cut + 1);
    if (Buffer.byteLength(prefix) > 155) return undefined;
    if (Buffer.byteLength(base) <= 100) return { prefix, base };
  }
  return undefined;
}

/** A pax extended header record: `<length> path=<name>\n`, where the length counts itself. */
function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length++;
  return Buffer.from(`${length}${body}`);
}

function header(prefix: string, base: string, size: number, mtime: Date, type: '0' | 'x'): Buffer {
  const header = Buffer.alloc(BLOCK);
  header.write(base, 0, 100, 'utf8');
  writeOctal(header, 100, 8, 0o644);
  writeOctal(header, 108, 8, 0);
  writeOctal(header, 116, 8, 0);
  writeSize(header, size);
  writeOctal(header, 136, 12, Math.floor(mtime.getTime() / 1000));
  header.write('        ', 148, 8, 'latin1');
  header.write(type, 156, 1, 'latin1');
  header.write('ustar\0', 257, 6, 'latin1');
  header.write('00', 263, 2, 'latin1');
  header.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return header;
}

/** The header block(s) of a regular file: a pax header first when the name does not fit ustar. */
export function tarHeader(name: string, size: number, mtime: Date): Buffer {
  const fitted = ustarName(name);
  if (fitted !== undefined) return header(fitted.prefix, fitted.base, size, mtime, '0');
  const record = paxRecord('path', name);
  const padding = Buffer.alloc((BLOCK - (record.length % BLOCK)) % BLOCK);
  // The ustar fields get a shortened name, which tools without pax support fall back to.
  const short = Buffer.from(name)
    .subarray(-100)
    .toString('utf8')
    .replace(/^\uFFFD+/, '');
  return Buffer.concat([
    header('', 'PaxHeader', record.length, mtime, 'x'),
    record,
    padding,
    header('', short, size, mtime, '0'),
  ]);
}

/** The archive of `entries`, as a stream of buffers. Each entry's content must have exactly its size. */
export async function* tarStream(entries: AsyncIterable<TarEntry> | Iterable<TarEntry>): AsyncIterable<Buffer> {
  for await (const entry of entries) {
    yield tarHeader(entry.name, entry.size, entry.mtime);
    let written = 0;
    for await (const chunk of entry.content) {
      written += chunk.length;
      yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
    if (written !== entry.size)
      throw new Error(`tar: ${entry.name} changed while archived (${written} of ${entry.size} bytes)`);
    const padding = (BLOCK - (entry.size % BLOCK)) % BLOCK;
    if (padding > 0) yield Buffer.alloc(padding);
  }
  yield Buffer.alloc(2 * BLOCK);
}

/** Where an extracted entry's bytes go. */
export interface EntrySink {
  write(chunk: Buffer): Promise<void>;
  end(): Promise<void>;
  /** Called instead of `end` when the archive fails part-way through the entry. */
  abort(): Promise<void>;
}

function readSize(header: Buffer): number {
  if (((header[124] as number) & 0x80) !== 0) {
    let size = 0n;
    for (let i = 125; i < 136; i++) size = (size << 8n) | BigInt(header[i] as number);
    return Number(size);
  }
  return Number.parseInt(header.toString('latin1', 124, 136).replace(/\0.*$/, '').trim() || '0', 8);
}

function parseHeader(header: Buffer, where: string): { name: string; size: number; type: string } {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (header[i] as number);
  const recorded = Number.parseInt(header.toString('latin1', 148, 156).replace(/\0.*$/, '').trim(), 8);
  if (sum !== recorded) throw new BackupCorruptError(where, 'tar header checksum mismatch');
  const field = (start: number, end: number) => header.toString('utf8', start, end).replace(/\0.*$/s, '');
  const prefix = field(345, 500);
  const name = field(0, 100);
  return { name: prefix === '' ? name : `${prefix}/${name}`, size: readSize(header), type: field(156, 157) || '0' };
}

interface OpenEntry {
  readonly sink: EntrySink;
  remaining: number;
  readonly padding: number;
}

interface ReadState {
  entry: OpenEntry | undefined;
  /** The name a pax header gave the next entry. */
  paxPath: string | undefined;
}

/** Pax headers are small; a larger one is not from a Strata backup. */
const MAX_PAX_BYTES = 64 * 1024;
/** Zero bytes allowed after the end-of-archive blocks (GNU tar pads to 10 KiB records). */
const MAX_TRAILING_BYTES = 1024 * 1024;

/** Collects a pax header's records and hands the `path` record to `state`. */
function paxSink(state: ReadState, where: string): EntrySink {
  const parts: Buffer[] = [];
  return {
    async write(chunk) {
      parts.push(Buffer.from(chunk));
    },
    async abort() {},
    async end() {
      const records = Buffer.concat(parts);
      for (let offset = 0; offset < records.length; ) {
        const space = records.indexOf(0x20, offset);
        const length = Number.parseInt(records.toString('latin1', offset, space), 10);
        const next = offset + length;
        if (space < 0 || !(length > 0) || next > records.length || records[next - 1] !== 0x0a) {
          throw new BackupCorruptError(where, 'malformed pax header');
        }
        const record = records.toString('utf8', space + 1, next - 1);
        const equals = record.indexOf('=');
        if (record.slice(0, equals) === 'path') state.paxPath = record.slice(equals + 1);
        offset = next;
      }
    },
  };
}

/**
 * Reads an archive from `source`, handing each regular file's bytes to the sink `open` returns. The
 * archive must end with its two zero blocks: a truncated stream is corrupt, not a shorter archive.
 * If reading fails part-way through an entry, that entry's sink is aborted. `where` names the archive
 * in errors. `source`'s pieces are read in place and handed to the sinks as views: a piece must not
 * change once yielded.
 */
export async function extractTar(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  open: (name: string, size: number) => Promise<EntrySink>,
  where: string,
): Promise<void> {
  const state: ReadState = { entry: undefined, paxPath: undefined };
  try {
    await readEntries(source, open, where, state);
  } catch (error) {
    await state.entry?.sink.abort();
    throw error;
  }
}

async function readEntries(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  open: (name: string, size: number) => Promise<EntrySink>,
  where: string,
  state: ReadState,
): Promise<void> {
  let pending: Buffer = Buffer.alloc(0);
  let ended = false;
  let trailing = 0;
  for await (const piece of source) {
    // A view, not a copy (a copy of every byte cost a restore's workers a tenth of their time).
    const view = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    pending = pending.length === 0 ? view : Buffer.concat([pending, view]);
    for (;;) {
      if (ended) {
        // After the end-of-archive blocks only padding may follow, and only so much of it: a stream
        // that goes on decompressing is not padding.
        trailing += pending.length;
        if (trailing > MAX_TRAILING_BYTES || !pending.every((byte) => byte === 0)) {
          throw new BackupCorruptError(where, 'data follows the end of the archive');
        }
        pending = Buffer.alloc(0);
        break;
      }
      const entry = state.entry;
      if (entry !== undefined) {
        if (entry.remaining > 0) {
          if (pending.length === 0) break;
          const take = Math.min(entry.remaining, pending.length);
          await entry.sink.write(pending.subarray(0, take));
          entry.remaining -= take;
          pending = pending.subarray(take);
          continue;
        }
        if (pending.length < entry.padding) break;
        pending = pending.subarray(entry.padding);
        state.entry = undefined;
        await entry.sink.end();
        continue;
      }
      if (pending.length < BLOCK) break;
      const header = pending.subarray(0, BLOCK);
      if (header.every((byte) => byte === 0)) {
        ended = true;
        continue;
      }
      const { name, size, type } = parseHeader(header, where);
      pending = pending.subarray(BLOCK);
      const padding = (BLOCK - (size % BLOCK)) % BLOCK;
      if (type === 'x') {
        if (size > MAX_PAX_BYTES) throw new BackupCorruptError(where, `a pax header of ${size} bytes`);
        state.entry = { sink: paxSink(state, where), remaining: size, padding };
        continue;
      }
      if (type !== '0')
        throw new BackupCorruptError(where, `unexpected tar entry type ${quoted(type)} for ${quoted(name)}`);
      const path = state.paxPath ?? name;
      state.paxPath = undefined;
      state.entry = { sink: await open(path, size), remaining: size, padding };
    }
  }
  if (!ended) throw new BackupCorruptError(where, 'the archive is truncated');
}
