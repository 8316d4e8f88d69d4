import { excerpt } from '../errors.js';

/**
 * The two error body shapes Weaviate's v1 API answers with, so Weaviate clients read Strata's errors
 * unchanged:
 * - handler errors: `{"error":[{"message":"..."}]}` (Weaviate's ErrorResponse);
 * - request validation, parsing, authentication and routing errors, produced by Weaviate's go-swagger
 *   layer: `{"code":<n>,"message":"..."}`, where n is the HTTP status or a go-openapi validation code
 *   (601 wrong type, 602 required, ..., 606 enum, 608 maximum, 609 minimum), sent with status 422.
 */

export interface ErrorResponse {
  readonly error: ReadonlyArray<{ readonly message: string }>;
}

export interface ProtocolError {
  readonly code: number;
  readonly message: string;
}

/**
 * The longest message an error body carries. Messages quote request values as bounded excerpts
 * already; this is the backstop for any that does not.
 */
export const MESSAGE_LIMIT = 4096;

export function errorResponse(message: string): ErrorResponse {
  return { error: [{ message: excerpt(message, MESSAGE_LIMIT) }] };
}

export function protocolError(code: number, message: string): ProtocolError {
  return { code, message: excerpt(message, MESSAGE_LIMIT) };
}
