import secureJson from 'secure-json-parse';
import { BodyValueTooLargeError, InvalidJsonError, JsonTooDeepError } from './errors.js';
import { TimeSlice } from './time-slice.js';

/**
 * The deepest nesting of arrays and objects a request body may have, by default. Weaviate's Go JSON decoder
 * stops at 10,000 levels; Strata at far fewer, because validating and serialising a document recurse
 * once per level, and a body of a few hundred thousand `[` overflowed the stack. Nested `object`
 * properties need far fewer.
 */
export const MAX_JSON_DEPTH = 64;

/** What {@link parseJson} is told, all optional. */
export interface ParseJsonOptions {
  /** The piece size; tests make it small to exercise pieces on small documents. */
  readonly pieceBytes?: number;
  /** The deepest nesting allowed; default {@link MAX_JSON_DEPTH}. */
  readonly maxDepth?: number;
  /** The error for a document that is not JSON (default: a request body's InvalidJsonError). */
  readonly invalid?: (reason: string) => Error;
  /** The error for one nested too deep (default: a request body's JsonTooDeepError). */
  readonly tooDeep?: (limit: number, position: number) => Error;
  /**
   * What one value may hold, checked as the scan passes the limit, before any of it is parsed into one
   * value: arrays and objects nested deeper than `depth` span at most `bytes` (a batch's objects, at
   * depth 3), no string spans more than `bytes`, no object has more than `members` members and no
   * array more than `items` items.
   */
  readonly limits?: ValueLimits;
  /** The error for a value past `limits` (default: a request body's BodyValueTooLargeError). */
  readonly tooLarge?: (problem: string, position: number) => Error;
}

/** See {@link ParseJsonOptions.limits}. */
export interface ValueLimits {
  readonly depth: number;
  readonly bytes: number;
  readonly members: number;
  readonly items: number;
}

/** What the scanner found wrong: mapped to the caller's error at the end. */
class SyntaxProblem extends Error {}

/** Nesting past the limit, at a byte position. */
class DepthProblem extends Error {
  constructor(readonly position: number) {
    super('too deep');
  }
}

/** A value past the limits, described, starting at a byte position. */
class SizeProblem extends Error {
  constructor(
    readonly problem: string,
    readonly position: number,
  ) {
    super(problem);
  }
}

/**
 * Bodies are parsed in pieces of at most this many bytes, so that no JSON.parse call holds the event
 * loop for more than a few milliseconds (JSON.parse reads roughly 200 MB/s).
 */
export const JSON_PIECE_BYTES = 256 * 1024;

const SAFE = { protoAction: 'error', constructorAction: 'error' } as const;
const FORBIDDEN = 'Object contains forbidden prototype property';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/** What the scanner expects next: a value (after `[` also `]`), a key (after `{` also `}`), `:`, or `,` or an end. */
type Expect = 'value' | 'first value' | 'key' | 'first key' | 'colon' | 'next';

/** An array or object still open at the scanner's position. */
interface Frame {
  readonly array: boolean;
  /** Where its `[` or `{` is. */
  readonly start: number;
  /** The children not parsed yet: from the first one's start (a member's key) to the last one's end; -1: none. */
  runStart: number;
  runEnd: number;
  /** Its value so far, once it is known to be too large to parse in one piece. */
  value: unknown[] | Record<string, unknown> | undefined;
  /** Objects: the key of the member being read. */
  keyStart: number;
  keyEnd: number;
  /** Children seen before the one being read. */
  children: number;
}

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * Parses a JSON document (UTF-8: a request body, a backup descriptor) as JSON.parse would, with secure-json-parse's refusal of `__proto__`
 * and `constructor.prototype`, refusing nesting deeper than {@link MAX_JSON_DEPTH}, without holding
 * the event loop for long on a large document.
 *
 * One pass over the bytes tracks the open arrays and objects. A container that closes smaller than
 * {@link JSON_PIECE_BYTES} is only recorded as a span of its parent's bytes; consecutive small
 * children are decoded and parsed together, one JSON.parse per piece of at most that size; a larger
 * container is built from its children's values. Every byte is scanned once and parsed once, and the
 * work lets the event loop turn every few milliseconds. Structural characters are ASCII, so a piece
 * never starts or ends inside a multi-byte character.
 *
 * A document under the piece size answers with JSON.parse's own error messages; in a larger one,
 * positions are byte offsets.
 * @throws what `options.invalid` and `options.tooDeep` make: by default InvalidJsonError, JsonTooDeepError
 */
