import net from 'node:net';
import { ResponseParser, type ResponseHead } from '../h1/parser.js';
import { serializeRequestHead, serializeResponseHead } from '../h1/serialize.js';
import type { RequestHeaders } from '../stream.js';
import type { HcmRuntime } from './http-stream.js';
import type { ConnectionInfo } from './connection-info.js';
import { replyAndClose } from './local-reply.js';
import { applyRequestHeaderMutations } from '../route/header-mutation.js';

/**
 * An HTTP/1.1 Upgrade (WebSocket and the like) allowed by `upgrade_configs`: the request goes
 * to the routed host on a connection of its own; after `101` the two sockets are joined and
 * bytes flow untouched both ways. Any other answer is relayed and the connection closed.
 */
export function startUpgrade(
  down: net.Socket, rt: HcmRuntime, _info: ConnectionInfo, req: RequestHeaders, protocol: string, takeHeld: () => Buffer,
): void {
  const fail = (status: number, body: string): void => replyAndClose(down, rt, status, body);
  const sel = rt.routes.table.select(req);
  if (!sel || sel.route.action.kind !== 'forward') return fail(404, '');
  const cluster = rt.clusters.get(sel.route.action.pickCluster(Math.random()));
  if (!cluster) return fail(503, '');
  const host = cluster.chooseHost({ random: Math.random, originalDst: _info.originalDst, headers: req.headers });
  if (!host) return fail(503, 'no healthy upstream');
  applyRequestHeaderMutations(sel, req.headers);
  const headers = req.headers;
  headers.set('connection', 'upgrade');
  headers.set('upgrade', protocol);
  down.pause();
  const transport = cluster.transportFor(host);
  const up = transport.connect(host.address, host.port);
  const timer = setTimeout(() => up.destroy(new Error('connect timeout')), cluster.spec.limits.connectTimeoutMs);
  let joined = false;
  up.on(transport.readyEvent, () => {
    clearTimeout(timer);
    up.write(serializeRequestHead(req.method, req.path, req.authority, headers), 'latin1');
  });
  const parser = new ResponseParser({
    onHead(head: ResponseHead) {
      if (head.status === 101) {
        joined = true;
        down.write(serializeResponseHead(101, undefined, head.headers), 'latin1');
        return;
      }
      head.headers.set('connection', 'close');
      down.write(serializeResponseHead(head.status, undefined, head.headers), 'latin1');
    },
    onBody(chunk) { if (!joined) down.write(chunk); },
    onComplete() { if (!joined) { down.end(); up.destroy(); } },
    onError() { if (!joined) fail(502, 'upstream protocol error'); up.destroy(); },
  }, { maxHeaderBytes: 96 * 1024, maxHeaderCount: 200 });
  parser.expectResponseTo('GET');
  const onUpData = (data: Buffer): void => {
    if (joined) { down.write(data); return; }
    const n = parser.execute(data);
    if (joined) {
      // After 101 the rest is the upgraded protocol: join the sockets.
      if (n < data.length) down.write(data.subarray(n));
      up.off('data', onUpData);
      const held = takeHeld();
      if (held.length > 0) up.write(held);
      down.removeAllListeners('data');
      down.pipe(up);
      up.pipe(down);
      down.resume();
    }
  };
  up.on('data', onUpData);
  up.on('error', () => { if (!joined) fail(503, 'upstream connect error or disconnect/reset before headers. reset reason: connection failure'); });
  up.on('close', () => { clearTimeout(timer); down.destroy(); });
  down.on('close', () => up.destroy());
}
