import { join } from 'node:path';
import { OperationStoreFileError } from '../errors.js';
import { type StoreFs, syncDirectory, writeFully } from '../store/index.js';
import { FINISHED, ZERO_TIME } from './descriptors.js';
import { type OperationState, type OperationStore, operationKey } from './operation-store.js';

/**
 * The operation store of a single node: `<data path>/backup-operations.json`, rewritten whole on
 * every change (temporary file, fsync, rename, fsync of the directory), so after a crash it holds
 * one complete version: the last one written or the one before.
 */

const FILE = 'backup-operations.json';
/** The single-operation journal earlier versions kept; read once, so an upgrade settles what it names. */
const LEGACY_JOURNAL = 'backup-journal.json';
/**
 * Finished operations kept while their provider cannot be written (the running one is never dropped):
 * past this, the oldest are forgotten, and their status is what the provider last held.
 */
export const MAX_UNRECORDED_OPERATIONS = 100;

interface StoreFile {
  readonly version: 1;
  readonly operations: readonly OperationState[];
}

export class FileOperationStore implements OperationStore {
  readonly #fs: StoreFs;
  readonly #dir: string;
  readonly #file: string;
  #operations: OperationState[];
  /** Serialises writes, so the file is replaced by one change at a time. */
  #writing: Promise<unknown> = Promise.resolve();

  private constructor(fs: StoreFs, dir: string, operations: OperationState[]) {
    this.#fs = fs;
    this.#dir = dir;
    this.#file = join(dir, FILE);
    this.#operations = operations;
  }

  /** Opens the store in `dataPath`; a file that does not parse is refused (it is never discarded). */
  static open(fs: StoreFs, dataPath: string): FileOperationStore {
    const file = join(dataPath, FILE);
    const text = readText(fs, file);
    let operations: OperationState[] = [];
    if (text !== undefined) {
      try {
        const parsed = JSON.parse(text) as StoreFile;
        if (parsed.version !== 1 || !Array.isArray(parsed.operations)) throw new Error('unknown file version');
        operations = [...parsed.operations];
      } catch (error) {
        throw new OperationStoreFileError(file, (error as Error).message).withCause(error);
      }
    }
    const store = new FileOperationStore(fs, dataPath, operations);
    const legacy = readLegacyJournal(fs, dataPath);
    if (legacy !== undefined && !operations.some((state) => operationKey(state) === operationKey(legacy))) {
      operations.push(legacy);
      store.#save();
    }
    removeIfPresent(fs, join(dataPath, LEGACY_JOURNAL));
    return store;
  }

  async list(): Promise<readonly OperationState[]> {
    return [...this.#operations];
  }

  put(state: OperationState): Promise<void> {
    return this.#change(() => {
      const key = operationKey(state);
      const others = this.#operations.filter((existing) => operationKey(existing) !== key);
      const finished = others.filter((existing) => FINISHED.has(existing.status));
      const excess = others.length + 1 - MAX_UNRECORDED_OPERATIONS;
      const dropped = new Set(finished.slice(0, Math.max(0, excess)));
      this.#operations = [...others.filter((existing) => !dropped.has(existing)), state];
    });
  }

  remove(state: OperationState): Promise<void> {
    return this.#change(() => {
      const key = operationKey(state);
      this.#operations = this.#operations.filter((existing) => operationKey(existing) !== key);
    });
  }

  #change(apply: () => void): Promise<void> {
    const change = async () => {
      const before = this.#operations;
      apply();
      try {
        this.#save();
      } catch (error) {
        this.#operations = before;
        throw error;
      }
    };
    const result = this.#writing.then(change, change);
    this.#writing = result.catch(() => {});
    return result;
  }

  #save(): void {
    const temporary = `${this.#file}.tmp`;
    const bytes = Buffer.from(`${JSON.stringify({ version: 1, operations: this.#operations }, null, 2)}\n`);
    const fd = this.#fs.openSync(temporary, 'w');
    try {
      writeFully(this.#fs, fd, bytes, 0);
      this.#fs.fsyncSync(fd);
    } finally {
      this.#fs.closeSync(fd);
    }
    this.#fs.renameSync(temporary, this.#file);
    syncDirectory(this.#fs, this.#dir);
  }
}

function readText(fs: StoreFs, file: string): string | undefined {
  try {
    return fs.readFileSync(file).toString('utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function removeIfPresent(fs: StoreFs, file: string): void {
  try {
    fs.unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** The operation an earlier version's journal names, as a state recovery settles; undefined if none. */
function readLegacyJournal(fs: StoreFs, dataPath: string): OperationState | undefined {
  let entry: Pick<OperationState, 'kind' | 'id' | 'backend' | 'scope' | 'startedAt' | 'attaches'>;
  try {
    const text = readText(fs, join(dataPath, LEGACY_JOURNAL));
    if (text === undefined) return undefined;
    entry = JSON.parse(text);
  } catch {
    return undefined; // as earlier versions read it: a journal cut short by a crash names nothing
  }
  return {
    ...entry,
    backendNames: [entry.backend],
    home: '',
    classes: [],
    nodes: [],
    compression: 'DefaultCompression',
    status: 'STARTED',
    error: '',
    completedAt: ZERO_TIME,
    preCompressionSizeBytes: 0,
  };
}
