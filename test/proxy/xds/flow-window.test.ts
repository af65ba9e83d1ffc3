import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { ADS_FLOW_CONTROL_WINDOW, openAdsStream } from '../../../src/proxy/xds/transport.js';
import { eventually } from '../../support/mesh.js';

// What the proxy's ADS client advertises to the control plane, read by a plain HTTP/2 server on
// loopback: Envoy's default receive windows (256 MiB per stream and per connection), so a large
// push is not paced by WINDOW_UPDATE round trips.
test('ADS client advertises a 256 MiB HTTP/2 stream and connection window, as Envoy does', async () => {
  assert.equal(ADS_FLOW_CONTROL_WINDOW, 256 * 1024 * 1024);
  const server = http2.createServer();
  const sessions: http2.ServerHttp2Session[] = [];
  let settings: http2.Settings | undefined;
  // Before the client's SETTINGS frame arrives, remoteSettings holds HTTP/2's defaults.
  server.on('session', (s) => { sessions.push(s); s.once('remoteSettings', (r) => { settings = r; }); });
  server.on('stream', (stream) => stream.respond({ ':status': 200, 'content-type': 'application/grpc' }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  let closed = false;
  const ads = await openAdsStream(`127.0.0.1:${port}`, false, { onEstablished() {}, onMessage() {}, onClosed() { closed = true; } });
  try {
    const window0 = await eventually('the client SETTINGS', () => settings?.initialWindowSize);
    assert.equal(window0, ADS_FLOW_CONTROL_WINDOW);
    // The connection window grows by a WINDOW_UPDATE on stream 0: what the server may send
    // before the client reads anything.
    const window = await eventually('the connection WINDOW_UPDATE', () => ((sessions[0]!.state.remoteWindowSize ?? 0) > 65_535 ? sessions[0]!.state.remoteWindowSize : undefined));
    assert.ok(window! >= ADS_FLOW_CONTROL_WINDOW - 65_535, `connection window ${window}`);
    assert.equal(closed, false);
  } finally {
    ads.close();
    for (const s of sessions) s.destroy();
    await new Promise((r) => server.close(r));
  }
});
