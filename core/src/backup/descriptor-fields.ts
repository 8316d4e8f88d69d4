import { CLASS_NAME } from '../db/index.js';
import { BackupCorruptError, quoted } from '../errors.js';
import type { BackupStatus, CompressionType } from './descriptors.js';

/**
 * Reading the fields of an untrusted descriptor (descriptor-validation.ts): each read checks one
 * field's type and bounds, and a failure names the descriptor's key and the field.
 */

/** Classes in one node descriptor. */
export const MAX_CLASSES = 10_000;
/** Characters of an `error` message kept in a descriptor. */
export const MAX_ERROR_LENGTH = 64 * 1024;

export const STATUSES: readonly BackupStatus[] = [
  'STARTED',
  'TRANSFERRING',
  'TRANSFERRED',
  'FINALIZING',
  'SUCCESS',
  'FAILED',
  'CANCELLING',
  'CANCELED',
];
const COMPRESSION_TYPES: readonly CompressionType[] = ['gzip', 'zstd', 'none'];
export const SHA256 = /^[0-9a-f]{64}$/;
const VERSION = /^[0-9]{1,4}\.[0-9]{1,4}$/;
const CLASS_NAME_RULE = 'a class name starts with a capital letter, then up to 254 letters, digits and "_"';

/** Reads one descriptor's fields, naming the key and the field in every failure. */
export class Fields {
  readonly #key: string;

  constructor(key: string) {
    this.#key = key;
  }

  fail(field: string, problem: string): never {
    throw new BackupCorruptError(this.#key, `${field}: ${problem}`);
  }

  object(value: unknown, field: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(field, 'must be an object');
    return value as Record<string, unknown>;
  }

  array(value: unknown, field: string, max: number): readonly unknown[] {
    if (!Array.isArray(value)) this.fail(field, 'must be an array');
    if (value.length > max) this.fail(field, `has ${value.length} entries, more than the limit of ${max}`);
    return value;
  }

  string(value: unknown, field: string, max: number): string {
    if (typeof value !== 'string') this.fail(field, 'must be a string');
    if (value.length > max) this.fail(field, `is ${value.length} characters long, more than the limit of ${max}`);
    return value;
  }

  name(value: unknown, field: string, pattern: RegExp, rule: string): string {
    const name = this.string(value, field, 255);
    if (!pattern.test(name)) this.fail(field, `${quoted(name)} is not a valid name: ${rule}`);
    return name;
  }

  oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
    if (!allowed.includes(value as T)) {
      this.fail(field, `must be one of ${allowed.join(', ')}, not ${quoted(value)}`);
    }
    return value as T;
  }

  /** A byte count or size: a whole number from 0 to 2^53 - 1. */
  size(value: unknown, field: string): number {
    if (!Number.isSafeInteger(value) || (value as number) < 0) {
      this.fail(field, 'must be a whole number of bytes, at least 0');
    }
    return value as number;
  }

  time(value: unknown, field: string): string {
    const text = this.string(value, field, 64);
    if (Number.isNaN(Date.parse(text))) this.fail(field, `${quoted(text)} is not a date and time`);
    return text;
  }

  sha256(value: unknown, field: string): string {
    const text = this.string(value, field, 64);
    if (!SHA256.test(text)) this.fail(field, 'must be a SHA-256 in lower-case hex (64 characters)');
    return text;
  }

  /** The fields every descriptor records of its operation; `id` must be the backup's. */
  operation(record: Record<string, unknown>, id: string) {
    if (record.id !== id) {
      this.fail('id', `is ${quoted(record.id)}, but the backup is ${quoted(id)}`);
    }
    return {
      id,
      startedAt: this.time(record.startedAt, 'startedAt'),
      completedAt: this.time(record.completedAt, 'completedAt'),
      status: this.oneOf(record.status, 'status', STATUSES),
      error: this.string(record.error, 'error', MAX_ERROR_LENGTH),
      preCompressionSizeBytes: this.size(record.preCompressionSizeBytes, 'preCompressionSizeBytes'),
    };
  }

  format(record: Record<string, unknown>) {
    const version = this.string(record.version, 'version', 16);
    if (!VERSION.test(version)) this.fail('version', `${quoted(version)} is not <major>.<minor>`);
    return {
      version,
      serverVersion: this.string(record.serverVersion, 'serverVersion', 64),
      compressionType: this.oneOf(record.compressionType, 'compressionType', COMPRESSION_TYPES),
    };
  }

  classNames(value: unknown, field: string): string[] {
    return this.array(value, field, MAX_CLASSES).map((name, i) =>
      this.name(name, `${field}[${i}]`, CLASS_NAME, CLASS_NAME_RULE),
    );
  }
}
