// The overview: every served pipeline (DAG, metrics across runs, newest runs), the anchored runs of the index with
// their kept verification verdicts, and the models. Live through /events.
"use strict";

const RUN_LABELS = ["", "Run", "Status", "Started", "Duration", "Nodes", "Metrics"];
const overview = { pipelines: new Map(), order: [], historyTimers: new Map() };

function pipelineState(name) {
  return overview.pipelines.get(name);
}

function pipelineNameById(pipelineId) {
  for (const p of overview.pipelines.values()) {
    if (p.pipeline_id && pipelineId && p.pipeline_id.toLowerCase() === pipelineId.toLowerCase()) return p.name;
  }
  return null;
}

// --- pipelines -----------------------------------------------------------------------------------------------------
function pipelineSection(p, index) {
  const section = el("section", { class: "pipeline", id: `pipeline-${index}`, "data-pipeline": p.name },
    el("div", { class: "section-head" },
      el("h2", {}, p.name),
      p.pipeline_id ? mono(`pipelineId ${short(p.pipeline_id)}`, p.pipeline_id) : el("span", { class: "muted" }, "not anchored"),
      el("span", { class: "badge", "data-state": (p.graph && p.graph.state) || "unknown" }, (p.graph && p.graph.state) || "unknown")),
    p.error ? el("p", { class: "error" }, p.error) : null,
    svg("svg", { class: "dag", role: "img", "aria-label": `${p.name} DAG` }),
    el("h3", {}, "Metrics across runs"),
    el("p", { class: "muted small" }, "Last value of each metric per run; hover for values, drag to zoom, click a point to open that run."),
    el("div", { class: "chart-grid" }),
    el("div", { class: "runs-head" },
      el("h3", {}, "Runs"),
      el("button", { type: "button", class: "compare", disabled: "" }, "Compare selected")),
    el("div", { class: "runs-table" }));
  section.addEventListener("change", () => {
    section.querySelector("button.compare").disabled = section.querySelectorAll("input.pick:checked").length < 1;
  });
  section.querySelector("button.compare").addEventListener("click", () => {
    const picked = [...section.querySelectorAll("input.pick:checked")].map((i) => Number(i.value)).sort((a, b) => b - a);
    if (picked.length) location.href = runUrl(p.name, picked[0], picked.slice(1));
  });
  return section;
}

function nodeDots(nodes) {
  return el("span", { class: "dots" }, nodes.map((n) =>
    el("span", { class: `dot status-bg-${n.status}`, title: `${n.node_name}: ${n.status}`, "data-node": n.node_name })));
}

function metricList(metrics) {
  const entries = Object.entries(metrics || {}).slice(-4);  // the last logged: usually the evaluation
  return el("span", { class: "metric-list" }, entries.map(([key, m]) =>
    el("span", { class: "metric", "data-metric": key }, el("span", { class: "muted" }, key), " ", fmtNum(m.last))));
}

function renderRuns(p) {
  const section = document.querySelector(`section.pipeline[data-pipeline="${CSS.escape(p.name)}"]`);
  if (!section) return;
  const runs = [...p.runs.values()].sort((a, b) => b.id - a.id);
  const latest = runs[0];
  p.statuses = latest ? Object.fromEntries(latest.nodes.map((n) => [n.node_name, n.status])) : {};
  renderDag(section.querySelector("svg.dag"), p.graph, p.statuses);
  const rows = runs.map((run) => row({ "data-run": String(run.id) }, RUN_LABELS, [
    el("td", { class: "pick-cell" }, el("input", { type: "checkbox", class: "pick", value: String(run.id),
                                                   "aria-label": `compare run ${run.id}` })),
    el("td", {}, el("a", { href: runUrl(p.name, run.id) }, `#${run.id}`)),
    el("td", {}, statusBadge(run.status)),
    fmtTime(run.started_at),
    fmtDuration(run.ended_at != null ? run.ended_at - run.started_at : null),
    el("td", {}, nodeDots(run.nodes)),
    el("td", {}, metricList(run.metrics)),
  ]));
  const holder = section.querySelector(".runs-table");
  const picked = new Set([...holder.querySelectorAll("input.pick:checked")].map((i) => i.value));
  holder.replaceChildren(rows.length ? table(null, RUN_LABELS, rows, "runs")
                                     : el("p", { class: "muted" }, "No run yet: the pipeline waits for its trigger."));
  holder.querySelectorAll("input.pick").forEach((i) => { i.checked = picked.has(i.value); });
}

async function loadHistory(p) {
  const section = document.querySelector(`section.pipeline[data-pipeline="${CSS.escape(p.name)}"]`);
  let history;
  try { history = await getJson(`/dashboard/api/pipelines/${encodeURIComponent(p.name)}/history`); }
  catch (error) { return; }
  const grid = section.querySelector(".chart-grid");
  const keys = Object.keys(history.metrics).filter((k) => history.metrics[k].some((v) => v != null)).slice(0, 12);
  grid.replaceChildren();
  if (!keys.length) { grid.append(el("p", { class: "muted" }, "No metric logged yet.")); return; }
  keys.forEach((key, i) => {
    const xs = [], ys = [];
    history.metrics[key].forEach((v, j) => { if (v != null) { xs.push(history.runs[j]); ys.push(v); } });
    const { figure, holder } = chartCard(`history-${p.index}-${i}`, key, `${xs.length} run${xs.length === 1 ? "" : "s"}`);
    figure.dataset.metric = key;
    grid.append(figure);
    drawChart(holder, [{ label: key, x: xs, y: ys }],
              { xLabel: "run", points: true, integerX: true, onPick: (runId) => { location.href = runUrl(p.name, runId); } });
  });
}

