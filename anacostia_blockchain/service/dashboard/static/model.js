// One model NFT: price in USD and ETH (Chainlink quote), its metrics (and across the family's versions), lineage to
// the training run that produced it (with that run's page when the pipeline is served here) and the lineage graph
// (/models/{id}/lineage, drawn by lineage.js), versions and stage, sales, license and metadata.
"use strict";

const model = { tokenId: Number((location.pathname.match(/\/dashboard\/models\/(\d+)/) || [])[1] || 0) };

function factList(id, facts) {
  return el("dl", { class: "facts", id }, facts.filter(Boolean).map(([k, v]) => [el("dt", {}, k), el("dd", { "data-fact": k }, v)]));
}

function tile(label, value, attrs) {
  return el("div", { class: "card", ...(attrs || {}) }, el("div", { class: "label" }, label), el("div", { class: "value" }, value));
}

async function optional(url) {
  try { return await getJson(url); } catch (error) { return { error }; }
}

function renderSummary(m, quote) {
  const name = (m.metadata.document && m.metadata.document.name) || `model #${m.token_id}`;
  document.title = `${name} · Anacostia`;
  document.getElementById("crumbs").replaceChildren(el("a", { href: "/dashboard" }, "dashboard"), " › ", `model #${m.token_id}`);
  const eth = quote && !quote.error ? `${Number(quote.eth).toPrecision(6)} ETH` : (m.listing.listed ? "unavailable" : "–");
  const usd = m.listing.listed && m.listing.price_usd != null ? `$${m.listing.price_usd.toFixed(2)}` : "not listed";
  const description = m.metadata.document && m.metadata.document.description;
  fill(document.getElementById("summary"),
    el("div", { class: "section-head" }, el("h1", { id: "title" }, name), el("span", { class: "muted" }, `#${m.token_id}`),
       m.lineage.stage ? el("span", { class: "badge", "data-state": "live", id: "stage" }, m.lineage.stage) : null),
    description ? el("p", { class: "muted" }, description) : null,
    el("div", { class: "cards" },
      tile("Price (USD)", usd, { "data-field": "price-usd" }),
      tile("Price (ETH)", eth, { "data-field": "price-eth", title: quote && !quote.error ? `${quote.wei} wei` : "" }),
      tile("Sales", String(m.listing.sales), { "data-field": "sales" }),
      tile("Version", m.lineage.version != null ? `v${m.lineage.version}` : "–", { "data-field": "version" }),
      tile("Stage", m.lineage.stage || "none", { "data-field": "stage" }),
      tile("Owner", mono(short(m.owner), m.owner))),
    quote && !quote.error ? el("p", { class: "muted small" },
      `ETH/USD ${fmtNum(Number(quote.feed_answer) / 10 ** quote.feed_decimals)} from the Chainlink feed `,
      mono(short(quote.feed_address), quote.feed_address), `, ${quote.feed_age_seconds} s old`) : null);
}

async function renderMetrics(m) {
  const entries = Object.entries(m.metrics || {});
  document.getElementById("metric-cards").replaceChildren(...(entries.length
    ? entries.map(([k, v]) => tile(k, fmtNum(v), { "data-metric": k }))
    : [el("p", { class: "muted" }, "No verified metric in this model's metadata.")]));
  const versions = (m.lineage.versions || []).slice(-20);
  const grid = document.getElementById("version-charts");
  if (versions.length < 2 || !entries.length) { grid.replaceChildren(); return; }
  const others = await Promise.all(versions.map((v) => v.token_id === m.token_id ? m : optional(`/models/${v.token_id}`)));
  grid.replaceChildren();
  const byKey = entries.map(([key]) => {
    const xs = [], ys = [];
    versions.forEach((v, j) => {
      const value = others[j] && others[j].metrics ? others[j].metrics[key] : undefined;
      if (value != null && v.version != null) { xs.push(v.version); ys.push(value); }
    });
    return [key, xs, ys];
  });
  // Only what changed from version to version is worth a chart.
  byKey.filter(([, xs, ys]) => xs.length > 1 && ys.some((y) => y !== ys[0])).slice(0, 6).forEach(([key, xs, ys], i) => {
    const { figure, holder } = chartCard(`versions-${i}`, `${key} by version`, `${xs.length} versions`);
    figure.dataset.metric = key;
    grid.append(figure);
    const byVersion = Object.fromEntries(versions.map((v) => [v.version, v.token_id]));
    drawChart(holder, [{ label: key, x: xs, y: ys }], { xLabel: "version", points: true, integerX: true,
      onPick: (version) => { if (byVersion[version]) location.href = `/dashboard/models/${byVersion[version]}`; } });
  });
}

function liveVerification(v) {
  if (!v.checked) return el("span", { class: "muted" }, `not checked: ${v.error || "no chain"}`);
  const ok = v.anchored && v.matches_token && v.manifest_matches !== false;
  return el("span", { "data-live": ok ? "verified" : "mismatch" },
    el("span", { class: `status status-${ok ? "verified" : "mismatch"}` }, ok ? "root on chain matches the token" : "MISMATCH"),
    v.manifest_matches === false ? el("span", { class: "error" }, " · manifest CID differs") : null);
}

