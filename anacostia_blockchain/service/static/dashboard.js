// Anacostia dashboard: vanilla JS, no build step. Every value from the server is inserted with textContent or
// setAttribute (never innerHTML): model names and metadata come from the chain and IPFS and are untrusted.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const COLORS = { success: "#1f9d55", failure: "#cc1f1a", error: "#cc1f1a", running: "#2779bd",
                 skipped: "#b8c2cc", aborted: "#b8c2cc", idle: "#8795a1" };
const KIND_LABEL = { metadata_store: "store", resource: "resource", action: "action" };
const state = { graph: null, runs: new Map(), statuses: {}, explorer: "" };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value; else node.setAttribute(key, value);
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(child == null ? "" : String(child)));
  }
  return node;
}

function svg(tag, attrs) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
  return node;
}

function short(hex) {
  return typeof hex === "string" && hex.length > 14 ? hex.slice(0, 8) + "…" + hex.slice(-4) : (hex || "");
}

// --- the DAG ----------------------------------------------------------------------------------------------------
function layers(nodes) {
  const depth = {};
  const byName = Object.fromEntries(nodes.map((n) => [n.name, n]));
  const visit = (name, seen) => {
    if (depth[name] !== undefined) return depth[name];
    if (seen.has(name)) return 0;
    seen.add(name);
    const preds = (byName[name] || { predecessors: [] }).predecessors;
    depth[name] = preds.length ? Math.max(...preds.map((p) => visit(p, seen) + 1)) : 0;
    return depth[name];
  };
  nodes.forEach((n) => visit(n.name, new Set()));
  return depth;
}

function renderDag() {
  const dag = document.getElementById("dag");
  const empty = document.getElementById("pipeline-empty");
  dag.replaceChildren();
  if (!state.graph) { empty.hidden = false; dag.setAttribute("height", "10"); return; }
  empty.hidden = true;
  const nodes = state.graph.nodes;
  const depth = layers(nodes);
  const rows = {};
  const pos = {};
  const W = 170, H = 44, GX = 60, GY = 24;
  for (const node of nodes) {
    const d = depth[node.name];
    rows[d] = (rows[d] || 0) + 1;
    pos[node.name] = { x: 10 + d * (W + GX), y: 10 + (rows[d] - 1) * (H + GY) };
  }
  const maxRows = Math.max(1, ...Object.values(rows));
  const maxDepth = Math.max(0, ...Object.values(depth));
  dag.setAttribute("height", String(20 + maxRows * (H + GY)));
  dag.setAttribute("viewBox", `0 0 ${20 + (maxDepth + 1) * (W + GX)} ${20 + maxRows * (H + GY)}`);
  const defs = svg("defs");
  const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 6,
                                  markerHeight: 6, orient: "auto-start-reverse" });
  marker.append(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#8795a1" }));
  defs.append(marker);
  dag.append(defs);
  for (const node of nodes) {
    for (const pred of node.predecessors) {
      const a = pos[pred], b = pos[node.name];
      if (!a || !b) continue;
      const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2, mx = (x1 + x2) / 2;
      dag.append(svg("path", { class: "edge", d: `M ${x1} ${y1} C ${mx} ${y1}, ${mx} ${y2}, ${x2} ${y2}` }));
    }
  }
  for (const node of nodes) {
    const status = state.statuses[node.name] || "idle";
    const g = svg("g", { class: "node", "data-node": node.name, "data-status": status,
                         transform: `translate(${pos[node.name].x},${pos[node.name].y})` });
    g.append(svg("rect", { width: W, height: H, fill: COLORS[status] || COLORS.idle }));
    const title = svg("text", { x: 10, y: 18 });
    title.textContent = node.name;
    const sub = svg("text", { x: 10, y: 34 });
    sub.textContent = `${KIND_LABEL[node.kind] || node.kind} · ${status}`;
    g.append(title, sub);
    dag.append(g);
  }
}

// --- runs ---------------------------------------------------------------------------------------------------------
function sparkline(points) {
  const w = 120, h = 28;
  const chart = svg("svg", { class: "spark", width: w, height: h, viewBox: `0 0 ${w} ${h}` });
  if (points.length === 0) return chart;
  const xs = points.map((p, i) => (p.step == null ? i : p.step));
  const ys = points.map((p) => p.value);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (x) => (x1 === x0 ? w / 2 : 2 + ((x - x0) / (x1 - x0)) * (w - 4));
  const sy = (y) => (y1 === y0 ? h / 2 : h - 2 - ((y - y0) / (y1 - y0)) * (h - 4));
  chart.append(svg("polyline", { points: points.map((p, i) => `${sx(xs[i])},${sy(p.value)}`).join(" ") }));
  if (points.length === 1) chart.append(svg("circle", { cx: sx(xs[0]), cy: sy(ys[0]), r: 2, fill: "#2779bd" }));
  return chart;
}

function metricsCell(metrics) {
  const byKey = {};
  for (const m of metrics) (byKey[m.key] = byKey[m.key] || []).push(m);
  const cell = el("td");
  for (const [key, points] of Object.entries(byKey)) {
    const last = points[points.length - 1].value;
    cell.append(el("div", { class: "metric", "data-metric": key }, `${key} = ${Number(last).toPrecision(4)} `,
                   sparkline(points)));
  }
  return cell;
}

