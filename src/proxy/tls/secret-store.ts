/**
 * The proxy's secrets by name, as Envoy's SDS keeps them: TLS certificates (chain + key) and
 * validation contexts (trusted CA). Filled from the bootstrap's `static_resources.secrets`, from
 * the in-process `sds-grpc` source (the proxy's own agent, as pilot-agent serves Envoy), and
 * forwarded to every worker thread. A transport socket reads the secret when it builds a TLS
 * context for a new handshake, so a change applies to new connections and never touches open ones.
 */

export interface TlsCertificateSecret {
  readonly certificateChainPem: string;
  readonly privateKeyPem: string;
}

export interface ValidationContextSecret {
  readonly trustedCaPem: string;
}

export type SecretKind = 'tls_certificate' | 'validation_context';

/** A secret as stored, with when it last changed (for /config_dump's last_updated). */
export interface StoredSecret<T> {
  readonly value: T;
  /** Bumped on every change of this name; a TLS context cache keys on it. */
  readonly version: number;
  readonly updatedAt: Date;
}

/** Every secret at one moment, to copy a store into another thread. */
export interface SecretsSnapshot {
  readonly tlsCertificates: readonly (readonly [string, TlsCertificateSecret])[];
  readonly validationContexts: readonly (readonly [string, ValidationContextSecret])[];
}

export type SecretListener = (kind: SecretKind, name: string) => void;

let versions = 0;

export class SecretStore {
  readonly #certs = new Map<string, StoredSecret<TlsCertificateSecret>>();
  readonly #validation = new Map<string, StoredSecret<ValidationContextSecret>>();
  readonly #listeners = new Set<SecretListener>();

  /** Sets (or replaces) a certificate + key. Setting the same PEM again changes nothing. */
  setTlsCertificate(name: string, s: TlsCertificateSecret): void {
    const prev = this.#certs.get(name)?.value;
    if (prev && prev.certificateChainPem === s.certificateChainPem && prev.privateKeyPem === s.privateKeyPem) return;
    this.#certs.set(name, { value: { certificateChainPem: s.certificateChainPem, privateKeyPem: s.privateKeyPem }, version: ++versions, updatedAt: new Date() });
    this.#notify('tls_certificate', name);
  }

  /** Sets (or replaces) a set of trusted CA certificates. */
  setValidationContext(name: string, s: ValidationContextSecret): void {
    if (this.#validation.get(name)?.value.trustedCaPem === s.trustedCaPem) return;
    this.#validation.set(name, { value: { trustedCaPem: s.trustedCaPem }, version: ++versions, updatedAt: new Date() });
    this.#notify('validation_context', name);
  }

  getTlsCertificate(name: string): StoredSecret<TlsCertificateSecret> | undefined {
    return this.#certs.get(name);
  }

  getValidationContext(name: string): StoredSecret<ValidationContextSecret> | undefined {
    return this.#validation.get(name);
  }

  has(kind: SecretKind, name: string): boolean {
    return kind === 'tls_certificate' ? this.#certs.has(name) : this.#validation.has(name);
  }

  /** Calls `fn` after every change; returns the unsubscribe function. */
  subscribe(fn: SecretListener): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Resolves once every named secret is present (a transport socket warming). */
  whenPresent(refs: readonly SecretRef[]): Promise<void> {
    if (refs.every((r) => this.has(r.kind, r.name))) return Promise.resolve();
    return new Promise((resolve) => {
      const off = this.subscribe(() => {
        if (!refs.every((r) => this.has(r.kind, r.name))) return;
        off();
        resolve();
      });
    });
  }

  snapshot(): SecretsSnapshot {
    return {
      tlsCertificates: [...this.#certs].map(([n, s]) => [n, s.value] as const),
      validationContexts: [...this.#validation].map(([n, s]) => [n, s.value] as const),
    };
  }

  /** Takes every secret of `snap` (another thread's store); what it lacks is kept. */
  load(snap: SecretsSnapshot): void {
    for (const [n, s] of snap.tlsCertificates) this.setTlsCertificate(n, s);
    for (const [n, s] of snap.validationContexts) this.setValidationContext(n, s);
  }

  /** Names and entries, for /config_dump and /certs. */
  tlsCertificates(): IterableIterator<[string, StoredSecret<TlsCertificateSecret>]> {
    return this.#certs.entries();
  }

  validationContexts(): IterableIterator<[string, StoredSecret<ValidationContextSecret>]> {
    return this.#validation.entries();
  }

  #notify(kind: SecretKind, name: string): void {
    for (const fn of [...this.#listeners]) fn(kind, name);
  }
}

/** A secret a transport socket needs, by kind and name. */
export interface SecretRef {
  readonly kind: SecretKind;
  readonly name: string;
}
