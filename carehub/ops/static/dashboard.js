// The operations dashboard: polls the hub's JSON endpoints and redraws; no outside assets.
"use strict";

const REFRESH_S = Number(new URLSearchParams(location.search).get("refresh")) || 5;
const KNOWN_STATES = new Set(["RUNNING", "PAUSED", "FAILED"]);
const openGroups = new Set();  // groups whose partition list the reader unfolded
let lastLag = { groups: [] };  // the lag view shown, redrawn when a partition list is unfolded
let previousConnectors = null;  // {at, totals: {connector: published_total}}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) node.append(child instanceof Node ? child : String(child));
  return node;
}

function svg(tag, attributes = {}) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

const count = (n) => (n === null || n === undefined ? "–" : Number(n).toLocaleString("en"));

function rate(perSecond) {
  if (perSecond === null || perSecond === undefined) return "–";
  return perSecond < 10 ? perSecond.toFixed(1) : Math.round(perSecond).toLocaleString("en");
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "unknown";
  if (seconds === 0) return "0 s";
  if (seconds < 1) return "< 1 s";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

function ago(iso) {
  return iso ? `${duration((Date.now() - Date.parse(iso)) / 1000)} ago` : "never";
}

function badge(kind, value, known = true) {
  return el("span", { class: `badge ${kind}-${known ? value : "other"}` }, value);
}

function historyChart(history) {
  const width = 160, height = 32, pad = 2;
  const chart = svg("svg", { class: "history", width, height, viewBox: `0 0 ${width} ${height}` });
  const title = svg("title");
  chart.append(title);
  chart.append(svg("line", { x1: 0, y1: height - pad, x2: width, y2: height - pad }));
  if (history.length === 0) return chart;
  const times = history.map((h) => Date.parse(h.at));
  const first = times[0], span = Math.max(times[times.length - 1] - first, 1);
  const most = Math.max(...history.map((h) => h.lag), 1);
  const points = history.map((h, i) => {
    const x = history.length === 1 ? width - pad : pad + ((times[i] - first) / span) * (width - 2 * pad);
    const y = height - pad - (h.lag / most) * (height - 2 * pad);
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  });
  const firstX = points[0].split(",")[0], lastX = points[points.length - 1].split(",")[0];
  chart.append(svg("polygon", { points: [`${firstX},${height - pad}`, ...points, `${lastX},${height - pad}`].join(" ") }));
  chart.append(svg("polyline", { points: points.join(" ") }));
  title.textContent = `lag over the last ${history.length} samples, at most ${count(most)} records`;
  return chart;
}

function partitionsRow(group) {
  return el("tr", { class: "partitions" }, el("td", { colspan: 7 }, el("table", {},
    el("thead", {}, el("tr", {}, ...["topic", "partition", "committed", "end", "lag", "oldest unconsumed", "status", "rule"]
      .map((name) => el("th", {}, name)))),
    el("tbody", {}, ...group.partitions.map((p) => el("tr", {},
      el("td", {}, p.topic), el("td", { class: "number" }, p.partition),
      el("td", { class: "number" }, count(p.committed)), el("td", { class: "number" }, count(p.end)),
      el("td", { class: "number" }, count(p.lag)), el("td", { class: "number" }, duration(p.lag_seconds)),
      el("td", {}, badge("status", p.status)), el("td", {}, p.rule)))))));
}

function partitionsToggle(group) {
  const open = openGroups.has(group.group);
  const n = group.partitions.length;
  const button = el("button", { class: "toggle", type: "button", "aria-expanded": open },
    `${open ? "▾" : "▸"} ${n} partition${n === 1 ? "" : "s"}`);
  button.addEventListener("click", () => {
    if (open) openGroups.delete(group.group); else openGroups.add(group.group);
    showLag(lastLag);
  });
  return button;
}

function fill(tableId, rows) {
  document.querySelector(`#${tableId} tbody`).replaceChildren(...rows);
  document.getElementById(`${tableId}-empty`).hidden = rows.length > 0;
}

function showLag(view) {
  lastLag = view;
  fill("groups", view.groups.flatMap((g) => [
    el("tr", { "data-group": g.group, "data-status": g.status },
      el("td", { class: "status" }, badge("status", g.status)),
      el("td", { class: "group" }, el("strong", {}, g.group), el("br"), partitionsToggle(g)),
      el("td", { class: "number lag" }, count(g.lag)),
      el("td", { class: "number lag-seconds" }, duration(g.lag_seconds)),
      el("td", { class: "number" }, rate(g.consumed_per_s)),
      el("td", { class: "number" }, rate(g.produced_per_s)),
      el("td", {}, historyChart(g.history))),
    ...(openGroups.has(g.group) ? [partitionsRow(g)] : []),
  ]));
  const consuming = view.groups.filter((g) => g.consumed_per_s !== null);
  document.getElementById("total-consumed").textContent =
    consuming.length ? rate(consuming.reduce((sum, g) => sum + g.consumed_per_s, 0)) : "–";
  document.getElementById("groups-not-ok").textContent = view.groups.filter((g) => g.status !== "OK").length;
}

function showConnectors(rows) {
  const now = Date.now();
  const before = previousConnectors;
  const rates = rows.map((c) => {
    const earlier = before ? before.totals[c.connector] : undefined;
    return earlier === undefined ? null : Math.max(c.published_total - earlier, 0) / Math.max((now - before.at) / 1000, 0.001);
  });
  const known = rates.filter((r) => r !== null);
  document.getElementById("total-published").textContent = known.length ? rate(known.reduce((a, b) => a + b, 0)) : "–";
  fill("connectors", rows.map((c, i) => {
    const published = rates[i];
    return el("tr", { "data-connector": c.connector, "data-state": c.state },
      el("td", {}, badge("state", c.state, KNOWN_STATES.has(c.state))),
      el("td", {}, el("strong", {}, c.connector)), el("td", {}, c.target_topic),
      el("td", { class: "number" }, count(c.read_total)), el("td", { class: "number" }, count(c.published_total)),
      el("td", { class: "number" }, count(c.rejected_total)), el("td", { class: "number" }, rate(published)),
      el("td", {}, ago(c.last_poll_at)), el("td", { class: "error" }, c.last_error ?? ""));
  }));
  previousConnectors = { at: now, totals: Object.fromEntries(rows.map((c) => [c.connector, c.published_total])) };
}

function showDeadLetters(topics) {
  fill("dead-letters", topics.map((t) => el("tr", { "data-topic": t.topic },
    el("td", {}, t.topic), el("td", { class: "number" }, count(t.records)))));
  document.getElementById("total-dead-letters").textContent = count(topics.reduce((sum, t) => sum + t.records, 0));
}

function showAlerts(alerts) {
  fill("alerts", alerts.by_rule.map((a) => el("tr", { "data-rule": a.rule },
    el("td", {}, a.rule), el("td", { class: "number" }, count(a.open)),
    el("td", { class: "number" }, a.amount_at_risk === null ? "–" : a.amount_at_risk.toFixed(2)))));
  document.getElementById("total-alerts").textContent = count(alerts.by_rule.reduce((sum, a) => sum + a.open, 0));
}

async function getJSON(path) {
  const response = await fetch(path, { cache: "no-store" });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(`${path}: ${body.error ?? response.statusText}`);
  return body;
}

async function refresh() {
  const problem = document.getElementById("problem");
  try {
    const [lag, connectors, deadLetters, alerts] = await Promise.all(
      ["api/lag", "api/connectors", "api/dead-letters", "api/alerts"].map(getJSON));
    showLag(lag);
    showConnectors(connectors);
    showDeadLetters(deadLetters);
    showAlerts(alerts);
    document.getElementById("updated").textContent = `updated ${new Date(lag.at).toLocaleTimeString()}`;
    problem.hidden = true;
  } catch (error) {
    problem.textContent = String(error.message ?? error);
    problem.hidden = false;
  } finally {
    setTimeout(refresh, REFRESH_S * 1000);
  }
}

refresh();
