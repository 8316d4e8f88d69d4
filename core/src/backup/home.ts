/**
 * Every key of a backup, built and parsed in this one place. A backend stores opaque keys; this file
 * is what gives them Weaviate's layout:
 *
 * ```
 * <id>/backup_config.json            the global descriptor
 * <id>/restore_config.json           the status of the latest restore from this backup
 * <id>/<node>/backup.json            a node's descriptor
 * <id>/<node>/<Class>/chunk-<n>      a chunk of a node's class (n from 1)
 * ```
 *
 * Descriptors name a chunk by its key relative to the backup (`<node>/<Class>/chunk-<n>`), so a
 * backup can be copied to another id or location unchanged. No other file concatenates or slices keys.
 */

const GLOBAL = 'backup_config.json';
const RESTORE = 'restore_config.json';
const NODE = 'backup.json';
const CHUNK = 'chunk-';
/** What follows `chunk-` in a chunk key: Weaviate's numbers, from 1, at most nine digits. */
const CHUNK_NUMBER = /^[1-9][0-9]{0,8}$/;

/** True when `text` is a chunk number as a descriptor's `chunks` record keys it (`"1"`, `"2"`, ...). */
export function isChunkNumber(text: string): boolean {
  return CHUNK_NUMBER.test(text);
}

/** A key of a backup, as {@link BackupHome.parse} reads it. */
export type BackupObject =
  | { readonly kind: 'global' }
  | { readonly kind: 'restore' }
  | { readonly kind: 'node'; readonly node: string }
  | { readonly kind: 'chunk'; readonly node: string; readonly className: string; readonly n: number };

/** Where one node's part of a backup lives. */
export class NodeHome {
  readonly #home: BackupHome;
  readonly node: string;

  constructor(home: BackupHome, node: string) {
    this.#home = home;
    this.node = node;
  }

  /** `<id>/<node>/backup.json`. */
  get descriptorKey(): string {
    return this.#home.key(`${this.node}/${NODE}`);
  }

  /** The key of chunk `n` of class `className`, relative to the backup (as descriptors record it). */
  chunkName(className: string, n: number): string {
    return `${this.node}/${className}/${CHUNK}${n}`;
  }

  /** The full key of chunk `n` of class `className`. */
  chunkKey(className: string, n: number): string {
    return this.#home.key(this.chunkName(className, n));
  }

  /** `key` relative to the backup, as a descriptor records it. */
  relative(key: string): string {
    return this.#home.relative(key);
  }

  /** The prefix to list to find every chunk of `className` (parse what the listing returns). */
  chunksPrefix(className: string): string {
    return this.#home.key(`${this.node}/${className}/`);
  }
}

/** Where one backup lives in a backend: `<id>/...`. */
export class BackupHome {
  readonly id: string;

  /** `id` must be a backup id (descriptors.ts: isBackupId); keys are not checked again here. */
  constructor(id: string) {
    this.id = id;
  }

  /** The prefix every key of the backup starts with. */
  get prefix(): string {
    return `${this.id}/`;
  }

  /** `<id>/backup_config.json`. */
  get globalKey(): string {
    return this.key(GLOBAL);
  }

  /** `<id>/restore_config.json`. */
  get restoreKey(): string {
    return this.key(RESTORE);
  }

  node(name: string): NodeHome {
    return new NodeHome(this, name);
  }

  /** The full key of `name`, a key relative to the backup (a chunk's key in a descriptor). */
  key(name: string): string {
    return `${this.prefix}${name}`;
  }

  /** `key` relative to the backup, as a descriptor records it; `key` must be one of this backup's. */
  relative(key: string): string {
    if (!key.startsWith(this.prefix)) throw new TypeError(`${JSON.stringify(key)} is not a key of backup ${this.id}`);
    return key.slice(this.prefix.length);
  }

  /** What `key` is in this backup's layout, or undefined when it is not an object Strata writes. */
  parse(key: string): BackupObject | undefined {
    if (!key.startsWith(this.prefix)) return undefined;
    const parts = key.slice(this.prefix.length).split('/');
    if (parts.length === 1) {
      if (parts[0] === GLOBAL) return { kind: 'global' };
      if (parts[0] === RESTORE) return { kind: 'restore' };
      return undefined;
    }
    const [node = '', second = '', third] = parts;
    if (node === '') return undefined;
    if (parts.length === 2) return second === NODE ? { kind: 'node', node } : undefined;
    if (parts.length !== 3 || second === '' || third === undefined || !third.startsWith(CHUNK)) return undefined;
    const number = third.slice(CHUNK.length);
    return isChunkNumber(number) ? { kind: 'chunk', node, className: second, n: Number(number) } : undefined;
  }

  /** The backup id a listing key belongs to, when it is a global descriptor (`<id>/backup_config.json`). */
  static idOfGlobal(key: string): string | undefined {
    const slash = key.indexOf('/');
    return slash > 0 && key.slice(slash + 1) === GLOBAL ? key.slice(0, slash) : undefined;
  }
}
