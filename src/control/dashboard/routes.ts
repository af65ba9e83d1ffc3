import type { ApiServer } from '../api/server.js';
import { ApiError } from '../api/server.js';
import type { MeshXds } from '../mesh-xds.js';
import { buildGraph } from './graph.js';
import { DASHBOARD_HTML } from './page.js';
import { MetricsScraper, type ScraperOptions, type ScrapeTarget } from './scraper.js';
import { serviceViews } from './service-config.js';

export interface DashboardOptions extends ScraperOptions {
  /** The default window rates are computed over (default 30 s; `?window=S` overrides). */
  readonly windowS?: number;
}

/**
 * `tsmesh dashboard`: the page and its JSON on the control plane's API port. The graph comes
 * from the connected sidecars' Istio metrics, scraped while someone is looking.
 */
export function registerDashboard(api: ApiServer, xds: MeshXds, opts: DashboardOptions = {}): MetricsScraper {
  const scraper = new MetricsScraper(() => scrapeTargets(xds), opts);
  const defaultWindow = opts.windowS ?? 30;
  api.route('GET', '/dashboard', () => ({ text: DASHBOARD_HTML, contentType: 'text/html; charset=utf-8' }));
  api.route('GET', '/dashboard/api/graph', async (req) => {
    const w = req.query.get('window');
    const windowS = w === null ? defaultWindow : Number(w);
    if (!Number.isFinite(windowS) || windowS <= 0 || windowS > 120) throw new ApiError(400, `window: expected seconds in (0, 120], got ${JSON.stringify(w)}`);
    const graph = buildGraph(await scraper.windows(windowS * 1000));
    return { json: { ...graph, scrapeErrors: Object.fromEntries(scraper.errors()) } };
  });
  api.route('GET', '/dashboard/api/sync', () => ({ json: xds.server.status() }));
  api.route('GET', '/dashboard/api/services', () => ({ json: serviceViews(xds.mesh()) }));
  return scraper;
}

function scrapeTargets(xds: MeshXds): ScrapeTarget[] {
  return xds.mesh().connected
    .filter((p) => p.generator === 'sidecar' && p.statsPort !== undefined)
    .map((p) => ({ id: p.id, host: p.ips[0] ?? '127.0.0.1', port: p.statsPort!, path: '/stats/prometheus' }));
}
