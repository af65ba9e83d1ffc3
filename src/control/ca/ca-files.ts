/*
 * The CA's files. Self-signed mode keeps them in DATA_DIR/ca (directory 0700, keys 0600):
 *   root-cert.pem, root-key.pem     the signing root (created on first start)
 *   next-root-cert.pem/-key.pem     a prepared rotation: trusted, not yet signing
 *   previous-root-cert.pem          after a rotation's commit: still trusted, no longer signing
 *   token-key.pem                   signs join tokens (ES256)
 *   revoked-tokens.txt              one revoked token id (jti) per line, read live
 * A plugged-in CA is read from a directory in Istio's `cacerts` layout instead (the token key
 * and revocations stay in DATA_DIR/ca). A key file readable by group or others is refused.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { writeFileAtomically } from '../atomic-write.js';
import { CaMaterialError, certificates, newRoot, pem, pluggedMaterial, selfSignedMaterial, type CaMaterial } from './material.js';

export type RotationPhase = 'prepare' | 'commit' | 'finish';

const F = {
  root: 'root-cert.pem', rootKey: 'root-key.pem',
  next: 'next-root-cert.pem', nextKey: 'next-root-key.pem',
  previous: 'previous-root-cert.pem',
  tokenKey: 'token-key.pem',
} as const;

/** The Istio `cacerts` file names. */
export const PLUGGED_FILES = { caCert: 'ca-cert.pem', caKey: 'ca-key.pem', certChain: 'cert-chain.pem', rootCert: 'root-cert.pem' } as const;

/** Refuses a private key file that anyone but its owner could read (as ssh does). */
export function checkKeyMode(file: string): void {
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) throw new CaMaterialError(`${file}: a private key must be readable by its owner only (mode is ${mode.toString(8).padStart(4, '0')}; run chmod 600 ${file})`);
}

function readKey(file: string): string {
  checkKeyMode(file);
  return readFileSync(file, 'utf8');
}

function writeKey(file: string, text: string): void {
  writeFileAtomically(file, text); // created 0600
  chmodSync(file, 0o600);
}

export class CaFiles {
  readonly dir: string;

  /** `dataDir`/ca, created 0700 if missing. */
  constructor(dataDir: string, readonly pluggedDir?: string) {
    this.dir = join(dataDir, 'ca');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
  }

  get revocationFile(): string { return join(this.dir, 'revoked-tokens.txt'); }

  /** The signing material: the plugged-in CA, or the self-signed root (made on first start). */
  load(trustDomain: string, now: Date): { material: CaMaterial; created: boolean } {
    if (this.pluggedDir) {
      const p = (f: string): string => join(this.pluggedDir!, f);
      const names = { caCert: p(PLUGGED_FILES.caCert), caKey: p(PLUGGED_FILES.caKey), certChain: p(PLUGGED_FILES.certChain), rootCert: p(PLUGGED_FILES.rootCert) };
      const read = (f: string): string => {
        if (!existsSync(f)) throw new CaMaterialError(`${f}: missing (a plugged-in CA directory holds ${Object.values(PLUGGED_FILES).join(', ')})`);
        return readFileSync(f, 'utf8');
      };
      const files = { caCert: read(names.caCert), caKey: readKey(names.caKey), certChain: read(names.certChain), rootCert: read(names.rootCert) };
      return { material: pluggedMaterial(files, names, now), created: false };
    }
    const rootFile = join(this.dir, F.root);
    let created = false;
    if (!existsSync(rootFile)) {
      const r = newRoot(trustDomain, now);
      writeKey(join(this.dir, F.rootKey), r.keyPem);
      writeFileAtomically(rootFile, pem(r.certDer));
      created = true;
    }
    return { material: this.#selfSigned(), created };
  }

  #selfSigned(): CaMaterial {
    const f = (n: string): string => join(this.dir, n);
    const root = certificates(readFileSync(f(F.root), 'utf8'), f(F.root))[0]!;
    const also = [F.next, F.previous].filter((n) => existsSync(f(n))).map((n) => certificates(readFileSync(f(n), 'utf8'), f(n))[0]!);
    return selfSignedMaterial(root, readKey(f(F.rootKey)), f(F.rootKey), also);
  }

  /**
   * One step of a root rotation; returns the new material. prepare: a new root is made and
   * trusted next to the current one, which still signs. commit: the new root signs, the old one
   * stays trusted. finish: the old root is no longer trusted.
   */
  rotate(phase: RotationPhase, trustDomain: string, now: Date): CaMaterial {
    if (this.pluggedDir) throw new CaMaterialError(`the CA is plugged in from ${this.pluggedDir}: rotate it by replacing those files (tsmesh rotates only its own self-signed root)`);
    const f = (n: string): string => join(this.dir, n);
    if (phase === 'prepare') {
      if (existsSync(f(F.next))) throw new CaMaterialError('a rotation is already prepared: commit it (tsmesh ca rotate commit)');
      if (existsSync(f(F.previous))) throw new CaMaterialError('the previous rotation is not finished: finish it first (tsmesh ca rotate finish)');
      const r = newRoot(trustDomain, now);
      writeKey(f(F.nextKey), r.keyPem);
      writeFileAtomically(f(F.next), pem(r.certDer));
    } else if (phase === 'commit') {
      if (!existsSync(f(F.next))) throw new CaMaterialError('no rotation is prepared (tsmesh ca rotate prepare)');
      renameSync(f(F.root), f(F.previous));
      // The old key signs nothing any more: it goes.
      rmSync(f(F.rootKey), { force: true });
      renameSync(f(F.nextKey), f(F.rootKey));
      renameSync(f(F.next), f(F.root));
    } else {
      if (!existsSync(f(F.previous))) throw new CaMaterialError('no committed rotation to finish');
      rmSync(f(F.previous));
    }
    return this.#selfSigned();
  }

  /** The ES256 key that signs join tokens (made on first use). */
  tokenKey(): KeyObject {
    const file = join(this.dir, F.tokenKey);
    if (!existsSync(file)) {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      writeKey(file, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    }
    return createPrivateKey(readKey(file));
  }
}
