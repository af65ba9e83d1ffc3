import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread running the fixture `name` (without extension) next to `from`, a test's
 * import.meta.url. Tests run as .ts under tsx and as .js from dist/; tsx's loader does not
 * follow into worker threads, so there the worker registers it before importing the fixture.
 */
export function startFixtureWorker(from: string, name: string, workerData: unknown): Worker {
  const underTsx = from.endsWith('.ts');
  const url = new URL(`${name}${underTsx ? '.ts' : '.js'}`, from);
  if (!underTsx) return new Worker(url, { workerData });
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then((t) => { t.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(code, { eval: true, workerData });
}
