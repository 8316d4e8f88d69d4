import { readFile } from 'node:fs/promises';

const docs = new URL('../../../docs/errors.md', import.meta.url);

/** The codes listed in the docs/errors.md section headed `## <section>`, in order. */
export async function documentedErrorCodes(section: string): Promise<string[]> {
  const text = await readFile(docs, 'utf8');
  const start = text.indexOf(`\n## ${section}\n`);
  if (start === -1) throw new Error(`docs/errors.md has no section "## ${section}"`);
  const end = text.indexOf('\n## ', start + 1);
  return [...text.slice(start, end === -1 ? undefined : end).matchAll(/^\| `(STRATA_[A-Z0-9_]+)` \|/gm)].map(
    (m) => m[1] as string,
  );
}

/** The codes of the error classes a package's errors module exports. */
export function definedErrorCodes(errorsModule: Record<string, unknown>): string[] {
  return Object.values(errorsModule)
    .filter((value) => typeof value === 'function' && typeof (value as { code?: unknown }).code === 'string')
    .map((value) => (value as { code: string }).code);
}
