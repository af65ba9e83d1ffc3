import { HTTPFaultSchema } from '../../../../envoy/generated/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { ConfigError, typeUrlOf, unpackAs } from '../../../../envoy/registry.js';
import type { HttpFilterExtension } from '../registry.js';
import { compileFaultSettings, parseFaultPerRoute } from './config.js';
import { FaultFilterFactory } from './filter.js';

/** `envoy.filters.http.fault` (envoy.extensions.filters.http.fault.v3.HTTPFault). */
export const faultFilter: HttpFilterExtension = {
  typeUrl: typeUrlOf(HTTPFaultSchema),
  parse(f, path) {
    if (f.configType.case !== 'typedConfig') throw new ConfigError(`${path}.typed_config`, 'required');
    const p = `${path}.typed_config`;
    const settings = compileFaultSettings(unpackAs(f.configType.value, HTTPFaultSchema, p), p);
    return { name: f.name, terminal: false, instantiate: (ctx) => new FaultFilterFactory(f.name, settings, ctx) };
  },
  parsePerRoute: parseFaultPerRoute,
};