function scheduleHistory(p) {
  clearTimeout(overview.historyTimers.get(p.name));
  overview.historyTimers.set(p.name, setTimeout(() => loadHistory(p), 400));
}

function applySnapshot(snap) {
  const container = document.getElementById("pipelines");
  document.getElementById("pipeline-empty").hidden = snap.pipelines.length > 0;
  const jump = document.getElementById("jump");
  container.querySelectorAll("section.pipeline").forEach((s) => s.remove());
  overview.pipelines.clear();
  jump.replaceChildren();
  snap.pipelines.forEach((data, index) => {
    const p = { ...data, index, runs: new Map((data.runs || []).map((r) => [r.id, r])) };
    overview.pipelines.set(p.name, p);
    container.append(pipelineSection(p, index));
    jump.append(el("a", { href: `#pipeline-${index}` }, p.name));
    renderRuns(p);
    loadHistory(p);
  });
  loadAnchors();
}

function applyRun(event) {
  const p = pipelineState(event.pipeline);
  if (!p) return;
  const before = p.runs.get(event.run.id);
  p.runs.set(event.run.id, event.run);
  renderRuns(p);
  const counts = (r) => JSON.stringify(Object.entries(r.metrics || {}).map(([k, m]) => [k, m.count]));
  if (!before || before.status !== event.run.status || counts(before) !== counts(event.run)) scheduleHistory(p);
}

// --- chain: anchored runs and models --------------------------------------------------------------------------------
const ANCHOR_LABELS = ["Pipeline", "Run", "Merkle root", "Manifest", "Block", "Tx", "Verification"];

async function verifyAnchor(key, cell) {
  cell.replaceChildren(el("span", { class: "muted" }, "checking…"));
  try {
    const result = await postJson(`/dashboard/api/anchors/${encodeURIComponent(key)}/verify`);
    cell.replaceChildren(verdictView(result), verifyButton(key, cell, "again"));
  } catch (error) {
    cell.replaceChildren(el("span", { class: "error" }, String(error.message || error)), verifyButton(key, cell));
  }
}

function verifyButton(key, cell, again) {
  const button = el("button", { type: "button", class: "verify" }, again ? "verify again" : "verify");
  button.addEventListener("click", () => verifyAnchor(key, cell));
  return button;
}

async function loadAnchors() {
  let page;
  try { page = await getJson("/runs?page_size=20"); } catch (error) { return; }
  let kept = {};
  if (page.items.length) {
    try {
      kept = (await getJson(`/dashboard/api/verdicts?keys=${page.items.map((r) => r.key).join(",")}`)).verdicts;
    } catch (error) { kept = {}; }
  }
  const rows = page.items.map((run) => {
    const name = pipelineNameById(run.pipeline_id);
    const cell = el("td", { class: "verification" });
    cell.append(verdictView(kept[run.key.toLowerCase()]), verifyButton(run.key, cell, kept[run.key.toLowerCase()]));
    return row({ "data-anchor": run.key }, ANCHOR_LABELS, [
      name ? el("td", {}, name) : el("td", {}, mono(short(run.pipeline_id), run.pipeline_id)),
      name ? el("td", {}, el("a", { href: runUrl(name, run.run_id) }, `#${run.run_id}`)) : `#${run.run_id}`,
      el("td", {}, mono(short(run.merkle_root), run.merkle_root)),
      el("td", {}, mono(short(run.manifest_cid), run.manifest_cid)),
      String(run.block_number),
      el("td", {}, txLink(run.tx_hash)),
      cell,
    ]);
  });
  document.getElementById("anchors").replaceChildren(
    rows.length ? table("anchors-table", ANCHOR_LABELS, rows) : el("p", { class: "muted" }, "No anchored run indexed yet."));
}

const MODEL_LABELS = ["Model", "Name", "Owner", "Price (USD)", "Sales", "License", "Metrics"];

async function loadModels() {
  let page;
  try { page = await getJson("/models?page_size=20"); } catch (error) { return; }
  const rows = page.items.map((m) => row({ "data-model": String(m.token_id) }, MODEL_LABELS, [
    el("td", {}, el("a", { href: `/dashboard/models/${m.token_id}` }, `#${m.token_id}`)),
    m.name || el("span", { class: "muted" }, m.metadata_status || "pending"),
    el("td", {}, mono(short(m.owner), m.owner)),
    m.listed && m.price_usd != null ? m.price_usd.toFixed(2) : "not listed",
    String(m.sales),
    el("td", {}, m.ip_id ? mono(`IP ${short(m.ip_id)}`, m.ip_id) : "no IP"),
    Object.entries(m.metrics || {}).slice(0, 3).map(([k, v]) => `${k}=${fmtNum(v)}`).join(", ") || "–",
  ]));
  document.getElementById("models").replaceChildren(
    rows.length ? table("models-table", MODEL_LABELS, rows) : el("p", { class: "muted" }, "No model indexed yet."));
}

document.addEventListener("DOMContentLoaded", () => {
  const reloadChain = () => { loadAnchors(); loadModels(); loadStatusLine(); };
  connectLive({
    snapshot: applySnapshot,
    run: applyRun,
    indexed: (event) => { if (event.events > 0) reloadChain(); },
    metadata: reloadChain,
    reorg: reloadChain,
  });
  loadStatusLine().then(loadAnchors);
  loadModels();
});
