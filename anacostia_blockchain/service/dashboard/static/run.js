// One run of a served pipeline: summary, anchor and kept verification verdict, metrics over steps (compared with
// other runs of the pipeline), node timings, quarantined inputs, params and tags, artifacts with CIDs, lineage (each
// output's inputs, and the lineage graph from /pipelines/{name}/runs/{id}/lineage drawn by lineage.js).
"use strict";

const page = (() => {
  const match = location.pathname.match(/^\/dashboard\/pipelines\/([^/]+)\/runs\/(\d+)\/?$/);
  const compare = (new URLSearchParams(location.search).get("compare") || "")
    .split(",").filter((v) => /^\d+$/.test(v)).map(Number);
  return { pipeline: match ? decodeURIComponent(match[1]) : "", runId: match ? Number(match[2]) : 0,
           compare, detail: null, others: new Map(), reloadTimer: null };
})();
const api = `/dashboard/api/pipelines/${encodeURIComponent(page.pipeline)}`;

// --- summary and anchor ----------------------------------------------------------------------------------------------
function card(label, value, attrs) {
  return el("div", { class: "card", ...(attrs || {}) }, el("div", { class: "label" }, label), el("div", { class: "value" }, value));
}

function renderSummary(d) {
  document.title = `${d.pipeline} run #${d.id} · Anacostia`;
  document.getElementById("crumbs").replaceChildren(
    el("a", { href: "/dashboard" }, "dashboard"), " › ", d.pipeline, " › ", `run #${d.id}`);
  const produced = (d.artifacts.produced || []).length, consumed = (d.artifacts.consumed || []).length;
  fill(document.getElementById("summary"),
    el("div", { class: "section-head" }, el("h1", { id: "title" }, `${d.pipeline} · run #${d.id}`), statusBadge(d.status)),
    d.error ? el("p", { class: "error" }, d.error) : null,
    el("div", { class: "cards" },
      card("Status", statusBadge(d.status), { "data-field": "status" }),
      card("Duration", fmtDuration(d.duration), { "data-field": "duration" }),
      card("Started", fmtTime(d.started_at)),
      card("Ended", fmtTime(d.ended_at)),
      card("Trigger", el("span", { class: "mono" }, d.trigger || "–")),
      card("Inputs → outputs", `${consumed} → ${produced}`),
      card("Quarantined", String(d.quarantine.length), { "data-field": "quarantined" })));
}

function renderAnchor(d) {
  const target = document.getElementById("anchor");
  const a = d.anchor;
  if (!a) {
    target.replaceChildren(el("p", { class: "muted" }, "This pipeline's store does not anchor its runs."));
    return;
  }
  const verdictCell = el("span", { id: "verdict" }, verdictView(d.verification));
  const note = el("span", { id: "verify-note", class: "muted small" });
  const button = el("button", { type: "button", id: "verify", class: "verify" }, d.verification ? "verify again" : "verify now");
  button.addEventListener("click", () => verifyRun(button, verdictCell, note));
  const facts = [
    ["Anchor", el("span", {}, statusBadge(a.status), a.finality && a.finality !== a.status ? ` · ${a.finality}` : "")],
    ["Transaction", txLink(a.tx_hash)],
    ["Block", a.block != null ? String(a.block) : "–"],
    ["Merkle root", a.root ? mono(a.root) : "–"],
    ["Manifest CID", a.manifest_cid ? mono(a.manifest_cid) : "–"],
    ["Run key", a.key ? mono(a.key) : "–"],
    ["Attempts", a.attempts != null ? String(a.attempts) : "–"],
    a.last_error || a.error ? ["Last error", el("span", { class: "error" }, a.last_error || a.error)] : null,
    ["Verification", el("span", {}, verdictCell, button, " ", note)],
  ].filter(Boolean);
  target.replaceChildren(el("dl", { class: "facts", id: "anchor-facts" },
    facts.map(([k, v]) => [el("dt", {}, k), el("dd", { "data-fact": k }, v)])));
}