function renderLineage(m, pipelines, kept) {
  const l = m.lineage;
  const served = pipelines.find((p) => p.pipeline_id && p.pipeline_id.toLowerCase() === l.pipeline_id.toLowerCase());
  const runRef = served ? el("a", { href: runUrl(served.name, l.run_id), id: "training-run" }, `${served.name} · run #${l.run_id}`)
                        : el("span", { id: "training-run" }, mono(short(l.pipeline_id), l.pipeline_id), ` · run #${l.run_id}`);
  document.getElementById("lineage").replaceChildren(factList("lineage-facts", [
    ["Training run", runRef],
    ["Run key", mono(l.run_key)],
    ["Anchored root", mono(l.anchor_root)],
    ["Manifest CID", mono(l.manifest_cid)],
    ["Anchor", m.anchor.indexed ? el("span", {}, `block ${m.anchor.block_number} · `, txLink(m.anchor.tx_hash))
                                : el("span", { class: "muted" }, "not indexed yet")],
    ["Live check", liveVerification(m.verification)],
    ["Run verification", verdictView(kept)],
  ]));
}

const VERSION_LABELS = ["Version", "Model", "Stage"];

function renderVersions(m) {
  const versions = m.lineage.versions || [];
  const rows = versions.map((v) => row({ "data-version": String(v.version), class: v.token_id === m.token_id ? "current" : null },
    VERSION_LABELS, [
      `v${v.version}`,
      el("td", {}, v.token_id === m.token_id ? el("strong", {}, `#${v.token_id} (this model)`)
                                             : el("a", { href: `/dashboard/models/${v.token_id}` }, `#${v.token_id}`)),
      v.stage || "–",
    ]));
  document.getElementById("versions").replaceChildren(rows.length ? table("version-table", VERSION_LABELS, rows)
    : el("p", { class: "muted" }, "Not part of a model family."));
}

const SALE_LABELS = ["Buyer", "Paid (ETH)", "Price (USD)", "License token", "Block", "Tx"];

function renderSales(sales) {
  const rows = (sales || []).map((s) => row({ "data-sale": s.tx_hash }, SALE_LABELS, [
    el("td", {}, mono(short(s.buyer), s.buyer)),
    fromUnits(s.paid_wei, 6), fromUnits(s.price_usd_units, 2), `#${s.license_token_id}`, String(s.block_number),
    el("td", {}, txLink(s.tx_hash)),
  ]));
  document.getElementById("sales").replaceChildren(rows.length ? table("sales-table", SALE_LABELS, rows)
    : el("p", { class: "muted" }, "No sale yet."));
}

function renderLicense(m) {
  const lic = m.license;
  document.getElementById("license").replaceChildren(factList("license-facts", [
    ["Story IP", lic.ip_id ? mono(lic.ip_id) : "not registered"],
    ["License template", lic.license_template ? mono(lic.license_template) : "–"],
    ["Attached terms", lic.license_terms_ids.length ? lic.license_terms_ids.join(", ") : "–"],
    ["Listing terms", lic.listing_terms_id || "–"],
    ["Seller", m.listing.seller ? mono(m.listing.seller) : "–"],
    ["Key held by the service", m.has_key ? "yes" : "no"],
    ["Metadata", el("span", {}, m.metadata.cid ? mono(m.metadata.cid) : "–", ` (${m.metadata.status})`)],
    ["Token URI", m.token_uri ? mono(m.token_uri) : "–"],
  ]));
}

async function loadModel() {
  let m;
  try { m = await getJson(`/models/${model.tokenId}`); }
  catch (error) {
    document.getElementById("summary").replaceChildren(el("h1", {}, "Model not found"), el("p", { class: "error" }, error.message));
    return;
  }
  const [quote, sales, served, kept] = await Promise.all([
    m.listing.listed ? optional(`/models/${model.tokenId}/quote`) : null,
    optional(`/dashboard/api/models/${model.tokenId}/sales`),
    optional("/dashboard/api/pipelines"),
    optional(`/dashboard/api/verdicts?keys=${m.lineage.run_key}`),
  ]);
  const graph = await optional(`/models/${model.tokenId}/lineage`);
  renderSummary(m, quote);
  renderLineage(m, served.pipelines || [], kept.verdicts ? kept.verdicts[m.lineage.run_key.toLowerCase()] : null);
  const graphTarget = document.getElementById("lineage-graph");
  if (graph.error) graphTarget.replaceChildren(el("p", { class: "error" }, `lineage unavailable: ${graph.error.message}`));
  else renderLineageGraph(graphTarget, graph);
  renderVersions(m);
  renderSales(sales.sales);
  renderLicense(m);
  await renderMetrics(m);
  document.body.dataset.loaded = "true";
}

document.addEventListener("DOMContentLoaded", () => {
  loadStatusLine().then(loadModel);
  connectLive({ indexed: (event) => { if (event.events > 0) loadModel(); }, metadata: loadModel });
});
