import { ConfigError } from '../../../../envoy/registry.js';
import type { HttpFilterExtension } from '../registry.js';
import { parseStatsPluginConfig, TYPED_STRUCT_TYPE_URL } from '../../../istio-stats/plugin-config.js';
import { IstioStatsFilterFactory } from './filter.js';

/**
 * `istio.stats` (Istio's standard metrics, HTTP side), configured as Istio configures Envoy: a
 * TypedStruct with type_url stats.PluginConfig. Registered under the TypedStruct type URL; the
 * parser refuses any other type_url inside it.
 */
export const istioStatsFilter: HttpFilterExtension = {
  typeUrl: TYPED_STRUCT_TYPE_URL,
  parse(f, path) {
    if (f.configType.case !== 'typedConfig') throw new ConfigError(`${path}.typed_config`, 'required');
    const cfg = parseStatsPluginConfig(f.configType.value, `${path}.typed_config`);
    return { name: f.name, terminal: false, instantiate: (ctx) => new IstioStatsFilterFactory(f.name, cfg, ctx) };
  },
};
