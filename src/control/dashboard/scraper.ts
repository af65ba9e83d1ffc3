import http from 'node:http';
import { parsePrometheusText } from './prom-text.js';
import { GRAPH_METRICS, type Scrape, type TargetWindow } from './graph.js';

/** A proxy whose Prometheus endpoint the dashboard reads. */
export interface ScrapeTarget {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly path: string;
}

export interface ScraperOptions {
  /** Between two rounds (default 5 s). */
  readonly intervalMs?: number;
  /** How much history is kept per proxy (default 130 s: the longest window, 120 s, and a scrape before it). */
  readonly keepMs?: number;
  /** Scraping stops this long after the last reader (default 2 min): nobody looking costs nothing. */
  readonly idleMs?: number;
  readonly timeoutMs?: number;
}

/**
 * Reads the connected sidecars' metrics while the dashboard is open: scraping starts with the
 * first reader and stops when nobody has read for `idleMs`, so an unwatched mesh pays nothing.
 */
export class MetricsScraper {
  readonly #history = new Map<string, Scrape[]>();
  readonly #interval: number;
  readonly #keep: number;
  readonly #idle: number;
  readonly #timeout: number;
  #timer: NodeJS.Timeout | undefined;
  #lastRead = 0;
  #round: Promise<void> | undefined;
  #errors = new Map<string, string>();

  constructor(readonly targets: () => readonly ScrapeTarget[], opts: ScraperOptions = {}) {
    this.#interval = opts.intervalMs ?? 5000;
    this.#keep = opts.keepMs ?? 130_000;
    this.#idle = opts.idleMs ?? 120_000;
    this.#timeout = opts.timeoutMs ?? 2000;
  }

  /**
   * Per proxy, its oldest scrape within `windowMs` and its newest. The first read starts the
   * scraper and waits for one round, so the page never opens empty.
   */
  async windows(windowMs: number): Promise<TargetWindow[]> {
    this.#lastRead = Date.now();
    if (!this.#timer) {
      this.#schedule();
      await this.#runRound();
    }
    const since = Date.now() - windowMs;
    const out: TargetWindow[] = [];
    for (const list of this.#history.values()) {
      if (list.length === 0) continue;
      // The baseline is the newest scrape at or before the window's start, so what happened
      // between it and the next scrape still counts as inside the window.
      let base = 0;
      for (let i = 0; i < list.length && list[i]!.at <= since; i++) base = i;
      out.push({ first: list[base]!, last: list[list.length - 1]!, sinceStart: list[0]!.at > since });
    }
    return out;
  }

  /** Proxies whose last scrape failed, with why. */
  errors(): ReadonlyMap<string, string> {
    return this.#errors;
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      if (Date.now() - this.#lastRead > this.#idle) { this.#timer = undefined; this.#history.clear(); return; }
      void this.#runRound().finally(() => { if (this.#timer) this.#schedule(); });
    }, this.#interval);
    this.#timer.unref();
  }

  #runRound(): Promise<void> {
    return (this.#round ??= this.#scrapeAll().finally(() => { this.#round = undefined; }));
  }

  async #scrapeAll(): Promise<void> {
    const targets = this.targets();
    const live = new Set(targets.map((t) => t.id));
    for (const id of this.#history.keys()) if (!live.has(id)) this.#history.delete(id);
    for (const id of this.#errors.keys()) if (!live.has(id)) this.#errors.delete(id);
    await Promise.all(targets.map(async (t) => {
      try {
        const text = await get(t, this.#timeout);
        const at = Date.now();
        const list = this.#history.get(t.id) ?? [];
        list.push({ at, samples: parsePrometheusText(text, (n) => GRAPH_METRICS.has(n)) });
        while (list.length > 2 && list[0]!.at < at - this.#keep) list.shift();
        this.#history.set(t.id, list);
        this.#errors.delete(t.id);
      } catch (e) {
        this.#errors.set(t.id, (e as Error).message);
      }
    }));
  }
}

function get(t: ScrapeTarget, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: t.host, port: t.port, path: t.path, timeout: timeoutMs, agent: false }, (res) => {
      if (res.statusCode !== 200) { res.resume(); reject(new Error(`${t.host}:${t.port}${t.path} answered ${res.statusCode}`)); return; }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${t.host}:${t.port}${t.path}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}
