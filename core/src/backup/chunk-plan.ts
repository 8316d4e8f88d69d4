/**
 * How a class's files are grouped into chunks (Weaviate's newer chunking, simplified): a file at
 * least `target` bytes long travels alone; smaller files are packed, in path order, into chunks of up
 * to `target` bytes. More, smaller chunks let uploads and compression run in parallel; fewer, larger
 * ones cost fewer requests.
 */

/** A file to back up. */
export interface PlannedFile {
  /** Relative to the data path, with "/" separators: the tar entry name and the restore location. */
  readonly path: string;
  /** Where to read it now (the staging hard link). */
  readonly source: string;
  readonly size: number;
  readonly shard: string;
}

export function planChunks(files: readonly PlannedFile[], target: number): PlannedFile[][] {
  const chunks: PlannedFile[][] = [];
  let packing: PlannedFile[] = [];
  let packed = 0;
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    if (file.size >= target) {
      chunks.push([file]);
      continue;
    }
    if (packed + file.size > target && packing.length > 0) {
      chunks.push(packing);
      packing = [];
      packed = 0;
    }
    packing.push(file);
    packed += file.size;
  }
  if (packing.length > 0) chunks.push(packing);
  return chunks;
}
