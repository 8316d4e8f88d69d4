/**
 * Splits an ENABLE_MODULES value into entries: comma-separated, each trimmed, empty entries ignored,
 * a repeated entry kept once (first position wins). Unset or blank means no modules.
 */
export function parseEnableModules(raw: string | undefined): string[] {
  if (raw === undefined) return [];
  const entries = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  return [...new Set(entries)];
}