async function verifyRun(button, verdictCell, note) {
  button.disabled = true;
  note.textContent = "checking against the chain…";
  try {
    const result = await postJson(`${api}/runs/${page.runId}/verify`);
    if (result.kept) { verdictCell.replaceChildren(verdictView(result)); note.textContent = ""; }
    else note.textContent = `could not check: ${result.detail || result.verdict}`;
  } catch (error) {
    note.textContent = String(error.message || error);
  } finally {
    button.disabled = false;
    button.textContent = "verify again";
  }
}

// --- metrics ---------------------------------------------------------------------------------------------------------
async function summaryOf(runId) {
  if (runId === page.runId) return page.detail.metrics;
  if (!page.others.has(runId)) {
    try { page.others.set(runId, (await getJson(`${api}/runs/${runId}`)).metrics); }
    catch (error) { page.others.set(runId, {}); }
  }
  return page.others.get(runId);
}

// How much another run's value differs from this run's: "(+0.02)" means 0.02 more than this run.
function delta(value, base) {
  if (value == null || base == null) return null;
  const diff = value - base;
  return el("span", { class: "muted small delta" }, diff === 0 ? " (=)" : ` (${diff > 0 ? "+" : ""}${fmtNum(diff)})`);
}

async function renderMetricTable() {
  const metrics = page.detail.metrics;
  const compared = await Promise.all(page.compare.map(summaryOf));
  const labels = ["Metric", `#${page.runId} last`, "Min", "Max", "Points", ...page.compare.map((id) => `#${id} (vs #${page.runId})`)];
  const keys = [...new Set([...Object.keys(metrics), ...compared.flatMap((m) => Object.keys(m))])].sort();
  const rows = keys.map((key) => {
    const m = metrics[key];
    return row({ "data-metric": key }, labels, [
      el("td", { class: "mono" }, key),
      el("td", { class: "value" }, m ? fmtNum(m.last) : "–"),
      m ? fmtNum(m.min) : "–", m ? fmtNum(m.max) : "–", m ? fmtNum(m.count) : "0",
      ...compared.map((other) => el("td", { class: "compared" }, el("span", {},
        other[key] ? fmtNum(other[key].last) : "–", other[key] && m ? delta(other[key].last, m.last) : null))),
    ]);
  });
  document.getElementById("metric-table").replaceChildren(rows.length ? table("metrics", labels, rows)
    : el("p", { class: "muted" }, "This run logged no metric."));
}

async function renderMetricCharts() {
  const grid = document.getElementById("metric-charts");
  const keys = Object.entries(page.detail.metrics).filter(([, m]) => m.count > 1).map(([k]) => k).slice(0, 12);
  grid.replaceChildren();
  const runs = [page.runId, ...page.compare];
  await Promise.all(keys.map(async (key, i) => {
    const { figure, holder } = chartCard(`steps-${i}`, key, "");
    figure.dataset.metric = key;
    grid.append(figure);
    let data;
    try { data = await getJson(`${api}/metrics?key=${encodeURIComponent(key)}&runs=${runs.join(",")}`); }
    catch (error) { holder.replaceChildren(el("p", { class: "error" }, String(error.message || error))); return; }
    const series = data.runs.filter((r) => r.x.length).map((r) => ({ label: `run #${r.run_id}`, x: r.x, y: r.y, count: r.count }));
    const counted = data.runs.reduce((n, r) => n + r.count, 0), shown = series.reduce((n, s) => n + s.x.length, 0);
    figure.querySelector("figcaption .muted").textContent =
      counted > shown ? `${fmtNum(counted)} points, ${fmtNum(shown)} drawn` : `${fmtNum(counted)} points`;
    if (series.length) drawChart(holder, series, { xLabel: "step" });
  }));
}

