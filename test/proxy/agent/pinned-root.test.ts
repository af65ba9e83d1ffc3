import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { CaFiles } from '../../../src/control/ca/ca-files.js';
import { CertificateAuthority, CONTROL_PLANE_SAN } from '../../../src/control/ca/authority.js';
import { verifyPinnedChain, PinnedRootError } from '../../../src/proxy/agent/pinned-root.js';
import { rootHashOf } from '../../../src/pki/join-token.js';
import { fromPem } from '../../../src/pki/x509.js';

// What a joining proxy accepts from a server it cannot verify yet: only a chain that ends in
// the root its token pins and names the control plane.
test('the pinned-root check: right root and name pass; another root, another name, a broken link fail', (t) => {
  const dirs = [mkdtempSync(join(tmpdir(), 'tsmesh-pin-')), mkdtempSync(join(tmpdir(), 'tsmesh-pin-'))];
  t.after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
  const now = new Date();
  const [a, b] = dirs.map((d) => new CertificateAuthority(new CaFiles(d).load('cluster.local', now).material, 'cluster.local'));
  const chainOf = (ca: CertificateAuthority, dns = [CONTROL_PLANE_SAN]) => fromPem(ca.issueServer({ dns }, now, 3600).certChainPem, 'CERTIFICATE');
  const pinA = rootHashOf(a!.material.rootDer);

  const root = verifyPinnedChain(chainOf(a!), pinA, CONTROL_PLANE_SAN, now);
  assert.equal(new X509Certificate(root).fingerprint256, new X509Certificate(a!.material.rootDer).fingerprint256);
  const fails = (chain: Uint8Array[], name: string, re: RegExp) => assert.throws(() => verifyPinnedChain(chain, pinA, name, now), (e: Error) => e instanceof PinnedRootError && re.test(e.message));
  fails(chainOf(b!), CONTROL_PLANE_SAN, /holds no root with the token's hash/);
  fails(chainOf(a!, ['evil.example']), CONTROL_PLANE_SAN, /not for istiod\.tsmesh-system\.svc/);
  // B's leaf presented with A's root: the link does not verify.
  fails([chainOf(b!)[0]!, a!.material.rootDer], CONTROL_PLANE_SAN, /certificate 0 is not signed by the next one/);
  fails(chainOf(a!), CONTROL_PLANE_SAN.replace('istiod', 'other'), /not for/);
  assert.throws(() => verifyPinnedChain(chainOf(a!), pinA, CONTROL_PLANE_SAN, new Date(now.getTime() + 2 * 3600_000)), /not valid now/);
});
