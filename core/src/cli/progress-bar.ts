/** Renders progress of bytes moved: `[████░░░░] 42%  1.2 GiB of 2.9 GiB  85.3 MiB/s  ETA 20s`. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${UNITS[unit]}`;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  return `${Math.floor(seconds / 60)}m${String(Math.ceil(seconds % 60)).padStart(2, '0')}s`;
}

/** One progress line; `seconds` is the time since the operation started. */
export function progressLine(status: string, done: number, total: number, seconds: number): string {
  const ratio = total === 0 ? 0 : Math.min(1, done / total);
  const rate = seconds > 0 ? done / seconds : 0;
  const eta = rate > 0 ? (total - done) / rate : Number.POSITIVE_INFINITY;
  const bar = `${'█'.repeat(Math.round(ratio * 24)).padEnd(24, '░')}`;
  return `${status.padEnd(12)} [${bar}] ${String(Math.round(ratio * 100)).padStart(3)}%  ${formatBytes(done)} of ${formatBytes(total)}  ${formatBytes(rate)}/s  ETA ${formatDuration(eta)}`;
}

/** Draws an operation's progress lines and times it from its creation. */
export interface ProgressPrinter {
  /** Seconds since the printer was made. */
  seconds(): number;
  /** Draws {@link progressLine} with `suffix` after it. */
  update(status: string, done: number, total: number, suffix?: string): void;
  /** Ends the line a terminal was redrawing; call before printing anything else. */
  end(): void;
}

/** Redraws progress in place on a terminal; elsewhere (logs, CI) prints a line every 5 seconds. */
export function progressPrinter(stdout: { write(text: string): unknown; isTTY?: boolean }): ProgressPrinter {
  const tty = stdout.isTTY === true;
  const started = performance.now();
  let lastPrinted = -1;
  const seconds = () => (performance.now() - started) / 1000;
  return {
    seconds,
    update(status, done, total, suffix = '') {
      const elapsed = seconds();
      const line = `${progressLine(status, done, total, elapsed)}${suffix}`;
      if (tty) stdout.write(`\r${line}`);
      else if (Math.floor(elapsed / 5) > lastPrinted) {
        lastPrinted = Math.floor(elapsed / 5);
        stdout.write(`${line}\n`);
      }
    },
    end() {
      if (tty) stdout.write('\n');
    },
  };
}
