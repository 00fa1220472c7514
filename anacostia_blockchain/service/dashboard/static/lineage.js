// The lineage graph of a model or a run (GET /models/{id}/lineage, GET /pipelines/{name}/runs/{id}/lineage) drawn
// as plain SVG: layers top-down (model -> checkpoint -> run -> dataset batch -> files -> the run that made them ...),
// each node a link to its page or CID, anchored nodes outlined green with "anchored" written on them. The layout
// fits the container's width (two columns on a 390-px phone) and is redrawn when the width changes.
"use strict";

const LINEAGE = { minWidth: 150, maxWidth: 240, height: 46, gapX: 10, rowGap: 12, layerGap: 34, pad: 6, maxRows: 6 };
const LINEAGE_KINDS = { model: "model", checkpoint: "checkpoint", run: "run", batch: "dataset batch", card: "card",
                        weights: "weights", file: "file", more: "more" };

// Longest path from the nodes nothing points at, so every edge points down (a node caught in a cycle keeps the
// layer it reached).
function lineageLayers(view) {
  const ids = view.nodes.map((n) => n.id);
  const out = new Map(ids.map((id) => [id, []]));
  const waiting = new Map(ids.map((id) => [id, 0]));
  for (const e of view.edges) {
    if (!out.has(e.source) || !waiting.has(e.target)) continue;
    out.get(e.source).push(e.target);
    waiting.set(e.target, waiting.get(e.target) + 1);
  }
  const layer = new Map(ids.map((id) => [id, 0]));
  const queue = ids.filter((id) => waiting.get(id) === 0);
  while (queue.length) {
    const id = queue.shift();
    for (const target of out.get(id)) {
      layer.set(target, Math.max(layer.get(target), layer.get(id) + 1));
      waiting.set(target, waiting.get(target) - 1);
      if (waiting.get(target) === 0) queue.push(target);
    }
  }
  const layers = [];
  for (const node of view.nodes) (layers[layer.get(node.id)] = layers[layer.get(node.id)] || []).push(node);
  return layers.filter(Boolean);
}

// Order each layer by where its parents sit (fewer crossings), cap it at `limit` nodes (the rest become one
// "+N more" node), and place it in rows of `cols`.
function lineageLayout(view, width) {
  const L = LINEAGE;
  const inner = width - 2 * L.pad;
  const cols = Math.max(1, Math.floor((inner + L.gapX) / (L.minWidth + L.gapX)));
  const limit = cols * L.maxRows;
  const parents = new Map();
  for (const e of view.edges) (parents.get(e.target) || parents.set(e.target, []).get(e.target)).push(e.source);
  const placed = new Map();
  const boxes = [];
  let y = L.pad;
  for (const nodes of lineageLayers(view)) {
    const weight = (n) => {
      const xs = (parents.get(n.id) || []).map((p) => placed.get(p)).filter(Boolean).map((b) => b.x + b.w / 2);
      return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : (n.current ? -1 : Infinity);
    };
    let shown = nodes.map((n, i) => [weight(n), i, n]).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((t) => t[2]);
    if (shown.length > limit) {
      const hidden = shown.length - (limit - 1);
      shown = shown.slice(0, limit - 1).concat([{ id: `more:${y}`, kind: "more", label: `+${hidden} more`,
        detail: `${hidden} more nodes in this layer (the list below has every node)`, anchored: null, more: hidden }]);
    }
    const perRow = Math.min(cols, shown.length);
    const w = Math.min(L.maxWidth, (inner - (perRow - 1) * L.gapX) / perRow);
    shown.forEach((node, i) => {
      const rowIndex = Math.floor(i / perRow), inRow = Math.min(perRow, shown.length - rowIndex * perRow);
      const rowWidth = inRow * w + (inRow - 1) * L.gapX;
      const x = L.pad + (inner - rowWidth) / 2 + (i % perRow) * (w + L.gapX);
      const box = { node, x, y: y + rowIndex * (L.height + L.rowGap), w, h: L.height };
      placed.set(node.id, box);
      boxes.push(box);
    });
    y += Math.ceil(shown.length / perRow) * (L.height + L.rowGap) - L.rowGap + L.layerGap;
  }
  return { boxes, placed, height: Math.max(L.height, y - L.layerGap + L.pad) };
}

function lineageFit(text, width) {
  const max = Math.max(4, Math.floor((width - 14) / 7.3));
  const value = String(text == null ? "" : text);
  return value.length <= max ? value : value.slice(0, Math.ceil(max / 2) - 1) + "…" + value.slice(-(Math.floor(max / 2) - 1));
}

function lineageTitle(node) {
  const anchored = node.anchored === true ? "anchored on chain" : node.anchored === false ? "NOT anchored" : null;
  return [`${LINEAGE_KINDS[node.kind] || node.kind}: ${node.label}`, node.cid ? `CID ${node.cid}` : null,
          node.sha256 ? `sha256 ${node.sha256}` : null, node.detail, anchored].filter(Boolean).join("\n");
}

