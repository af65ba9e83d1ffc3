/**
 * A certificate subject as Node prints it (`C=US\nO=Acme\nCN=client`, issuing order, one RDN a
 * line) in RFC 2253 form (`CN=client,O=Acme,C=US`: most specific first, comma separated, with
 * `,+"\<>;` and a leading `#`/space escaped), which is how Envoy prints subjects in XFCC and
 * access logs. Pure.
 */
export function rfc2253Subject(nodeSubject: string): string {
  if (!nodeSubject) return '';
  return nodeSubject
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const eq = l.indexOf('=');
      return eq < 0 ? l : `${l.slice(0, eq)}=${escapeValue(l.slice(eq + 1))}`;
    })
    .reverse()
    .join(',');
}

function escapeValue(v: string): string {
  let out = v.replace(/[,+"\\<>;]/g, (c) => `\\${c}`);
  if (out.startsWith('#') || out.startsWith(' ')) out = `\\${out}`;
  if (out.endsWith(' ') && out.length > 1) out = `${out.slice(0, -1)}\\ `;
  return out;
}
