/**
 * Bounds on one GraphQL query, checked before it is parsed: parsing, validating and executing are
 * synchronous and grow with the query, so a query of megabytes of fields would hold the event loop.
 * A Get of every property of a class (at most 1,000, nested 30 deep) stays far below them.
 */
import { GraphQLError, Lexer, Source, TokenKind } from 'graphql';
import { GraphqlQueryTooLargeError } from '../../errors.js';

/** Characters of a query; checked first, so the lexer never reads more. */
export const MAX_QUERY_CHARS = 256 * 1024;

/** Tokens of a query (names, punctuation, values): validating 5,000 takes tens of milliseconds. */
export const MAX_QUERY_TOKENS = 5_000;

/** Nesting of braces, parentheses and brackets: the parser recurses once per level. */
export const MAX_QUERY_DEPTH = 64;

const OPENING = new Set<string>([TokenKind.BRACE_L, TokenKind.PAREN_L, TokenKind.BRACKET_L]);
const CLOSING = new Set<string>([TokenKind.BRACE_R, TokenKind.PAREN_R, TokenKind.BRACKET_R]);

/**
 * Checks `query` against the bounds above, reading at most {@link MAX_QUERY_TOKENS} tokens.
 * @throws GraphQLError, with the location where a bound was passed, or the lexer's syntax error.
 */
export function checkQuerySize(query: string): void {
  const source = new Source(query);
  const tooLarge = (what: string, limit: number, position?: number) =>
    new GraphQLError(new GraphqlQueryTooLargeError(what, limit).message, {
      source,
      ...(position === undefined ? {} : { positions: [position] }),
    });
  if (query.length > MAX_QUERY_CHARS) throw tooLarge('characters', MAX_QUERY_CHARS);
  const lexer = new Lexer(source);
  let tokens = 0;
  let depth = 0;
  for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
    if (++tokens > MAX_QUERY_TOKENS) throw tooLarge('tokens', MAX_QUERY_TOKENS, token.start);
    if (OPENING.has(token.kind) && ++depth > MAX_QUERY_DEPTH) {
      throw tooLarge('levels of nesting', MAX_QUERY_DEPTH, token.start);
    }
    if (CLOSING.has(token.kind)) depth--;
  }
}
