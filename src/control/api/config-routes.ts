/*
 * The config API the CLI uses (`tsmesh apply / get / delete / analyze`):
 *   POST   /api/v1/apply                          body: YAML or JSON, multi-document; all or nothing
 *   GET    /api/v1/resources[/{kind}[/{namespace}/{name}]]   ?namespace=NS
 *   DELETE /api/v1/resources/{kind}/{namespace}/{name}
 *   POST   /api/v1/delete                         body: resources (only their identity is read)
 *   GET    /api/v1/analyze                        cross-resource problems in what is stored
 *   GET    /api/v1/config-errors                  files of the config directory that were skipped
 *   GET    /healthz, /version
 */
import { KINDS, type Kind } from '../config/kinds.js';
import { parseDocuments, parseResources } from '../config/parse.js';
import { resolveKind, DEFAULT_NAMESPACE } from '../config/validate.js';
import { analyze } from '../config/analyze.js';
import { formatIssue, type ConfigIssue } from '../config/issues.js';
import { API_OWNER, OwnershipConflict, type ConfigStore } from '../config/store.js';
import type { ConfigDirectory } from '../config/store-directory.js';
import { ApiError, type ApiRequest, type ApiServer } from './server.js';

export const API_VERSION = 'v1';

export interface ConfigRoutesDeps {
  readonly store: ConfigStore;
  readonly directory?: ConfigDirectory;
  readonly version: string;
}

export function registerConfigRoutes(api: ApiServer, deps: ConfigRoutesDeps): void {
  const { store } = deps;

  api.route('GET', '/healthz', () => ({ text: 'ok\n' }));
  api.route('GET', '/version', () => ({ json: { version: deps.version, api: API_VERSION, revision: store.revision } }));

  api.route('POST', '/api/v1/apply', async (req) => {
    const { resources, issues } = parseResources(await req.text(), 'request');
    if (issues.length) throw invalid('validation failed: nothing was stored', issues);
    if (resources.length === 0) throw new ApiError(400, 'no resources in the request body');
    try {
      return { json: { results: store.apply(resources, API_OWNER) } };
    } catch (e) {
      if (e instanceof OwnershipConflict) throw invalid('conflict: nothing was stored', e.conflicts, 409);
      throw e;
    }
  });

  const list = (req: ApiRequest, kind?: Kind) => {
    const namespace = req.query.get('namespace') ?? undefined;
    return { json: { kind: 'List', apiVersion: 'v1', items: store.list({ ...(kind ? { kind } : {}), ...(namespace ? { namespace } : {}) }).map((e) => e.resource) } };
  };
  api.route('GET', '/api/v1/resources', (req) => list(req));
  api.route('GET', '/api/v1/resources/{kind}', (req) => list(req, kindParam(req)));
  api.route('GET', '/api/v1/resources/{kind}/{namespace}/{name}', (req) => {
    const kind = kindParam(req);
    const e = store.get(kind, req.params['namespace']!, req.params['name']!);
    if (!e) throw new ApiError(404, `${kind} ${req.params['namespace']}/${req.params['name']} not found`);
    return { json: e.resource };
  });

  const remove = (ids: { kind: Kind; namespace: string; name: string }[]) => {
    try {
      return { json: { results: store.delete(ids, API_OWNER) } };
    } catch (e) {
      if (e instanceof OwnershipConflict) throw invalid('conflict: nothing was deleted', e.conflicts, 409);
      throw e;
    }
  };
  api.route('DELETE', '/api/v1/resources/{kind}/{namespace}/{name}', (req) => {
    const kind = kindParam(req);
    const out = remove([{ kind, namespace: req.params['namespace']!, name: req.params['name']! }]);
    if (out.json.results[0]?.result === 'not found') throw new ApiError(404, `${kind} ${req.params['namespace']}/${req.params['name']} not found`);
    return out;
  });
  api.route('POST', '/api/v1/delete', async (req) => {
    const { documents, issues } = parseDocuments(await req.text(), 'request');
    const problems: ConfigIssue[] = [...issues];
    const ids: { kind: Kind; namespace: string; name: string }[] = [];
    for (const d of documents) {
      const v = d.value as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } } | null;
      const kind = typeof v?.kind === 'string' ? resolveKind(v.kind) : undefined;
      const name = v?.metadata?.name;
      const ns = v?.metadata?.namespace ?? DEFAULT_NAMESPACE;
      if (!kind || typeof name !== 'string' || typeof ns !== 'string') {
        problems.push({ resource: d.origin, path: '', message: 'expected a resource with kind and metadata.name', severity: 'error' });
        continue;
      }
      ids.push({ kind, namespace: ns, name });
    }
    if (problems.length) throw invalid('invalid request: nothing was deleted', problems);
    return remove(ids);
  });

  api.route('GET', '/api/v1/analyze', () => {
    const issues = analyze(store.list().map((e) => e.resource));
    return { json: { issues, details: issues.map(formatIssue) } };
  });
  api.route('GET', '/api/v1/config-errors', () => {
    const errors = deps.directory?.errors() ?? [];
    return { json: { errors, details: errors.map((e) => (e.source && !e.resource.startsWith(e.source) ? `${e.source}: ${formatIssue(e)}` : formatIssue(e))) } };
  });
}

function kindParam(req: ApiRequest): Kind {
  const k = resolveKind(req.params['kind']!);
  if (!k) throw new ApiError(404, `unknown kind ${JSON.stringify(req.params['kind'])}`, [`known kinds: ${Object.keys(KINDS).join(', ')}`]);
  return k;
}

function invalid(message: string, issues: readonly ConfigIssue[], status = 400): ApiError {
  return new ApiError(status, message, issues.map(formatIssue), { issues });
}
