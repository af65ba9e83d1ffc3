/** MeshConfig (tsmesh.io/v1): the part of Istio's MeshConfig that tsmesh honours. */
import { describeValue } from './issues.js';
import { isDnsName } from './names.js';
import type { Checker } from './checker.js';

/** Istio MeshConfig fields that are real but have no effect in tsmesh: refused rather than ignored. */
const UNSUPPORTED = ['accessLogFormat', 'accessLogEncoding', 'defaultProviders', 'extensionProviders', 'ingressClass', 'ingressService', 'enableAutoMtls', 'localityLbSetting', 'dnsRefreshRate', 'connectTimeout', 'protocolDetectionTimeout', 'defaultServiceExportTo', 'defaultVirtualServiceExportTo', 'defaultDestinationRuleExportTo', 'trustDomainAliases', 'caCertificates', 'meshNetworks'];

export function validateMeshConfig(c: Checker, raw: unknown): void {
  const spec = c.object('spec', raw, ['trustDomain', 'rootNamespace', 'outboundTrafficPolicy', 'defaultConfig', 'accessLogFile', 'enableTracing'], UNSUPPORTED);
  if (!spec) return;
  const td = c.string('spec.trustDomain', spec['trustDomain']);
  if (td !== undefined && !isDnsName(td)) c.error('spec.trustDomain', `expected a DNS name such as "cluster.local", got ${describeValue(td)}`);
  c.dnsLabel('spec.rootNamespace', spec['rootNamespace']);
  const otp = c.object('spec.outboundTrafficPolicy', spec['outboundTrafficPolicy'], ['mode'], ['egressProxy']);
  if (otp && c.required('spec.outboundTrafficPolicy.mode', otp['mode'])) c.oneOf('spec.outboundTrafficPolicy.mode', otp['mode'], ['ALLOW_ANY', 'REGISTRY_ONLY'] as const);
  const dc = c.object('spec.defaultConfig', spec['defaultConfig'], ['concurrency', 'drainDuration', 'terminationDrainDuration'], ['proxyStatsMatcher', 'tracing', 'holdApplicationUntilProxyStarts', 'proxyMetadata', 'discoveryAddress']);
  if (dc) {
    c.int('spec.defaultConfig.concurrency', dc['concurrency'], 0, 256);
    c.duration('spec.defaultConfig.drainDuration', dc['drainDuration']);
    c.duration('spec.defaultConfig.terminationDrainDuration', dc['terminationDrainDuration']);
  }
  c.string('spec.accessLogFile', spec['accessLogFile']);
  c.bool('spec.enableTracing', spec['enableTracing']);
}
