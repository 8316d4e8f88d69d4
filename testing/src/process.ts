import type { ChildProcess } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Resolves with the match of the first line the child prints (stdout or stderr) that matches
 * `pattern`; rejects with everything it printed if it exits first.
 */
export function waitForLine(child: ChildProcess, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let output = '';
    let found = false;
    // Keeps reading after the match, so a chatty child never blocks on a full pipe.
    const onData = (data: Buffer) => {
      if (found) return;
      output += data.toString();
      const match = pattern.exec(output);
      if (match !== null) {
        found = true;
        child.off('exit', onExit);
        resolve(match);
      }
    };
    const onExit = (code: number | null) =>
      reject(new Error(`${child.spawnfile} exited (${code}) before printing ${pattern}:\n${output}`));
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Listens on a free port of 127.0.0.1. */
export function listen(server: Server): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address() as AddressInfo));
  });
}
