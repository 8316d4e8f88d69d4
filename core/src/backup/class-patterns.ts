import { InvalidClassPatternError } from '../errors.js';

/**
 * The wildcards of include/exclude lists (Go's path.Match, as Weaviate's): `*` any run of characters,
 * `?` one character, `[...]` a character set (`[abc]`, ranges `[a-z]`, negated with `[^...]` or
 * `[!...]`), `\` escaping the next character.
 *
 * Matching a pattern against a class name is linear in the name's length (times the pattern's length
 * / 32): no backtracking, unlike the regular expressions this replaced, which took minutes for
 * `*a*a*a*a*a*a*a*a*a*a*b`.
 */

/** The longest pattern, in characters: as long as the longest class name (Weaviate's). */
export const MAX_PATTERN_LENGTH = 255;

export const isPattern = (entry: string) => /[*?[\\]/.test(entry);

/** A pattern, compiled: `*`, `?`, a character set, or a character (code points). */
type Token =
  | { readonly kind: 'star' }
  | { readonly kind: 'any' }
  | { readonly kind: 'set'; readonly negated: boolean; readonly ranges: ReadonlyArray<readonly [number, number]> }
  | { readonly kind: 'char'; readonly code: number };
/** A token that matches exactly one character. */
type CharToken = Exclude<Token, { readonly kind: 'star' }>;

/**
 * Compiles a pattern, refusing malformed ones with what is wrong (Go answers all of them with
 * "syntax error in pattern"). A reversed range, which Go accepts and never matches, is refused too.
 */
export function compilePattern(pattern: string): Glob {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new InvalidClassPatternError(
      pattern,
      `it has ${pattern.length} characters; a pattern may have at most ${MAX_PATTERN_LENGTH}, the most a class name has`,
    );
  }
  const chars = Array.from(pattern, (c) => c.codePointAt(0) as number);
  const tokens: Token[] = [];
  /** The character at `i`, escaped with `\` or not; `where` names the place for the error. */
  const literal = (i: number, where: string): [code: number, next: number] => {
    if (chars[i] !== 0x5c) return [chars[i] as number, i + 1];
    if (i + 1 >= chars.length)
      throw new InvalidClassPatternError(pattern, `it ends in an unfinished escape '\\'${where}`);
    return [chars[i + 1] as number, i + 2];
  };
  for (let i = 0; i < chars.length; ) {
    const c = chars[i] as number;
    if (c === 0x2a) {
      // `**` matches what `*` does.
      if (tokens.at(-1)?.kind !== 'star') tokens.push({ kind: 'star' });
      i++;
    } else if (c === 0x3f) {
      tokens.push({ kind: 'any' });
      i++;
    } else if (c === 0x5b) {
      let j = i + 1;
      const negated = chars[j] === 0x5e || chars[j] === 0x21;
      if (negated) j++;
      const ranges: Array<readonly [number, number]> = [];
      for (;;) {
        if (j >= chars.length) throw new InvalidClassPatternError(pattern, "unclosed '['");
        if (chars[j] === 0x5d) {
          if (ranges.length === 0) {
            throw new InvalidClassPatternError(pattern, "empty character set '[]': list characters in it, e.g. '[ab]'");
          }
          j++;
          break;
        }
        if (chars[j] === 0x2d) {
          throw new InvalidClassPatternError(
            pattern,
            "a '-' in a character set must join a range, e.g. '[a-z]', or be escaped: '\\-'",
          );
        }
        const [lo, afterLo] = literal(j, " in '[...]'");
        j = afterLo;
        let hi = lo;
        if (chars[j] === 0x2d && chars[j + 1] !== 0x5d) {
          if (j + 1 >= chars.length) throw new InvalidClassPatternError(pattern, "unclosed '['");
          [hi, j] = literal(j + 1, " in '[...]'");
          if (hi < lo) {
            const range = `${String.fromCodePoint(lo)}-${String.fromCodePoint(hi)}`;
            const fixed = `${String.fromCodePoint(hi)}-${String.fromCodePoint(lo)}`;
            throw new InvalidClassPatternError(pattern, `range '${range}' is reversed: write '${fixed}'`);
          }
        }
        ranges.push([lo, hi]);
      }
      tokens.push({ kind: 'set', negated, ranges });
      i = j;
    } else {
      const [code, next] = literal(i, '');
      tokens.push({ kind: 'char', code });
      i = next;
    }
  }
  return new Glob(tokens);
}

