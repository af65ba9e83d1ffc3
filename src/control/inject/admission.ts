/*
 * The injection webhook's logic: an AdmissionReview v1 (admission.k8s.io/v1) for a pod in,
 * the AdmissionReview answer out, with the injection as a base64 JSONPatch. Pure.
 * https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#webhook-request-and-response
 *
 * As Istio's injector: a pod that is not to be injected is allowed unchanged; a pod that
 * cannot be injected as it is (bad override annotation, reserved port) is refused with the
 * reason, since starting it without its sidecar would take it out of the mesh silently.
 * A body that is not an AdmissionReview at all is the caller's error (HTTP 400).
 */
import { injectPod } from './inject-pod.js';
import { diff } from './json-patch.js';
import { InjectError, isObject, type Json, type JsonObject } from './json.js';
import type { InjectOptions } from './options.js';

export type AdmissionOutcome =
  | { readonly status: 200; readonly review: JsonObject; readonly injected: boolean; readonly note: string }
  | { readonly status: 400; readonly message: string };

const API_VERSION = 'admission.k8s.io/v1';

/** Answers one AdmissionReview (already JSON-parsed). */
export function admit(body: unknown, opts: InjectOptions): AdmissionOutcome {
  if (!isObject(body)) return { status: 400, message: 'expected an AdmissionReview object' };
  if (body['kind'] !== 'AdmissionReview') return { status: 400, message: `kind: expected "AdmissionReview", got ${JSON.stringify(body['kind'] ?? null)}` };
  if (body['apiVersion'] !== API_VERSION) return { status: 400, message: `apiVersion: expected "${API_VERSION}" (set admissionReviewVersions: [v1] in the webhook configuration), got ${JSON.stringify(body['apiVersion'] ?? null)}` };
  const req = body['request'];
  if (!isObject(req)) return { status: 400, message: 'request: missing' };
  const uid = req['uid'];
  if (typeof uid !== 'string' || uid === '') return { status: 400, message: 'request.uid: missing' };
  const answer = (response: JsonObject, injected: boolean, note: string): AdmissionOutcome => ({
    status: 200,
    review: { apiVersion: API_VERSION, kind: 'AdmissionReview', response: { uid, ...response } },
    injected,
    note,
  });
  const kind = req['kind'];
  if (!isObject(kind) || kind['kind'] !== 'Pod' || (kind['group'] ?? '') !== '') return answer({ allowed: true }, false, 'not a pod');
  const pod = req['object'];
  if (!isObject(pod)) return { status: 400, message: 'request.object: missing (the pod)' };
  const namespace = typeof req['namespace'] === 'string' && req['namespace'] !== '' ? req['namespace'] : undefined;
  let result;
  try {
    result = injectPod(pod, opts, namespace);
  } catch (e) {
    if (!(e instanceof InjectError)) throw e;
    return answer({ allowed: false, status: { code: 400, reason: 'BadRequest', message: `tsmesh sidecar injection: ${e.message}` } }, false, e.message);
  }
  const warnings: Json[] = [...result.warnings];
  if (!result.injected) return answer({ allowed: true, ...(warnings.length ? { warnings } : {}) }, false, result.reason);
  const patch = diff(pod, result.pod);
  return answer({
    allowed: true,
    patchType: 'JSONPatch',
    patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
    ...(warnings.length ? { warnings } : {}),
  }, true, `${patch.length} patch operations`);
}
