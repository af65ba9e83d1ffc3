import { existsSync, readFileSync, statSync } from 'node:fs';
import { writeFileAtomically } from '../atomic-write.js';

/**
 * Revoked join-token ids, one per line in a file that is read live: an operator (or
 * `tsmesh token revoke`) adds a line and the next request with that token is refused, without a
 * restart. Re-read when the file's mtime or size changes.
 */
export class RevocationList {
  #ids = new Set<string>();
  #seen = '';

  constructor(readonly file: string) {}

  isRevoked(jti: string): boolean {
    this.#refresh();
    return this.#ids.has(jti);
  }

  revoke(jti: string): void {
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(jti)) throw new RangeError(`${JSON.stringify(jti)} is not a token id`);
    this.#refresh();
    if (this.#ids.has(jti)) return;
    writeFileAtomically(this.file, [...this.#ids, jti].map((id) => `${id}\n`).join(''));
    this.#seen = '';
  }

  #refresh(): void {
    if (!existsSync(this.file)) { this.#ids = new Set(); this.#seen = ''; return; }
    const st = statSync(this.file);
    const stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    if (stamp === this.#seen) return;
    this.#seen = stamp;
    this.#ids = new Set(readFileSync(this.file, 'utf8').split('\n').map((l) => l.replace(/#.*/, '').trim()).filter((l) => l !== ''));
  }
}
