// Shared helpers of the dashboard pages: DOM building, formatting, JSON requests, the live stream.
// Vanilla JS, no build step. Every value from the server is inserted with textContent or setAttribute (never
// innerHTML): names and metadata come from the chain and IPFS and are untrusted.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const STATUS_COLORS = { success: "#1f9d55", failure: "#cc1f1a", failed: "#cc1f1a", error: "#cc1f1a",
                        running: "#2779bd", skipped: "#b8c2cc", aborted: "#b8c2cc", idle: "#8795a1" };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null) continue;
    if (key === "class") node.className = value; else node.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child == null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Replace `node`'s children, skipping null/undefined ones (conditional parts of a view).
function fill(node, ...children) {
  node.replaceChildren(...children.flat(Infinity).filter((c) => c != null).map((c) => (c instanceof Node ? c : String(c))));
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

function fmtNum(value) {
  if (value == null || value === "") return "–";
  const n = Number(value);
  if (!Number.isFinite(n)) return String(value);
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return n.toLocaleString("en-US");
  const abs = Math.abs(n);
  return abs !== 0 && (abs < 1e-3 || abs >= 1e6) ? n.toExponential(3) : String(Number(n.toPrecision(5)));
}

function fmtTime(epochSeconds) {
  if (epochSeconds == null) return "–";
  const d = new Date(Number(epochSeconds) * 1000);
  const pad = (v) => String(v).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}` +
         `:${pad(d.getSeconds())}`;
}

function fmtDuration(seconds) {
  if (seconds == null) return "–";
  const s = Number(seconds);
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 120) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

function statusBadge(status) {
  const text = status || "unknown";
  return el("span", { class: `status status-${text.replace(/\s+/g, "-")}`, "data-status": text }, text);
}

// A table row whose cells carry their column label (shown before the value when the table reflows on a phone).
function row(attrs, labels, cells) {
  return el("tr", attrs, cells.map((cell, i) =>
    cell instanceof HTMLTableCellElement ? (cell.setAttribute("data-label", labels[i]), cell)
                                         : el("td", { "data-label": labels[i] }, cell)));
}

function table(id, labels, rows, extraClass) {
  return el("table", { id, class: `reflow ${extraClass || ""}`.trim() },
    el("thead", {}, el("tr", {}, labels.map((l) => el("th", {}, l)))),
    el("tbody", {}, rows));
}

function keyValueTable(id, entries) {
  const rows = entries.map(([key, value]) => row({ "data-key": key }, ["Name", "Value"],
    [el("td", { class: "mono" }, key), el("td", { class: "mono wrap" }, value)]));
  return table(id, ["Name", "Value"], rows, "kv");
}

function mono(text, title) {
  return el("span", { class: "mono", title: title || text }, text);
}

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const error = new Error(body && body.error ? `${body.error.type}: ${body.error.message}` : `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

async function postJson(url) {
  const response = await fetch(url, { method: "POST", headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error(body && body.error ? `${body.error.type}: ${body.error.message}` : response.status);
  return body;
}

let explorerPrefix = "";

async function loadStatusLine() {
  try {
    const s = await getJson("/status");
    explorerPrefix = s.explorer_tx_url || "";
    document.getElementById("index-status").textContent =
      `chain ${s.chain_id == null ? "–" : s.chain_id} · block ${s.next_block == null ? "–" : s.next_block - 1} · ` +
      `${s.models} models · ${s.runs} anchored runs`;
  } catch (error) { /* the status line is informational */ }
}

function txLink(txHash) {
  if (!txHash) return "–";
  return explorerPrefix ? el("a", { href: explorerPrefix + txHash, rel: "noopener", class: "mono" }, short(txHash))
                        : mono(short(txHash), txHash);
}

function runUrl(pipeline, runId, compare) {
  const base = `/dashboard/pipelines/${encodeURIComponent(pipeline)}/runs/${runId}`;
  return compare && compare.length ? `${base}?compare=${compare.join(",")}` : base;
}

// A verification verdict as kept by the server ({verdict, ok, detail, checked_at, method}).
function verdictView(verdict) {
  if (!verdict) return el("span", { class: "muted", "data-verdict": "none" }, "not verified yet");
  const label = verdict.ok ? "verified" : verdict.verdict;
  return el("span", { class: "verdict", "data-verdict": verdict.verdict, title: verdict.detail || "" },
    el("span", { class: `status status-${verdict.ok ? "verified" : "mismatch"}` }, label),
    el("span", { class: "muted small" }, ` · ${fmtTime(verdict.checked_at)} (${verdict.method})`));
}

// The live stream: `handlers` maps event types (snapshot, run, indexed, metadata, reorg) to functions.
function connectLive(handlers) {
  const badge = document.getElementById("connection");
  const source = new EventSource("/events");
  source.addEventListener("open", () => { badge.dataset.state = "live"; badge.textContent = "live"; });
  source.addEventListener("error", () => { badge.dataset.state = "error"; badge.textContent = "reconnecting"; });
  for (const [type, handler] of Object.entries(handlers)) {
    source.addEventListener(type, (event) => handler(JSON.parse(event.data)));
  }
  return source;
}

// An 18-decimal integer (wei, USD units) given as a decimal string, as a decimal number string with `digits` places.
function fromUnits(units, digits) {
  if (units == null || units === "") return null;
  const value = BigInt(units), scale = 10n ** 18n, sign = value < 0n ? "-" : "", abs = value < 0n ? -value : value;
  const fraction = (abs % scale).toString().padStart(18, "0").slice(0, digits).replace(/0+$/, "");
  return `${sign}${(abs / scale).toString()}${fraction ? "." + fraction : ""}`;
}
