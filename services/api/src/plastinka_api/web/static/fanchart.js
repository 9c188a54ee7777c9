// A fan chart drawn as SVG: sales history, the forecast's median line and its likely range, labelled axes and
// whole copies on the y axis (a record that never sold gets 0..1, not 0..0.9). No library, no inline style:
// colours come from classes in app.css, text only through textContent.
"use strict";

const FanChart = (() => {
  const SVG = "http://www.w3.org/2000/svg";
  const WIDTH = 900;
  const HEIGHT = 380;
  const PAD = { left: 70, right: 20, top: 16, bottom: 62 };

  function el(name, attributes, text) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** Whole-number ticks from 0 to at least max: steps of 1, 2, 5, 10, 20, 50, ... at most 6 of them. */
  function integerTicks(max) {
    const top = Math.max(1, Math.ceil(max));
    let step = 1;
    for (let scale = 1; ; scale *= 10) {
      const found = [1, 2, 5].map((m) => m * scale).find((s) => top / s <= 6);
      if (found) {
        step = found;
        break;
      }
    }
    const ticks = [];
    for (let v = 0; v < top + step; v += step) {
      ticks.push(v);
      if (v >= top) break;
    }
    return ticks;
  }

  function path(points) {
    return points.map(([x, y], i) => `${i ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`).join(" ");
  }

  /** Draw ``data`` (the /series body) into ``container``; ``words`` gives the axis titles. */
  function draw(container, data, words) {
    container.replaceChildren();
    const periods = [...data.history.map((p) => p.period), ...data.forecast.map((p) => p.period)];
    const unique = [...new Set(periods)].sort();
    const index = new Map(unique.map((p, i) => [p, i]));
    const values = [
      ...data.history.map((p) => p.quantity),
      ...data.forecast.flatMap((p) => [p.high, p.mean, p.median]),
    ];
    const ticks = integerTicks(Math.max(0, ...values));
    const yMax = ticks[ticks.length - 1];
    const plotW = WIDTH - PAD.left - PAD.right;
    const plotH = HEIGHT - PAD.top - PAD.bottom;
    const x = (period) => PAD.left + (unique.length > 1 ? (index.get(period) / (unique.length - 1)) * plotW : plotW / 2);
    const y = (value) => PAD.top + plotH - (Math.max(0, value) / yMax) * plotH;

    const svg = el("svg", {
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      class: "fan",
      role: "img",
      "aria-label": data.title,
    });
    for (const tick of ticks) {
      svg.append(el("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(tick), y2: y(tick), class: "grid" }));
      svg.append(el("text", { x: PAD.left - 8, y: y(tick) + 4, class: "tick y-tick" }, I18N.number(tick, 0)));
    }
    // At most ~12 labels, counted back from the last period so the forecast's months are always labelled.
    const every = Math.max(1, Math.ceil(unique.length / 12));
    unique.forEach((period, i) => {
      if ((unique.length - 1 - i) % every !== 0) return;
      svg.append(el("text", { x: x(period), y: HEIGHT - PAD.bottom + 18, class: "tick x-tick" }, I18N.date(period, false, true)));
    });
    svg.append(el("line", { x1: PAD.left, x2: PAD.left, y1: PAD.top, y2: PAD.top + plotH, class: "axis" }));
    svg.append(el("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: PAD.top + plotH, y2: PAD.top + plotH, class: "axis" }));
    svg.append(el("text", { x: PAD.left + plotW / 2, y: HEIGHT - 10, class: "axis-title x-title" }, words.x));
    svg.append(
      el("text", { x: 16, y: PAD.top + plotH / 2, class: "axis-title y-title", transform: `rotate(-90 16 ${PAD.top + plotH / 2})` }, words.y),
    );

    const fc = data.forecast;
    if (fc.length) {
      const upper = fc.map((p) => [x(p.period), y(p.high)]);
      const lower = fc.map((p) => [x(p.period), y(p.low)]).reverse();
      const band = fc.length > 1 ? `${path(upper)} ${path(lower).replace(/^M/, "L")} Z` : null;
      if (band) svg.append(el("path", { d: band, class: "band" }));
      for (const p of fc) {
        svg.append(el("line", { x1: x(p.period), x2: x(p.period), y1: y(p.low), y2: y(p.high), class: "range-bar" }));
      }
      svg.append(el("path", { d: path(fc.map((p) => [x(p.period), y(p.mean)])), class: "mean" }));
      const median = fc.map((p) => [x(p.period), y(p.median)]);
      if (data.history.length) {
        const last = data.history[data.history.length - 1];
        median.unshift([x(last.period), y(last.quantity)]);
      }
      svg.append(el("path", { d: path(median), class: "median" }));
      for (const p of fc) svg.append(el("circle", { cx: x(p.period), cy: y(p.median), r: 3.5, class: "median-dot" }));
    }
    if (data.history.length) {
      svg.append(el("path", { d: path(data.history.map((p) => [x(p.period), y(p.quantity)])), class: "history" }));
      for (const p of data.history) svg.append(el("circle", { cx: x(p.period), cy: y(p.quantity), r: 2.5, class: "history-dot" }));
    }
    container.append(svg);
    return { ticks };
  }

  return { draw, integerTicks };
})();

window.FanChart = FanChart;