function lineageNode(box) {
  const node = box.node;
  const state = node.anchored === true ? "true" : node.anchored === false ? "false" : "none";
  const link = node.href ? svg("a", { href: node.href }) : svg("g", {});
  link.setAttribute("class", `lineage-node kind-${node.kind}${node.current ? " current" : ""}`);
  link.setAttribute("data-node-id", node.id);
  link.setAttribute("data-kind", node.kind);
  link.setAttribute("data-anchored", state);
  const title = svg("title", {});
  title.textContent = lineageTitle(node);
  link.append(title, svg("rect", { x: box.x, y: box.y, width: box.w, height: box.h, rx: 6 }));
  const head = svg("text", { x: box.x + 7, y: box.y + 16, class: "kind" });
  const kind = LINEAGE_KINDS[node.kind] || node.kind;
  head.textContent = (box.w < 200 ? kind.split(" ").pop() : kind).toUpperCase();  // "batch" where space is short
  link.append(head);
  if (node.anchored === true || node.anchored === false) {
    const mark = svg("text", { x: box.x + box.w - 7, y: box.y + 16, class: `mark mark-${state}`, "text-anchor": "end" });
    mark.textContent = node.anchored ? "⚓ anchored" : "not anchored";
    link.append(mark);
  }
  const label = svg("text", { x: box.x + 7, y: box.y + 35, class: "label" });
  label.textContent = lineageFit(node.kind === "run" || !node.cid ? node.label : `${node.label} · ${node.cid}`, box.w);
  link.append(label);
  return link;
}

function lineageEdge(from, to, edge) {
  const x1 = from.x + from.w / 2, y1 = from.y + from.h, x2 = to.x + to.w / 2, y2 = to.y;
  const bend = Math.max(12, (y2 - y1) / 2);
  const path = svg("path", { d: `M${x1},${y1} C${x1},${y1 + bend} ${x2},${y2 - bend} ${x2},${y2}`,
                             class: `lineage-edge edge-${edge.type}`, "data-edge": `${edge.source}>${edge.target}` });
  const title = svg("title", {});
  title.textContent = edge.type.replace(/_/g, " ");
  path.append(title);
  return path;
}

function lineageList(view) {
  const byId = new Map(view.nodes.map((n) => [n.id, n]));
  const items = view.nodes.map((n) => el("li", { "data-node-id": n.id, "data-anchored": String(n.anchored) },
    el("span", { class: `kind-tag kind-${n.kind}` }, LINEAGE_KINDS[n.kind] || n.kind), " ",
    n.href ? el("a", { href: n.href }, n.label) : n.label,
    n.cid ? el("span", { class: "muted" }, " · ", mono(n.cid)) : (n.sha256 ? el("span", { class: "muted" }, " · sha256 ", mono(short(n.sha256), n.sha256)) : null),
    n.anchored === true ? el("span", { class: "status status-verified" }, " · anchored") : null,
    n.anchored === false ? el("span", { class: "status status-not-anchored" }, " · not anchored") : null,
    ...view.edges.filter((e) => e.source === n.id && byId.has(e.target))
      .map((e) => el("div", { class: "small muted" }, `${e.type.replace(/_/g, " ")} → ${byId.get(e.target).label}`))));
  return el("details", { class: "lineage-list" }, el("summary", {}, `Every node (${view.nodes.length})`), el("ul", {}, items));
}

function drawLineage(container, view) {
  const width = Math.max(240, Math.floor(container.clientWidth || 320));
  const layout = lineageLayout(view, width);
  const root = svg("svg", { class: "lineage-graph", width, height: layout.height, viewBox: `0 0 ${width} ${layout.height}`,
                            role: "img", "aria-label": `lineage graph, ${view.nodes.length} nodes` });
  const edges = svg("g", { class: "edges" });
  for (const edge of view.edges) {
    const from = layout.placed.get(edge.source), to = layout.placed.get(edge.target);
    if (from && to) edges.append(lineageEdge(from, to, edge));
  }
  root.append(edges, ...layout.boxes.map(lineageNode));
  return root;
}

// Render `view` into `container` (an element); redrawn when the container's width changes.
function renderLineageGraph(container, view) {
  const anchored = view.nodes.filter((n) => n.anchored === true).length;
  const canvas = el("div", { class: "lineage-canvas" });
  const legend = el("p", { class: "small muted lineage-legend" },
    `${view.nodes.length} nodes · ${anchored} anchored on chain (green outline) · read from `,
    view.source === "pipeline" ? "the pipeline's store" : "the token's verified metadata and the index",
    view.truncated ? ` · ${view.truncated} more not drawn` : "");
  const notes = (view.notes || []).map((note) => el("p", { class: "small muted lineage-note" }, note));
  container.replaceChildren(legend, canvas, ...notes, lineageList(view));
  container.dataset.nodes = String(view.nodes.length);
  let drawnWidth = 0;
  const draw = () => {
    const width = Math.floor(canvas.clientWidth);
    if (width === drawnWidth) return;
    drawnWidth = width;
    canvas.replaceChildren(drawLineage(canvas, view));
  };
  draw();
  if (container.lineageObserver) container.lineageObserver.disconnect();
  if (window.ResizeObserver) {
    container.lineageObserver = new ResizeObserver(() => draw());
    container.lineageObserver.observe(canvas);
  }
}