export async function parseJson(body: Buffer, options: ParseJsonOptions = {}): Promise<unknown> {
  const pieceBytes = options.pieceBytes ?? JSON_PIECE_BYTES;
  const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH;
  const bom = body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf;
  const text = bom ? body.subarray(3) : body;
  try {
    return await new Scanner(text, pieceBytes, maxDepth, options.limits).run();
  } catch (error) {
    if (error instanceof SizeProblem) {
      throw (options.tooLarge ?? ((problem, at) => new BodyValueTooLargeError(problem, at)))(
        error.problem,
        error.position,
      );
    }
    if (error instanceof DepthProblem) {
      throw (options.tooDeep ?? ((limit, at) => new JsonTooDeepError(limit, at)))(maxDepth, error.position);
    }
    if (!(error instanceof SyntaxProblem)) throw error;
    let reason = error.message;
    // The scanner names the same problems, but a small document keeps JSON.parse's wording.
    if (text.length < pieceBytes) {
      try {
        parsePiece(text.toString('utf8'));
      } catch (whole) {
        reason = (whole as Error).message;
      }
    }
    throw (options.invalid ?? ((problem) => new InvalidJsonError(problem)))(reason);
  }
}

/**
 * JSON.parse of one piece, with secure-json-parse's checks. `at` says where the piece's characters
 * are in the body, so that errors name byte offsets of the body.
 */
function parsePiece(piece: string, at?: (position: number) => number): unknown {
  try {
    return secureJson.parse(piece, undefined, SAFE);
  } catch (error) {
    const message = (error as Error).message;
    throw new SyntaxProblem(
      at === undefined ? message : message.replace(/at position (\d+)/, (_, p) => `at byte ${at(Number(p))}`),
    );
  }
}

/** One pass over a body: see {@link parseJson}. */
class Scanner {
  readonly #text: Buffer;
  readonly #pieceBytes: number;
  readonly #maxDepth: number;
  readonly #limits: ValueLimits | undefined;
  readonly #frames: Frame[] = [];
  /** The document's value: a span of the body, or built. */
  #top: { start: number; end: number } | { value: unknown } | undefined;

  constructor(text: Buffer, pieceBytes: number, maxDepth: number, limits: ValueLimits | undefined) {
    this.#text = text;
    this.#pieceBytes = pieceBytes;
    this.#maxDepth = maxDepth;
    this.#limits = limits;
  }

  async run(): Promise<unknown> {
    const text = this.#text;
    const frames = this.#frames;
    const slice = new TimeSlice();
    let expect: Expect = 'value';
    let steps = 0;
    let i = 0;
    for (;;) {
      if (++steps % 256 === 0 && slice.due) await slice.next();
      // The outermost container past the depth holds every deeper one: its span so far is the check.
      const limited = this.#limits === undefined ? undefined : frames[this.#limits.depth];
      if (limited !== undefined && i - limited.start > (this.#limits as ValueLimits).bytes) {
        const bytes = (this.#limits as ValueLimits).bytes;
        throw new SizeProblem(`an ${limited.array ? 'array' : 'object'} larger than ${bytes} bytes`, limited.start);
      }
      while (i < text.length && isSpace(text[i] as number)) i++;
      if (i >= text.length) {
        if (expect === 'next' && frames.length === 0) break;
        throw new SyntaxProblem('Unexpected end of JSON input');
      }
      const c = text[i] as number;
      const frame = frames.at(-1);
      switch (expect) {
        case 'first value':
        case 'value':
          if (c === CLOSE_ARRAY && expect === 'first value') {
            this.#close(i++);
            expect = 'next';
          } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
            if (frames.length === this.#maxDepth) throw new DepthProblem(i);
            const array = c === OPEN_ARRAY;
            frames.push({
              array,
              start: i,
              runStart: -1,
              runEnd: -1,
              value: undefined,
              keyStart: -1,
              keyEnd: -1,
              children: 0,
            });
            expect = array ? 'first value' : 'first key';
            i++;
          } else {
            const end = c === QUOTE ? this.#stringEnd(i) : this.#scalarEnd(i);
            if (end === i) throw this.#unexpected(i);
            this.#addSpan(i, end);
            expect = 'next';
            i = end;
          }
          break;
        case 'first key':
        case 'key':
          if (c === CLOSE_OBJECT && expect === 'first key') {
            this.#close(i++);
            expect = 'next';
          } else if (c !== QUOTE) {
            const wanted = expect === 'first key' ? "property name or '}'" : 'double-quoted property name';
            throw new SyntaxProblem(`Expected ${wanted} in JSON at byte ${i}`);
          } else {
            const member = frame as Frame;
            member.keyStart = i;
            member.keyEnd = this.#stringEnd(i);
            i = member.keyEnd;
            expect = 'colon';
          }
          break;
        case 'colon':
          if (c !== COLON) throw new SyntaxProblem(`Expected ':' after property name in JSON at byte ${i}`);
          i++;
          expect = 'value';
          break;
        case 'next':
          if (frame === undefined) {
            throw new SyntaxProblem(`Unexpected non-whitespace character after JSON at byte ${i}`);
          }
          if (c === COMMA) {
            if (
              this.#limits !== undefined &&
              ++frame.children >= (frame.array ? this.#limits.items : this.#limits.members)
            ) {
              const problem = frame.array
                ? `an array of more than ${this.#limits.items} items`
                : `an object of more than ${this.#limits.members} members`;
              throw new SizeProblem(problem, frame.start);
            }
            expect = frame.array ? 'value' : 'key';
            i++;
          } else if (c === (frame.array ? CLOSE_ARRAY : CLOSE_OBJECT)) this.#close(i++);
          else {
            const after = frame.array ? "']' after array element" : "'}' after property value";
            throw new SyntaxProblem(`Expected ',' or ${after} in JSON at byte ${i}`);
          }
          break;
      }
    }
    const top = this.#top as { start: number; end: number } | { value: unknown };
    return 'value' in top ? top.value : this.#parse(top.start, top.end, '', '');
  }

  /** Parses the body's bytes from `start` to `end`, between `open` and `close`. */
  #parse(start: number, end: number, open: string, close: string): unknown {
    const piece = this.#text.toString('utf8', start, end);
    return parsePiece(
      `${open}${piece}${close}`,
      (position) => start + Buffer.byteLength(piece.slice(0, Math.max(0, position - open.length))),
    );
  }

  /** The position after the closing quote of the string that opens at `start`. */
  #stringEnd(start: number): number {
    const text = this.#text;
    const limit = this.#limits?.bytes ?? Number.POSITIVE_INFINITY;
    for (let quote = text.indexOf(QUOTE, start + 1); quote !== -1; quote = text.indexOf(QUOTE, quote + 1)) {
      if (quote - start > limit) throw new SizeProblem(`a string larger than ${limit} bytes`, start);
      let before = quote - 1;
      while (text[before] === BACKSLASH) before--;
      if ((quote - 1 - before) % 2 === 0) return quote + 1;
    }
    throw new SyntaxProblem(`Unterminated string in JSON at byte ${text.length}`);
  }

  /** The end of a number or literal that starts at `start` (JSON.parse checks what it is later). */
  #scalarEnd(start: number): number {
    const text = this.#text;
    let i = start;
    for (; i < text.length; i++) {
      const c = text[i] as number;
      if (isSpace(c) || c === COMMA || c === COLON || c === QUOTE) break;
      if (c === OPEN_ARRAY || c === CLOSE_ARRAY || c === OPEN_OBJECT || c === CLOSE_OBJECT) break;
    }
    return i;
  }

