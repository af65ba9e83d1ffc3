import type { HttpFilterCallbacks, LocalReplyOptions } from '../filters/types.js';
import type { RouteSelection } from '../route/route-table.js';
import { perFilterLevels } from '../route/per-filter-config.js';
import type { ConnectionInfo } from './connection-info.js';
import type { HttpStream } from './http-stream.js';
import type { JsonObject } from '@bufbuild/protobuf';
import { mergeDynamicMetadata } from '../dynamic-metadata.js';

/** The callbacks one filter instance gets (its name finds its per-route config). */
export class FilterCallbacks implements HttpFilterCallbacks {
  constructor(readonly stream: HttpStream, readonly name: string, readonly index: number) {}
  get route(): RouteSelection | undefined { return this.stream.route; }
  get conn(): ConnectionInfo { return this.stream.conn; }
  get downstreamAddress(): string { return this.stream.downstreamAddress.address; }
  get finished(): boolean { return this.stream.finished; }
  continueDecoding(): void { this.stream.continueDecoding(); }
  sendLocalReply(status: number, body: string, details: string, opts?: LocalReplyOptions): void { this.stream.sendLocalReply(status, body, details, opts); }
  addResponseFlags(flags: number): void { this.stream.flags |= flags; }
  injectEncodedData(chunk: Buffer, endStream: boolean): void { this.stream.injectEncodedData(this.index, chunk, endStream); }
  continueEncoding(): void { this.stream.continueEncoding(this.index); }
  setResponseOverLimit(over: boolean): void { this.stream.setResponseOverLimit(over); }
  dynamicMetadata(namespace: string): JsonObject | undefined { return this.stream.dynamicMetadata?.get(namespace); }
  clearRouteCache(): void { this.stream.clearRouteCache(); }
  setDynamicMetadata(namespace: string, fields: JsonObject): void { mergeDynamicMetadata(this.stream.dynamicMetadata ??= new Map(), namespace, fields); }
  perRouteConfig<T>(): T | undefined {
    const sel = this.stream.route;
    if (!sel) return undefined;
    return (sel.route.perFilterConfig?.get(this.name) ?? sel.virtualHost.perFilterConfig?.get(this.name)) as T | undefined;
  }
  perRouteConfigs<T>(): T[] {
    const sel = this.stream.route;
    return sel ? perFilterLevels<T>([sel.route.perFilterConfig, sel.virtualHost.perFilterConfig], this.name) : [];
  }
}
