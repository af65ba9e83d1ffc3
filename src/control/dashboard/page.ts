/**
 * The dashboard: one self-contained page (no external scripts, fonts or CDNs, so it works on an
 * air-gapped control plane). It polls the JSON endpoints under /dashboard/api and redraws; every
 * value is set with textContent, never as HTML, since labels come from workloads.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tsmesh dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  :root { --fg:#1d2330; --muted:#667085; --line:#d0d5dd; --ok:#12805c; --bad:#c4320a; --bg:#f8f9fb; }
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: var(--fg); background: var(--bg); }
  header { display:flex; gap:16px; align-items:baseline; padding:12px 20px; background:#fff; border-bottom:1px solid var(--line); }
  header h1 { font-size:18px; margin:0; } header span { color: var(--muted); }
  main { display:grid; grid-template-columns: minmax(0,3fr) minmax(0,2fr); gap:16px; padding:16px 20px; }
  section { background:#fff; border:1px solid var(--line); border-radius:8px; padding:12px 14px; overflow:auto; }
  section h2 { font-size:15px; margin:0 0 8px; }
  #graph-section { grid-row: span 2; }
  svg { width:100%; min-height:420px; }
  .node rect { fill:#eef4ff; stroke:#3b6fd4; rx:8; } .node.service rect { fill:#f4f4f5; stroke:#98a2b3; stroke-dasharray:4 3; }
  .node.unknown rect { fill:#fff; stroke:#98a2b3; }
  .node text { font-size:12px; text-anchor:middle; } .node .version { fill: var(--muted); }
  .edge path { fill:none; stroke:var(--ok); stroke-width:2; } .edge.failing path { stroke:var(--bad); }
  .edge text { font-size:11px; fill:var(--fg); paint-order: stroke; stroke:#fff; stroke-width:3px; }
  table { border-collapse:collapse; width:100%; font-size:13px; } th, td { text-align:left; padding:4px 6px; border-bottom:1px solid #eaecf0; vertical-align:top; }
  th { color: var(--muted); font-weight:600; } .num { text-align:right; font-variant-numeric: tabular-nums; }
  .SYNCED { color: var(--ok); } .NACK, .bad { color: var(--bad); font-weight:600; } .STALE, .NOT_SENT { color: #b54708; }
  details { margin:4px 0; } pre { background:#f2f4f7; padding:8px; border-radius:6px; font-size:12px; overflow:auto; max-height:300px; }
  .empty { color: var(--muted); }
</style></head>
<body>
<header><h1>tsmesh</h1><span id="status">loading…</span></header>
<main>
  <section id="graph-section"><h2>Service graph <span class="empty" id="window"></span></h2>
    <svg id="graph" role="img" aria-label="service graph"><defs>
      <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#667085"/></marker>
    </defs><g id="edges"></g><g id="nodes"></g></svg>
    <table id="edge-table"><thead><tr><th>from</th><th>to</th><th>service</th><th class="num">req/s</th><th class="num">errors</th><th class="num">p99</th><th>mTLS</th></tr></thead><tbody></tbody></table>
  </section>
  <section><h2>Recent failures</h2><table id="failures"><thead><tr><th>edge</th><th>code</th><th>flags</th><th class="num">count</th><th>why</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Sidecars</h2><table id="sync"><thead><tr><th>proxy</th><th>CDS</th><th>LDS</th><th>EDS</th><th>RDS</th></tr></thead><tbody></tbody></table></section>
  <section style="grid-column: 1 / -1"><h2>Services and their config</h2><div id="services"></div></section>
</main>
<script>
"use strict";
const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
function el(tag, attrs, text) { const e = document.createElement(tag); for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v); if (text !== undefined) e.textContent = text; return e; }
function sv(tag, attrs, text) { const e = document.createElementNS(SVG, tag); for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v)); if (text !== undefined) e.textContent = text; return e; }
function row(cells) { const tr = el("tr"); for (const c of cells) { const td = typeof c === "object" && c !== null ? el("td", c.attrs || {}, c.text) : el("td", {}, String(c)); tr.append(td); } return tr; }
function fmtRate(r) { return r >= 100 ? r.toFixed(0) : r.toFixed(2); }
function pct(x) { return (x * 100).toFixed(x > 0 && x < 0.01 ? 2 : 1) + "%"; }
function short(id) { return id.length > 28 ? id.slice(0, 27) + "…" : id; }

// Layers by longest path from the nodes nothing calls, so a call always goes left to right.
function layout(nodes, edges) {
  const incoming = new Map(nodes.map((n) => [n.id, 0]));
  for (const e of edges) if (e.source !== e.target) incoming.set(e.target, (incoming.get(e.target) || 0) + 1);
  const layer = new Map();
  const queue = nodes.filter((n) => !incoming.get(n.id)).map((n) => n.id);
  for (const id of queue) layer.set(id, 0);
  for (let guard = 0; queue.length && guard < 10000; guard++) {
    const id = queue.shift();
    for (const e of edges) if (e.source === id && e.target !== id) {
      const next = layer.get(id) + 1;
      if (!layer.has(e.target) || (layer.get(e.target) < next && next < nodes.length)) { layer.set(e.target, next); queue.push(e.target); }
    }
  }
  for (const n of nodes) if (!layer.has(n.id)) layer.set(n.id, 0);
  const cols = new Map();
  for (const n of nodes) { const l = layer.get(n.id); if (!cols.has(l)) cols.set(l, []); cols.get(l).push(n); }
  const pos = new Map();
  const colW = 400, rowH = 110;
  for (const [l, list] of cols) list.forEach((n, i) => pos.set(n.id, { x: 30 + l * colW, y: 30 + i * rowH }));
  const height = Math.max(...[...cols.values()].map((c) => c.length), 1) * rowH + 40;
  const width = Math.max(...[...cols.keys()], 0) * colW + 230;
  return { pos, width, height };
}

function drawGraph(g) {
  const { pos, width, height } = layout(g.nodes, g.edges);
  const svg = $("graph");
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  svg.style.height = height + "px";
  const W = 170, H = 48;
  const nodesG = $("nodes"), edgesG = $("edges");
  nodesG.replaceChildren(); edgesG.replaceChildren();
  for (const n of g.nodes) {
    const p = pos.get(n.id);
    const grp = sv("g", { class: "node " + n.kind, "data-id": n.id, transform: "translate(" + p.x + "," + p.y + ")" });
    grp.append(sv("rect", { width: W, height: H }));
    grp.append(sv("text", { x: W / 2, y: 20 }, short(n.kind === "workload" ? n.app : n.id)));
    grp.append(sv("text", { x: W / 2, y: 37, class: "version" }, n.kind === "workload" ? (n.version ? n.version + " · " : "") + n.namespace : n.kind));
    grp.append(sv("title", {}, n.id));
    nodesG.append(grp);
  }
  const pairCount = new Map();
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  for (const e of g.edges) {
    const a = pos.get(e.source), b = pos.get(e.target);
    if (!a || !b) continue;
    const k = e.source + ">" + e.target, nth = pairCount.get(k) || 0; pairCount.set(k, nth + 1);
    const x1 = a.x + W, y1 = a.y + H / 2 + nth * 8, x2 = b.x, y2 = b.y + H / 2 + nth * 8;
    const back = x2 <= x1;
    const d = back ? "M" + (a.x + W / 2) + "," + (a.y + H) + " C" + (a.x + W / 2) + "," + (a.y + H + 60) + " " + (b.x + W / 2) + "," + (b.y + H + 60) + " " + (b.x + W / 2) + "," + (b.y + H)
                   : "M" + x1 + "," + y1 + " C" + (x1 + 40) + "," + y1 + " " + (x2 - 40) + "," + y2 + " " + x2 + "," + y2;
    const failing = e.errorRate > 0.01;
    const sn = byId.get(e.source), tn = byId.get(e.target);
    const grp = sv("g", { class: "edge" + (failing ? " failing" : ""), "data-source": e.source, "data-target": e.target, "data-source-app": sn ? sn.app : "", "data-target-app": tn ? tn.app : "", "data-target-version": tn ? tn.version : "", "data-service": e.service, "data-rate": e.rate, "data-total": e.total, "data-error-rate": e.errorRate, "data-mtls": e.mtls });
    grp.append(sv("path", { d, "marker-end": "url(#arrow)" }));
    const label = (e.mtls ? "\\u{1F512} " : "") + fmtRate(e.rate) + (e.protocol === "tcp" ? " conn/s" : " rps") + " · " + pct(e.errorRate) + (e.p99Ms !== undefined ? " · p99 " + e.p99Ms + " ms" : "");
    const lx = back ? (a.x + b.x + W) / 2 : (x1 + x2) / 2, ly = back ? Math.max(a.y, b.y) + H + 50 : (y1 + y2) / 2 - 6;
    grp.append(sv("text", { x: lx, y: ly, "text-anchor": "middle" }, label));
    grp.append(sv("title", {}, e.source + " → " + e.target + " (" + e.service + ", " + e.protocol + ", reported by the " + e.reporter + " sidecar)"));
    edgesG.append(grp);
  }
  const tbody = $("edge-table").tBodies[0];
  tbody.replaceChildren(...g.edges.map((e) => row([short(e.source), short(e.target), e.service, { text: fmtRate(e.rate), attrs: { class: "num" } }, { text: pct(e.errorRate), attrs: { class: "num" + (e.errorRate > 0.01 ? " bad" : "") } }, { text: e.p99Ms !== undefined ? e.p99Ms + " ms" : "–", attrs: { class: "num" } }, e.mtls ? "\\u{1F512} mutual TLS" : "plaintext"])));
  if (g.edges.length === 0) tbody.replaceChildren(row([{ text: "No traffic seen yet: the graph fills in as requests flow through the sidecars.", attrs: { colspan: 7, class: "empty" } }]));
  $("window").textContent = g.windowS > 0 ? "(rates over the last " + Math.round(g.windowS) + " s)" : "";
  const fb = $("failures").tBodies[0];
  fb.replaceChildren(...g.failures.map((f) => row([short(f.source) + " → " + short(f.target), f.code, f.flags, { text: String(Math.round(f.count)), attrs: { class: "num" } }, f.explanation])));
  if (g.failures.length === 0) fb.replaceChildren(row([{ text: "None in the window.", attrs: { colspan: 5, class: "empty" } }]));
}

const SHORT_TYPES = { CDS: "envoy.config.cluster.v3.Cluster", LDS: "envoy.config.listener.v3.Listener", EDS: "envoy.config.endpoint.v3.ClusterLoadAssignment", RDS: "envoy.config.route.v3.RouteConfiguration" };
function drawSync(list) {
  const tb = $("sync").tBodies[0];
  tb.replaceChildren(...list.map((p) => {
    const cells = [p.identity.name + "." + p.identity.namespace];
    for (const t of Object.values(SHORT_TYPES)) {
      const s = p.types["type.googleapis.com/" + t];
      cells.push({ text: s ? s.state : "–", attrs: { class: s ? s.state : "", title: s && s.lastNack ? s.lastNack.message : "" } });
    }
    return row(cells);
  }));
  if (list.length === 0) tb.replaceChildren(row([{ text: "No sidecar connected.", attrs: { colspan: 5, class: "empty" } }]));
}

function drawServices(list) {
  const box = $("services");
  const open = new Set([...box.querySelectorAll("details[open]")].map((d) => d.dataset.host));
  box.replaceChildren(...list.map((s) => {
    const d = el("details", { "data-host": s.host });
    if (open.has(s.host)) d.open = true;
    const versions = [...new Set(s.endpoints.map((e) => e.labels.version).filter(Boolean))];
    d.append(el("summary", {}, s.host + "  ·  ports " + s.ports.map((p) => p.number + "/" + p.protocol).join(", ") + "  ·  " + s.endpoints.length + " endpoint(s)" + (versions.length ? " (" + versions.join(", ") + ")" : "") + "  ·  " + s.config.length + " resource(s)"));
    for (const r of s.config) d.append(el("pre", {}, r.kind + " " + r.metadata.namespace + "/" + r.metadata.name + "\\n" + JSON.stringify(r.spec, null, 2)));
    return d;
  }));
}

async function json(path) { const r = await fetch(path, { cache: "no-store" }); if (!r.ok) throw new Error(path + ": " + r.status); return r.json(); }
async function refresh() {
  try {
    const [graph, sync, services] = await Promise.all([json("/dashboard/api/graph"), json("/dashboard/api/sync"), json("/dashboard/api/services")]);
    drawGraph(graph); drawSync(sync); drawServices(services);
    const errs = Object.keys(graph.scrapeErrors || {}).length;
    $("status").textContent = sync.length + " sidecar(s) · " + graph.edges.length + " edge(s) · updated " + new Date().toLocaleTimeString() + (errs ? " · " + errs + " sidecar(s) not scraped" : "");
    document.body.dataset.updated = String(Date.now());
  } catch (e) { $("status").textContent = "cannot reach the control plane: " + e.message; }
}
refresh();
setInterval(refresh, 2000);
</script></body></html>
`;
