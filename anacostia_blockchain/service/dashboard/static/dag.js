// A pipeline's DAG as SVG: nodes in columns by depth, coloured by their status in the newest run.
"use strict";

const KIND_LABEL = { metadata_store: "store", resource: "resource", action: "action" };

function dagDepths(nodes) {
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

function renderDag(target, graph, statuses) {
  target.replaceChildren();
  if (!graph) return;
  const nodes = graph.nodes;
  const depth = dagDepths(nodes);
  // Wide screens: columns by depth, left to right. Narrow ones (phones): rows by depth, top to bottom.
  const vertical = (target.parentElement ? target.parentElement.clientWidth : 1000) < 560;
  const W = vertical ? 140 : 170, H = 44, GX = vertical ? 16 : 50, GY = vertical ? 34 : 18;
  const slots = {};
  const pos = {};
  for (const node of nodes) {
    const d = depth[node.name];
    slots[d] = (slots[d] || 0) + 1;
    const [layer, slot] = [d, slots[d] - 1];
    pos[node.name] = vertical ? { x: 10 + slot * (W + GX), y: 10 + layer * (H + GY) }
                              : { x: 10 + layer * (W + GX), y: 10 + slot * (H + GY) };
  }
  const maxSlots = Math.max(1, ...Object.values(slots));
  const layers = Math.max(0, ...Object.values(depth)) + 1;
  const [across, down] = vertical ? [maxSlots, layers] : [layers, maxSlots];
  const width = 20 + across * (W + GX) - GX, height = 20 + down * (H + GY) - GY;
  target.setAttribute("viewBox", `0 0 ${width} ${height}`);
  target.style.maxWidth = `${width}px`;
  const markerId = `arrow-${Math.random().toString(36).slice(2)}`;
  const defs = svg("defs");
  const marker = svg("marker", { id: markerId, viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 6,
                                  markerHeight: 6, orient: "auto-start-reverse" });
  marker.append(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#8795a1" }));
  defs.append(marker);
  target.append(defs);
  for (const node of nodes) {
    for (const pred of node.predecessors) {
      const a = pos[pred], b = pos[node.name];
      if (!a || !b) continue;
      let d;
      if (vertical) {
        const x1 = a.x + W / 2, y1 = a.y + H, x2 = b.x + W / 2, y2 = b.y, my = (y1 + y2) / 2;
        d = `M ${x1} ${y1} C ${x1} ${my}, ${x2} ${my}, ${x2} ${y2}`;
      } else {
        const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2, mx = (x1 + x2) / 2;
        d = `M ${x1} ${y1} C ${mx} ${y1}, ${mx} ${y2}, ${x2} ${y2}`;
      }
      target.append(svg("path", { class: "edge", "marker-end": `url(#${markerId})`, d }));
    }
  }
  for (const node of nodes) {
    const status = statuses[node.name] || "idle";
    const g = svg("g", { class: "node", "data-node": node.name, "data-status": status,
                         transform: `translate(${pos[node.name].x},${pos[node.name].y})` });
    const tip = svg("title");
    tip.textContent = `${node.name} (${node.class}): ${status}`;
    g.append(tip, svg("rect", { width: W, height: H, fill: STATUS_COLORS[status] || STATUS_COLORS.idle }));
    const title = svg("text", { x: 10, y: 18 });
    const fits = vertical ? 18 : 22;
    title.textContent = node.name.length > fits ? node.name.slice(0, fits - 1) + "…" : node.name;
    const sub = svg("text", { x: 10, y: 34, class: "sub" });
    sub.textContent = `${KIND_LABEL[node.kind] || node.kind} · ${status}`;
    g.append(title, sub);
    target.append(g);
  }
}
