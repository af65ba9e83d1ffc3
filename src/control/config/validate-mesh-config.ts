/** MeshConfig (tsmesh.io/v1): the part of Istio's MeshConfig that tsmesh honours. */
import { describeValue } from './issues.js';
import { isDnsName } from './names.js';
import type { Checker } from './checker.js';
import { validateDefaultProviders, validateExtensionProviders } from './validate-extension-providers.js';

/** Istio MeshConfig fields that are real but have no effect in tsmesh: refused rather than ignored. */
const UNSUPPORTED = ['ingressClass', 'ingressService', 'enableAutoMtls', 'localityLbSetting', 'dnsRefreshRate', 'connectTimeout', 'protocolDetectionTimeout', 'defaultServiceExportTo', 'defaultVirtualServiceExportTo', 'defaultDestinationRuleExportTo', 'trustDomainAliases', 'caCertificates', 'meshNetworks'];

export function validateMeshConfig(c: Checker, raw: unknown): void {
  const spec = c.object('spec', raw, ['trustDomain', 'rootNamespace', 'outboundTrafficPolicy', 'defaultConfig', 'accessLogFile', 'accessLogEncoding', 'accessLogFormat', 'enableTracing', 'defaultProviders', 'extensionProviders'], UNSUPPORTED);
  if (!spec) return;
  const td = c.string('spec.trustDomain', spec['trustDomain']);
  if (td !== undefined && !isDnsName(td)) c.error('spec.trustDomain', `expected a DNS name such as "cluster.local", got ${describeValue(td)}`);
  c.dnsLabel('spec.rootNamespace', spec['rootNamespace']);
  const otp = c.object('spec.outboundTrafficPolicy', spec['outboundTrafficPolicy'], ['mode'], ['egressProxy']);
  if (otp && c.required('spec.outboundTrafficPolicy.mode', otp['mode'])) c.oneOf('spec.outboundTrafficPolicy.mode', otp['mode'], ['ALLOW_ANY', 'REGISTRY_ONLY'] as const);
  const dc = c.object('spec.defaultConfig', spec['defaultConfig'], ['concurrency', 'drainDuration', 'terminationDrainDuration', 'tracing'], ['proxyStatsMatcher', 'holdApplicationUntilProxyStarts', 'proxyMetadata', 'discoveryAddress']);
  if (dc) {
    c.int('spec.defaultConfig.concurrency', dc['concurrency'], 0, 256);
    c.duration('spec.defaultConfig.drainDuration', dc['drainDuration']);
    c.duration('spec.defaultConfig.terminationDrainDuration', dc['terminationDrainDuration']);
    // Istio's ProxyConfig.tracing: only the sampling percentage; the collector is an extension provider.
    const tr = c.object('spec.defaultConfig.tracing', dc['tracing'], ['sampling'], ['zipkin', 'lightstep', 'datadog', 'stackdriver', 'openCensusAgent', 'customTags', 'maxPathTagLength', 'tlsSettings']);
    const sp = tr?.['sampling'];
    if (sp !== undefined && (typeof sp !== 'number' || !Number.isFinite(sp) || sp < 0 || sp > 100)) c.error('spec.defaultConfig.tracing.sampling', `expected a number 0-100, got ${describeValue(sp)}`);
  }
  c.string('spec.accessLogFile', spec['accessLogFile']);
  c.bool('spec.enableTracing', spec['enableTracing']);
  c.oneOf('spec.accessLogEncoding', spec['accessLogEncoding'], ['TEXT', 'JSON'] as const);
  const fmt = c.string('spec.accessLogFormat', spec['accessLogFormat']);
  if (fmt !== undefined && spec['accessLogEncoding'] === 'JSON') {
    let ok = false;
    try { const j: unknown = JSON.parse(fmt); ok = typeof j === 'object' && j !== null && !Array.isArray(j) && Object.values(j).every((x) => typeof x === 'string'); } catch { /* reported below */ }
    if (!ok) c.error('spec.accessLogFormat', 'with accessLogEncoding JSON, expected a JSON object of format strings');
  }
  validateExtensionProviders(c, spec['extensionProviders']);
  validateDefaultProviders(c, spec['defaultProviders']);
}