function renderRuns() {
  const body = document.querySelector("#runs tbody");
  const runs = [...state.runs.values()].sort((a, b) => b.id - a.id);
  body.replaceChildren(...runs.map((run) => {
    const nodes = el("td");
    for (const n of run.nodes) {
      nodes.append(el("div", {}, `${n.node_name}: `, el("span", { class: `status status-${n.status}` }, n.status)));
    }
    return el("tr", { "data-run": String(run.id) },
      el("td", {}, `#${run.id}`),
      el("td", {}, el("span", { class: `status status-${run.status}` }, run.status)),
      el("td", { class: "mono" }, run.trigger || ""),
      nodes,
      metricsCell(run.metrics || []));
  }));
}

function latestStatuses() {
  const runs = [...state.runs.values()].sort((a, b) => b.id - a.id);
  state.statuses = runs.length ? Object.fromEntries(runs[0].nodes.map((n) => [n.node_name, n.status])) : {};
}

// --- chain: anchors and models ------------------------------------------------------------------------------------
async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.json();
  if (!response.ok) throw new Error(body && body.error ? `${body.error.type}: ${body.error.message}` : response.status);
  return body;
}

async function verify(key, cell) {
  cell.textContent = "checking…";
  try {
    const result = await getJson(`/runs/${encodeURIComponent(key)}/verify`);
    const ok = result.matches && result.manifest_verified !== false;
    cell.replaceChildren(el("span", { class: `status status-${ok ? "verified" : "mismatch"}` },
                            ok ? "verified" : "MISMATCH"));
  } catch (error) {
    cell.replaceChildren(el("span", { class: "muted" }, String(error.message || error)));
  }
}

async function loadAnchors() {
  const body = document.querySelector("#anchors tbody");
  let page;
  try { page = await getJson("/runs?page_size=20"); } catch (error) { return; }
  const explorer = state.explorer || "";
  body.replaceChildren(...page.items.map((run) => {
    const verification = el("td", { class: "verification" });
    const button = el("button", { type: "button" }, "verify");
    button.addEventListener("click", () => verify(run.key, verification));
    verification.append(button);
    const tx = explorer ? el("a", { href: explorer + run.tx_hash, rel: "noopener" }, short(run.tx_hash))
                        : el("a", { href: `/runs/${run.key}` }, short(run.tx_hash));
    return el("tr", { "data-anchor": run.key },
      el("td", { class: "mono" }, `${short(run.pipeline_id)} #${run.run_id}`),
      el("td", { class: "mono" }, short(run.merkle_root)),
      el("td", { class: "mono" }, short(run.manifest_cid)),
      el("td", {}, String(run.block_number)),
      el("td", { class: "mono" }, tx),
      verification);
  }));
}

async function loadModels() {
  const body = document.querySelector("#models tbody");
  let page;
  try { page = await getJson("/models?page_size=20"); } catch (error) { return; }
  body.replaceChildren(...page.items.map((m) => el("tr", { "data-model": String(m.token_id) },
    el("td", {}, `#${m.token_id}`),
    el("td", {}, m.name || el("span", { class: "muted" }, m.metadata_status || "pending")),
    el("td", { class: "mono" }, short(m.owner)),
    el("td", {}, m.listed && m.price_usd != null ? m.price_usd.toFixed(2) : "not listed"),
    el("td", { class: "mono" }, m.ip_id ? `IP ${short(m.ip_id)}` : "no IP"),
    el("td", {}, Object.entries(m.metrics).map(([k, v]) => `${k}=${Number(v).toPrecision(3)}`).join(", ")))));
}

async function loadStatus() {
  try {
    const s = await getJson("/status");
    state.explorer = s.explorer_tx_url || "";
    document.getElementById("index-status").textContent =
      `chain ${s.chain_id == null ? "–" : s.chain_id} · block ${s.next_block == null ? "–" : s.next_block - 1} · ` +
      `${s.models} models · ${s.runs} anchored runs`;
  } catch (error) { /* the status line is informational */ }
}

// --- live stream --------------------------------------------------------------------------------------------------
function connect() {
  const badge = document.getElementById("connection");
  const source = new EventSource("/events");
  source.addEventListener("open", () => { badge.dataset.state = "live"; badge.textContent = "live"; });
  source.addEventListener("error", () => { badge.dataset.state = "error"; badge.textContent = "reconnecting"; });
  source.addEventListener("snapshot", (event) => {
    const snap = JSON.parse(event.data);
    state.graph = snap.graph;
    state.runs = new Map((snap.runs || []).map((r) => [r.id, r]));
    latestStatuses();
    renderDag();
    renderRuns();
  });
  source.addEventListener("run", (event) => {
    const { run } = JSON.parse(event.data);
    state.runs.set(run.id, run);
    latestStatuses();
    renderDag();
    renderRuns();
  });
  const reloadChain = () => { loadAnchors(); loadModels(); loadStatus(); };
  source.addEventListener("indexed", (event) => { if (JSON.parse(event.data).events > 0) reloadChain(); });
  source.addEventListener("metadata", reloadChain);
  source.addEventListener("reorg", reloadChain);
}

document.addEventListener("DOMContentLoaded", () => {
  connect();
  loadStatus().then(loadAnchors);
  loadModels();
});