  #unexpected(at: number): SyntaxProblem {
    return new SyntaxProblem(
      `Unexpected token '${String.fromCharCode(this.#text[at] as number)}' in JSON at byte ${at}`,
    );
  }

  /** Parses the children of `frame` not parsed yet, in one piece, into its value. */
  #flush(frame: Frame): void {
    if (frame.runStart === -1) return;
    if (frame.array) {
      const values = this.#parse(frame.runStart, frame.runEnd, '[', ']') as unknown[];
      const into = arrayOf(frame);
      for (const value of values) into.push(value);
    } else {
      const members = this.#parse(frame.runStart, frame.runEnd, '{', '}') as Record<string, unknown>;
      const into = objectOf(frame);
      for (const key of Object.keys(members)) into[key] = members[key];
    }
    frame.runStart = -1;
  }

  /** A child that JSON.parse will read with its neighbours: the bytes from `start` to `end`. */
  #addSpan(start: number, end: number): void {
    const parent = this.#frames.at(-1);
    if (parent === undefined) {
      this.#top = { start, end };
      return;
    }
    if (parent.runStart !== -1 && end - parent.runStart > this.#pieceBytes) this.#flush(parent);
    if (parent.runStart === -1) parent.runStart = parent.array ? start : parent.keyStart;
    parent.runEnd = end;
  }

  /** A child built from pieces: its parent is large too, and takes it after its children before it. */
  #addValue(value: unknown): void {
    const parent = this.#frames.at(-1);
    if (parent === undefined) {
      this.#top = { value };
      return;
    }
    this.#flush(parent);
    if (parent.array) {
      arrayOf(parent).push(value);
      return;
    }
    const key = this.#parse(parent.keyStart, parent.keyEnd, '', '') as string;
    // The checks secure-json-parse makes, for the members its pieces do not hold.
    if (key === '__proto__') throw new SyntaxProblem(FORBIDDEN);
    if (key === 'constructor' && typeof value === 'object' && value !== null && Object.hasOwn(value, 'prototype')) {
      throw new SyntaxProblem(FORBIDDEN);
    }
    objectOf(parent)[key] = value;
  }

  /** The container open at the top of the stack closes at `at`. */
  #close(at: number): void {
    const frame = this.#frames.pop() as Frame;
    if (frame.value === undefined && at + 1 - frame.start < this.#pieceBytes) {
      this.#addSpan(frame.start, at + 1);
      return;
    }
    this.#flush(frame);
    this.#addValue(frame.value ?? (frame.array ? [] : {}));
  }
}

function arrayOf(frame: Frame): unknown[] {
  frame.value ??= [];
  return frame.value as unknown[];
}

function objectOf(frame: Frame): Record<string, unknown> {
  frame.value ??= {};
  return frame.value as Record<string, unknown>;
}