async function renderComparePicker() {
  const picker = document.getElementById("compare");
  let snapshot;
  try { snapshot = (await getJson("/dashboard/api/pipelines")).pipelines.find((p) => p.name === page.pipeline); }
  catch (error) { return; }
  const others = (snapshot ? snapshot.runs : []).filter((r) => r.id !== page.runId);
  if (!others.length) { picker.replaceChildren(); return; }
  fill(picker, el("span", { class: "muted" }, "Compare with:"), others.map((r) => {
    const box = el("input", { type: "checkbox", value: String(r.id), "data-compare": String(r.id) });
    box.checked = page.compare.includes(r.id);
    return el("label", {}, box, ` #${r.id} `, statusBadge(r.status));
  }));
  picker.addEventListener("change", () => {
    page.compare = [...picker.querySelectorAll("input:checked")].map((i) => Number(i.value)).sort((a, b) => b - a);
    const query = page.compare.length ? `?compare=${page.compare.join(",")}` : "";
    history.replaceState(null, "", location.pathname + query);
    renderMetricTable();
    renderMetricCharts();
  });
}

// --- nodes, params, artifacts, lineage -------------------------------------------------------------------------------
const NODE_LABELS = ["Node", "Status", "Started", "Duration", "", "Attempts", "Code fingerprint", "Error"];

function renderNodes(d) {
  const longest = Math.max(0.001, ...d.nodes.map((n) => n.duration || 0));
  const rows = d.nodes.map((n) => row({ "data-node": n.node_name }, NODE_LABELS, [
    el("td", { class: "mono" }, n.node_name), el("td", {}, statusBadge(n.status)),
    n.started_at != null && d.started_at != null ? `+${fmtDuration(n.started_at - d.started_at)}` : "–",
    fmtDuration(n.duration),
    el("td", { class: "bar-cell" }, el("div", { class: "bar-track" },
      el("div", { class: "bar", style: `width:${(100 * (n.duration || 0)) / longest}%` }))),
    n.attempts == null ? "–" : String(n.attempts),
    el("td", {}, n.code_fingerprint ? mono(short(n.code_fingerprint), n.code_fingerprint) : "–"),
    el("td", { class: n.error ? "error" : "muted" }, n.error || "–"),
  ]));
  fill(document.getElementById("nodes"), rows.length ? table("node-table", NODE_LABELS, rows)
    : el("p", { class: "muted" }, "No node result recorded."), reusedValues(d));
}

// Values copied into this run from reused executions (what the run's manifest lists as reused_logged).
function reusedValues(d) {
  const entries = Object.entries(d.reused_logged || {});
  if (!entries.length) return null;
  const list = (label, keys) => (keys.length ? `${label} ${keys.join(", ")}` : null);
  return el("ul", { id: "reused-values", class: "small" }, entries.map(([node, r]) => el("li", { "data-node": node },
    el("span", { class: "mono" }, node), ": reused ",
    [r.metrics.values ? `${r.metrics.values} metric values (${r.metrics.keys.join(", ")})` : null,
     list("params", r.params), list("tags", r.tags)].filter(Boolean).join("; "),
    " from ", r.from_runs.map((run, i) => [i ? ", " : "", el("a", { href: `/dashboard/pipelines/${encodeURIComponent(page.pipeline)}/runs/${run}` }, `run #${run}`)]))));
}

function renderQuarantine(d) {
  document.getElementById("quarantine-section").hidden = d.quarantine.length === 0;
  document.getElementById("quarantine").replaceChildren(...d.quarantine.map((q) => el("li", { "data-location": q.location },
    mono(q.location), " — ", el("span", { class: "error" }, q.reason), el("span", { class: "muted small" }, ` (${q.source})`))));
}

