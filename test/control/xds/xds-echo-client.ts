/**
 * A proxyless gRPC client in its own process: @grpc/grpc-js-xds reads GRPC_XDS_BOOTSTRAP (once
 * per process, hence the child), resolves `xds:///<target>` through the ADS server named there,
 * and calls Echo.Say. Prints {"answers": [...]} (who answered each call) or {"error": "..."}.
 * Usage: node xds-echo-client.js <target> <calls> <deadline-ms> [until-answer]
 * With until-answer, keeps calling (at most <calls> times, 50 ms apart) until that answer comes.
 */
import * as grpc from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

grpcXds.register();
const [target = '', callsArg = '10', deadlineArg = '20000', until] = process.argv.slice(2);
const protoPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../test/fixtures/echo.proto');
const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath)) as unknown as { tsmesh: { test: { Echo: grpc.ServiceClientConstructor } } };
const client = new pkg.tsmesh.test.Echo(`xds:///${target}`, grpc.credentials.createInsecure());
const say = (n: number): Promise<string> => new Promise((resolve, reject) => {
  const deadline = new Date(Date.now() + Number(deadlineArg));
  (client as unknown as { Say(req: object, opts: object, cb: (err: Error | null, res: { text: string }) => void): void })
    .Say({ text: 'hi', n }, { deadline, waitForReady: true }, (err, res) => err ? reject(err) : resolve(res.text));
});
try {
  const answers: string[] = [];
  for (let i = 0; i < Number(callsArg); i++) {
    answers.push(await say(i));
    if (until === undefined) continue;
    if (answers[answers.length - 1] === until) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  process.stdout.write(`${JSON.stringify({ answers })}\n`);
} catch (err) {
  process.stdout.write(`${JSON.stringify({ error: (err as Error).message })}\n`);
} finally {
  client.close();
  process.exit(0);
}