function accepts(token: CharToken, code: number): boolean {
  switch (token.kind) {
    case 'any':
      return true;
    case 'char':
      return token.code === code;
    case 'set':
      return token.ranges.some(([lo, hi]) => lo <= code && code <= hi) !== token.negated;
  }
}

/** A run of a pattern between two `*`: each of its tokens matches exactly one character. */
class Segment {
  readonly tokens: ReadonlyArray<CharToken>;
  readonly #words: number;
  #asciiMasks: Uint32Array | undefined;

  constructor(tokens: ReadonlyArray<CharToken>) {
    this.tokens = tokens;
    this.#words = Math.ceil(tokens.length / 32);
  }

  get length(): number {
    return this.tokens.length;
  }

  /** Whether the segment matches `name` (code points) at `at`. */
  matchesAt(name: readonly number[], at: number): boolean {
    return this.tokens.every((token, i) => accepts(token, name[at + i] as number));
  }

  /**
   * Where the segment first matches `name` within `[from, to)`, or -1: a Shift-And search, one pass
   * over the name whatever the segment holds (`?` and sets too), where trying each start position in
   * turn would take (segment x name) steps.
   */
  find(name: readonly number[], from: number, to: number): number {
    const words = this.#words;
    const state = new Uint32Array(words);
    const last = this.tokens.length - 1;
    const lastWord = last >> 5;
    const lastBit = 1 << (last & 31);
    for (let p = from; p < to; p++) {
      const code = name[p] as number;
      const masks = code < 128 ? this.#ascii : this.#other(code);
      const base = code < 128 ? code * words : 0;
      let carry = 1;
      for (let w = 0; w < words; w++) {
        const word = state[w] as number;
        state[w] = ((word << 1) | carry) & (masks[base + w] as number);
        carry = word >>> 31;
      }
      if (((state[lastWord] as number) & lastBit) !== 0) return p - last;
    }
    return -1;
  }

  /** The Shift-And masks of every ASCII character (class names are ASCII), `words` per character. */
  get #ascii(): Uint32Array {
    this.#asciiMasks ??= this.#masksOf(Array.from({ length: 128 }, (_, code) => code));
    return this.#asciiMasks;
  }

  #other(code: number): Uint32Array {
    return this.#masksOf([code]);
  }

  /** Per code, the bit set of the tokens that accept it. */
  #masksOf(codes: readonly number[]): Uint32Array {
    const masks = new Uint32Array(codes.length * this.#words);
    for (const [c, code] of codes.entries()) {
      for (const [i, token] of this.tokens.entries()) {
        if (accepts(token, code)) masks[c * this.#words + (i >> 5)] |= 1 << (i & 31);
      }
    }
    return masks;
  }
}

/** A compiled pattern: the segments its `*`s separate (one when it has none). */
export class Glob {
  readonly #segments: Segment[];
  readonly #minLength: number;

  constructor(tokens: readonly Token[]) {
    const segments: Segment[] = [];
    let run: Array<CharToken> = [];
    for (const token of tokens) {
      if (token.kind === 'star') {
        segments.push(new Segment(run));
        run = [];
      } else run.push(token);
    }
    segments.push(new Segment(run));
    this.#segments = segments;
    this.#minLength = segments.reduce((total, segment) => total + segment.length, 0);
  }

  /**
   * Whether `name` (code points) matches: the first segment at its start, the last at its end, the
   * ones between where each first fits after the one before (the leftmost fit leaves the most room
   * for the rest, so no choice is ever undone). At most (name x segment length / 32) steps.
   */
  matches(name: readonly number[]): boolean {
    const segments = this.#segments;
    const first = segments[0] as Segment;
    if (segments.length === 1) return name.length === first.length && first.matchesAt(name, 0);
    const last = segments[segments.length - 1] as Segment;
    if (name.length < this.#minLength || !first.matchesAt(name, 0)) return false;
    const end = name.length - last.length;
    if (!last.matchesAt(name, end)) return false;
    let at = first.length;
    for (let i = 1; i < segments.length - 1; i++) {
      const segment = segments[i] as Segment;
      const found = segment.find(name, at, end);
      if (found === -1) return false;
      at = found + segment.length;
    }
    return true;
  }
}
