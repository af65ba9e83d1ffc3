/*
 * Sidecar injection of one pod or pod template: what `tsmesh inject` does to every workload
 * in a file and the webhook does to every pod created. Pure: a new object is returned, the
 * input is not changed, and every field the injector does not own is kept as it was.
 */
import { decide, readOverrides, stringMap, STATUS } from './annotations.js';
import { InjectError, fieldPath, isObject, type JsonObject, type Json } from './json.js';
import { INIT_CONTAINER, PROXY_CONTAINER, SCRATCH_VOLUME, TOKEN_VOLUME, type InjectOptions } from './options.js';
import { initContainer, proxyContainer, volumes } from './template.js';
import { TLS_MODE_LABEL } from '../../envoy/node-metadata.js';

/** A pod, or a workload's pod template: `{ metadata, spec }` (other keys are carried along). */
export type PodLike = JsonObject;

export type InjectResult =
  | { readonly injected: true; readonly pod: PodLike; readonly warnings: readonly string[] }
  | { readonly injected: false; readonly reason: string; readonly warnings: readonly string[] };

/** Which container `kubectl logs/exec` picks without -c. */
const DEFAULT_CONTAINER = 'kubectl.kubernetes.io/default-container';

/**
 * Injects the init container, the proxy container, the volumes, the status annotation and the
 * tlsMode label, unless the pod opts out or is already injected (then `injected: false` and
 * why). `namespace` is the pod's (the webhook's request namespace when the pod has none).
 * Throws InjectError (path relative to the pod) for a pod that cannot be injected as it is.
 */
export function injectPod(pod: PodLike, opts: InjectOptions, namespace?: string): InjectResult {
  const warnings: string[] = [];
  if (!isObject(pod['spec'])) throw new InjectError('spec', 'missing: a pod needs a spec');
  if (pod['metadata'] !== undefined && !isObject(pod['metadata'])) throw new InjectError('metadata', 'expected an object');
  const spec = pod['spec'];
  const meta = (pod['metadata'] ?? {}) as JsonObject;
  const containers = spec['containers'];
  if (!Array.isArray(containers) || containers.length === 0) throw new InjectError('spec.containers', 'a pod needs at least one container');
  const names = checkContainers(spec);
  const decision = decide(meta, spec, namespace ?? (typeof meta['namespace'] === 'string' ? meta['namespace'] : undefined), warnings);
  if (!decision.inject) return { injected: false, reason: decision.reason, warnings };
  if (names.has(PROXY_CONTAINER) || names.has(INIT_CONTAINER)) return { injected: false, reason: `already has a ${names.has(PROXY_CONTAINER) ? PROXY_CONTAINER : INIT_CONTAINER} container`, warnings };
  for (const [field, name] of [['volumes', SCRATCH_VOLUME], ['volumes', TOKEN_VOLUME]] as const) {
    const list = spec[field];
    if (Array.isArray(list) && list.some((v) => isObject(v) && v['name'] === name)) throw new InjectError(`spec.${field}`, `the name ${JSON.stringify(name)} is reserved for the sidecar`);
  }
  const overrides = readOverrides(meta);
  const appPorts = containerPorts(containers as Json[], opts);

  const out = structuredClone(pod);
  const outMeta = (out['metadata'] ??= {}) as JsonObject;
  const outSpec = out['spec'] as JsonObject;
  const labels = (outMeta['labels'] = isObject(outMeta['labels']) ? outMeta['labels'] : {});
  if (labels[TLS_MODE_LABEL] === undefined) labels[TLS_MODE_LABEL] = 'istio';
  const annotations = (outMeta['annotations'] = isObject(outMeta['annotations']) ? outMeta['annotations'] : {});
  const firstApp = (containers[0] as JsonObject)['name'] as string;
  if (annotations[DEFAULT_CONTAINER] === undefined) annotations[DEFAULT_CONTAINER] = firstApp;
  const injectedVolumes = volumes(opts);
  annotations[STATUS] = JSON.stringify({
    initContainers: [INIT_CONTAINER],
    containers: [PROXY_CONTAINER],
    volumes: injectedVolumes.map((v) => v['name'] as string),
    version: opts.version,
  });
  outSpec['initContainers'] = [...(Array.isArray(outSpec['initContainers']) ? outSpec['initContainers'] : []), initContainer(opts, overrides)];
  outSpec['containers'] = [...(outSpec['containers'] as Json[]), proxyContainer(opts, overrides, stringMap(labels), appPorts)];
  outSpec['volumes'] = [...(Array.isArray(outSpec['volumes']) ? outSpec['volumes'] : []), ...injectedVolumes];
  return { injected: true, pod: out, warnings };
}

/** Container names, checked for shape; throws on a container list the API server would refuse. */
function checkContainers(spec: JsonObject): Set<string> {
  const names = new Set<string>();
  for (const field of ['initContainers', 'containers'] as const) {
    const list = spec[field];
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw new InjectError(`spec.${field}`, 'expected a list of containers');
    list.forEach((c, i) => {
      if (!isObject(c) || typeof c['name'] !== 'string' || c['name'] === '') throw new InjectError(fieldPath(['spec', field, i, 'name']), 'every container needs a name');
      names.add(c['name']);
    });
  }
  return names;
}

/**
 * The app's TCP container ports (the sidecar's inbound ports), in order, without repeats.
 * A port the sidecar itself uses cannot be an app's: refused, naming the port's field.
 */
function containerPorts(containers: readonly Json[], o: InjectOptions): number[] {
  const reserved = new Map<number, string>([[o.outboundPort, 'outbound capture'], [o.inboundPort, 'inbound capture'], [o.adminPort, 'admin'], [o.statusPort, 'health'], [o.prometheusPort, 'Prometheus']]);
  const ports: number[] = [];
  containers.forEach((c, i) => {
    const list = (c as JsonObject)['ports'];
    if (list === undefined) return;
    if (!Array.isArray(list)) throw new InjectError(fieldPath(['spec', 'containers', i, 'ports']), 'expected a list');
    list.forEach((p, j) => {
      if (!isObject(p)) throw new InjectError(fieldPath(['spec', 'containers', i, 'ports', j]), 'expected an object');
      const n = p['containerPort'];
      const at = fieldPath(['spec', 'containers', i, 'ports', j, 'containerPort']);
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) throw new InjectError(at, `expected a port 1-65535, got ${JSON.stringify(n ?? null)}`);
      if ((p['protocol'] ?? 'TCP') !== 'TCP') return;
      const use = reserved.get(n);
      if (use !== undefined) throw new InjectError(at, `${n} is the sidecar's ${use} port`);
      if (!ports.includes(n)) ports.push(n);
    });
  });
  return ports;
}
