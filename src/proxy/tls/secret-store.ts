/*
 * The proxy's SDS secrets by name (contract 1 of the security milestone; the tls-dp work owns
 * this module and may extend it): TLS certificates (`default`: the workload's chain and key) and
 * validation contexts (`ROOTCA`: the mesh roots). Filled by bootstrap static secrets and by the
 * proxy's own agent; transport sockets read them and follow changes.
 */
export interface TlsCertificateSecret {
  readonly certificateChainPem: string;
  readonly privateKeyPem: string;
}

export interface ValidationContextSecret {
  readonly trustedCaPem: string;
}

export type SecretChange = { readonly kind: 'tlsCertificate' | 'validationContext'; readonly name: string };

export class SecretStore {
  readonly #certs = new Map<string, TlsCertificateSecret>();
  readonly #validation = new Map<string, ValidationContextSecret>();
  readonly #listeners = new Set<(c: SecretChange) => void>();

  setTlsCertificate(name: string, s: TlsCertificateSecret): void {
    this.#certs.set(name, { certificateChainPem: s.certificateChainPem, privateKeyPem: s.privateKeyPem });
    this.#emit({ kind: 'tlsCertificate', name });
  }

  setValidationContext(name: string, s: ValidationContextSecret): void {
    this.#validation.set(name, { trustedCaPem: s.trustedCaPem });
    this.#emit({ kind: 'validationContext', name });
  }

  getTlsCertificate(name: string): TlsCertificateSecret | undefined {
    return this.#certs.get(name);
  }

  getValidationContext(name: string): ValidationContextSecret | undefined {
    return this.#validation.get(name);
  }

  /** Calls `fn` after every change; returns the unsubscribe function. */
  subscribe(fn: (c: SecretChange) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #emit(c: SecretChange): void {
    for (const fn of this.#listeners) fn(c);
  }
}
