/**
 * MAGLEV, a port of Envoy's table (source/extensions/load_balancing_policies/maglev/maglev_lb.cc,
 * after Eisenbud et al., "Maglev", NSDI 2016, pseudocode listing 1, with Envoy's weighting):
 * hosts sorted by key; each host's preference list is `(offset + skip * j) mod M` with
 * offset = xxHash64(key, seed 0) mod M and skip = xxHash64(key, seed 1) mod (M - 1) + 1; hosts
 * take turns claiming their next free slot, a host of lower normalized weight skipping turns.
 * A request goes to table[hash mod M]; without a hash, to a random slot.
 *
 * The table is built once over every host; an unhealthy host's slot is passed over by probing the
 * following slots, which belong to hosts in proportion to their weights.
 */
import { nextHealthyInTable, randomIndex } from './healthy.js';
import type { LbContext, LbHost, LoadBalancer } from './types.js';
import { allocRegisters, fromBigInt, load, mod } from './u64.js';
import { HASH_OUT, SEED_ZERO, xxh64StringParts } from './xxhash64.js';

const HASH = allocRegisters(1);
const SEED_ONE = Uint32Array.of(0, 1);

/** Envoy's maglev_lb gauges, for the admin endpoint and tests. */
export interface MaglevStats {
  readonly minEntriesPerHost: number;
  readonly maxEntriesPerHost: number;
}

export class MaglevLoadBalancer implements LoadBalancer {
  readonly #hosts: readonly LbHost[];
  /** Slot -> host index; empty when there are no hosts. */
  readonly #table: Uint32Array;
  readonly #seen: Float64Array;
  #stamp = 0;
  readonly stats: MaglevStats;

  /** `tableSize` must be prime (validated by the config layer). */
  constructor(hosts: readonly LbHost[], tableSize: number) {
    this.#hosts = hosts;
    this.#seen = new Float64Array(hosts.length);
    const built = buildTable(hosts, tableSize);
    this.#table = built.table;
    this.stats = built.stats;
  }

  pick(ctx: LbContext): LbHost | undefined {
    const table = this.#table;
    const size = table.length;
    if (size === 0) return undefined;
    let at: number;
    if (ctx.hash !== undefined) {
      fromBigInt(HASH, ctx.hash);
      at = mod(HASH, size);
    } else {
      at = randomIndex(ctx.random, size);
    }
    const h = this.#hosts[table[at]!]!;
    return h.healthy ? h : this.#probe(at);
  }

  /** The next slot after `at` whose host is healthy; undefined once every host was seen. */
  #probe(at: number): LbHost | undefined {
    return nextHealthyInTable(this.#hosts, this.#table, at, this.#seen, ++this.#stamp);
  }
}

function buildTable(hosts: readonly LbHost[], size: number): { table: Uint32Array; stats: MaglevStats } {
  const n = hosts.length;
  if (n === 0) return { table: new Uint32Array(0), stats: { minEntriesPerHost: 0, maxEntriesPerHost: 0 } };
  let sum = 0;
  for (const h of hosts) sum += h.weight;
  // Envoy fills in key order so that the table does not depend on the order hosts arrive in.
  const order = hosts.map((_, i) => i).sort((a, b) => (hosts[a]!.key < hosts[b]!.key ? -1 : hosts[a]!.key > hosts[b]!.key ? 1 : 0));
  const weight = new Float64Array(n), offset = new Float64Array(n), skip = new Float64Array(n);
  const targetWeight = new Float64Array(n), next = new Float64Array(n), count = new Float64Array(n);
  let maxWeight = 0.0;
  order.forEach((hostIndex, e) => {
    const host = hosts[hostIndex]!;
    weight[e] = (host.weight * 1.0) / sum;
    if (weight[e]! > maxWeight) maxWeight = weight[e]!;
    xxh64StringParts(host.key, SEED_ZERO);
    load(HASH, HASH_OUT);
    offset[e] = mod(HASH, size);
    xxh64StringParts(host.key, SEED_ONE);
    load(HASH, HASH_OUT);
    skip[e] = mod(HASH, size - 1) + 1;
  });
  const owner = new Int32Array(size).fill(-1);
  // skip * (next mod size) < 2^46: exact in a double.
  const permutation = (e: number): number => (offset[e]! + ((skip[e]! * (next[e]! % size)) % size)) % size;
  let filled = 0;
  for (let iteration = 1; filled < size; iteration++) {
    for (let e = 0; e < n && filled < size; e++) {
      // A host of weight maxWeight / k claims a slot every k-th iteration.
      if (iteration * weight[e]! < targetWeight[e]!) continue;
      targetWeight[e] = targetWeight[e]! + maxWeight;
      let c = permutation(e);
      while (owner[c] !== -1) {
        next[e] = next[e]! + 1;
        c = permutation(e);
      }
      owner[c] = e;
      next[e] = next[e]! + 1;
      count[e] = count[e]! + 1;
      filled++;
    }
  }
  const table = new Uint32Array(size);
  for (let s = 0; s < size; s++) table[s] = order[owner[s]!]!;
  let minEntries = size, maxEntries = 0;
  for (let e = 0; e < n; e++) {
    if (count[e]! < minEntries) minEntries = count[e]!;
    if (count[e]! > maxEntries) maxEntries = count[e]!;
  }
  return { table, stats: { minEntriesPerHost: minEntries, maxEntriesPerHost: maxEntries } };
}