function jsonText(value) {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function renderParams(d) {
  const params = Object.entries(d.params || {}).map(([k, v]) => [k, jsonText(v)]);
  const tags = Object.entries(d.tags || {}).map(([k, v]) => [k, jsonText(v)]);
  document.getElementById("params").replaceChildren(params.length ? keyValueTable("param-table", params)
    : el("p", { class: "muted" }, "No params."));
  document.getElementById("tags").replaceChildren(tags.length ? keyValueTable("tag-table", tags)
    : el("p", { class: "muted" }, "No tags."));
}

const ARTIFACT_LABELS = ["Resource", "Location", "Size", "SHA-256", "CID", "State"];

function artifactRows(items) {
  return items.map((a) => row({ "data-artifact": `${a.resource}:${a.location}` }, ARTIFACT_LABELS, [
    el("td", { class: "mono" }, a.resource), el("td", { class: "mono" }, a.location),
    a.size == null ? "–" : `${fmtNum(a.size)} B`,
    el("td", {}, mono(short(a.sha256), a.sha256)),
    el("td", { class: "cid" }, a.cid ? mono(a.cid) : el("span", { class: "muted" }, "none")),
    a.quarantine_reason ? el("td", { class: "error" }, `${a.state}: ${a.quarantine_reason}`) : a.state,
  ]));
}

function renderArtifacts(d) {
  const parts = [];
  for (const [kind, title] of [["consumed", "Consumed"], ["produced", "Produced"]]) {
    const items = d.artifacts[kind] || [];
    parts.push(el("h3", {}, `${title} (${items.length})`),
               items.length ? table(`artifacts-${kind}`, ARTIFACT_LABELS, artifactRows(items)) : el("p", { class: "muted" }, "none"));
  }
  document.getElementById("artifacts").replaceChildren(...parts);
}

function renderLineage(d) {
  const items = d.lineage.map((edge) => el("div", { class: "lineage-item", "data-output": edge.output.location },
    el("div", {}, el("strong", { class: "mono" }, `${edge.output.resource}/${edge.output.location}`),
      edge.output.cid ? el("span", { class: "muted small" }, " · ", mono(edge.output.cid)) : null),
    el("div", { class: "small" }, "produced by ", el("span", { class: "mono" }, edge.node),
      edge.code_fingerprint ? el("span", { class: "muted" }, " · code ", mono(short(edge.code_fingerprint), edge.code_fingerprint)) : null),
    el("div", { class: "small muted" }, edge.inputs.length ? "from:" : "from no recorded input"),
    el("ul", {}, edge.inputs.map((input) => el("li", { class: "small", "data-input": input.location },
      el("span", { class: "mono" }, `${input.resource}/${input.location}`),
      input.cid ? el("span", { class: "muted" }, " · ", mono(input.cid)) : el("span", { class: "muted" }, ` · sha256 ${short(input.sha256)}`))))));
  document.getElementById("lineage").replaceChildren(...(items.length ? items
    : [el("p", { class: "muted" }, "This run produced no artifact.")]));
}

async function renderLineageView() {
  const target = document.getElementById("lineage-graph");
  try {
    renderLineageGraph(target, await getJson(`/pipelines/${encodeURIComponent(page.pipeline)}/runs/${page.runId}/lineage`));
  } catch (error) {
    target.replaceChildren(el("p", { class: "error" }, `lineage unavailable: ${error.message}`));
  }
}

// --- loading ---------------------------------------------------------------------------------------------------------
async function loadRun() {
  let detail;
  try { detail = await getJson(`${api}/runs/${page.runId}`); }
  catch (error) {
    document.getElementById("summary").replaceChildren(el("h1", {}, "Run not found"), el("p", { class: "error" }, error.message));
    return;
  }
  page.detail = detail;
  renderSummary(detail);
  renderAnchor(detail);
  renderNodes(detail);
  renderQuarantine(detail);
  renderParams(detail);
  renderArtifacts(detail);
  renderLineage(detail);
  await renderLineageView();
  await renderMetricTable();
  await renderMetricCharts();
  document.body.dataset.loaded = "true";
}

document.addEventListener("DOMContentLoaded", () => {
  loadStatusLine();
  loadRun().then(renderComparePicker);
  connectLive({
    run: (event) => {
      if (event.pipeline !== page.pipeline || event.run.id !== page.runId || !page.detail) return;
      const shown = page.detail, now = event.run;
      const counts = (metrics) => JSON.stringify(Object.entries(metrics).map(([k, m]) => [k, m.count]));
      if (shown.status === now.status && shown.ended_at === now.ended_at && counts(shown.metrics) === counts(now.metrics)
          && JSON.stringify(shown.nodes.map((n) => n.status)) === JSON.stringify(now.nodes.map((n) => n.status))) return;
      clearTimeout(page.reloadTimer);
      page.reloadTimer = setTimeout(loadRun, 300);
    },
  });
});
