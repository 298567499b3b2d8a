// The pictures on the Live tab, drawn as inline SVG (no library): waiting members and median
// wait per minute over the last hour, matches per minute, the balance of the waiting pool by
// each dimension, and today's share of rooms crossing two divides or more. Each has a text
// alternative (role="img" with aria-label) and a table of its figures behind a <details>.
import { $, el, state } from './core.js';
import { clock, duration, num, t, word } from './i18n.js';

const NS = 'http://www.w3.org/2000/svg';
const W = 300;
const H = 96;
const FEW = 11;

function svgEl(tag, attrs = {}, cls) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (cls) e.setAttribute('class', cls);
  return e;
}

function canvas(id, label) {
  const svg = svgEl('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label,
    focusable: 'false' });
  $(id).replaceChildren(svg);
  return svg;
}

function table(id, head, rows) {
  const tr = el('tr');
  for (const h of head) {
    const th = el('th', null, h);
    th.scope = 'col';
    tr.append(th);
  }
  $(id).tHead.replaceChildren(tr);
  $(id).tBodies[0].replaceChildren(...rows.map((cells) => {
    const row = el('tr');
    cells.forEach((c, i) => row.append(el(i ? 'td' : 'th', i ? 'num' : null, c)));
    row.firstChild.scope = 'row';
    return row;
  }));
}

const top = (values) => Math.max(1, ...values.filter((v) => v !== null && v !== undefined));
// Axis tops read well: 1, 2, 5, 10, 20, 50...
function nice(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((x) => x >= v);
}

function bars(svg, values, max, cls) {
  const w = W / Math.max(1, values.length);
  values.forEach((v, i) => {
    if (!v) return;
    const h = (v / max) * (H - 4);
    svg.append(svgEl('rect', { x: i * w + 0.5, y: H - h, width: Math.max(1, w - 1), height: h }, cls));
  });
}

function line(svg, values, max, cls) {
  const w = W / Math.max(1, values.length);
  let d = '';
  values.forEach((v, i) => {
    if (v === null || v === undefined) return;
    const x = i * w + w / 2;
    const y = H - (v / max) * (H - 4);
    d += `${d && values[i - 1] !== null && values[i - 1] !== undefined ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`;
    // A dot per minute too, so that a lone minute with a median is seen.
    svg.append(svgEl('circle', { cx: x.toFixed(1), cy: y.toFixed(1), r: 2 }, `${cls} dot`));
  });
  if (d) svg.append(svgEl('path', { d, fill: 'none' }, cls));
}

function grid(svg) {
  for (const y of [H / 2, H - 0.5]) svg.append(svgEl('line', { x1: 0, x2: W, y1: y, y2: y }, 'grid'));
}

export function renderWaiting() {
  const minutes = state.charts?.minutes || [];
  const waiting = minutes.map((m) => m.waiting);
  const median = minutes.map((m) => m.median_wait_s);
  const maxW = nice(top(waiting));
  const maxM = nice(top(median));
  const now = waiting.length ? waiting[waiting.length - 1] : 0;
  const svg = canvas('c-waiting', t('chart.waiting.alt', {
    now, most: Math.max(0, ...waiting), median: duration(median.filter((v) => v !== null).at(-1) ?? null),
  }));
  grid(svg);
  bars(svg, waiting, maxW, 'bar');
  line(svg, median, maxM, 'line');
  $('c-waiting-scale').textContent = t('chart.waiting.scale', { w: maxW, m: duration(maxM) });
  table('t-waiting', [t('chart.minute'), t('chart.waiting'), t('chart.median')],
    minutes.map((m) => [clock(m.at), num(m.waiting), duration(m.median_wait_s)]));
}

export function renderMatches() {
  const minutes = state.charts?.minutes || [];
  const matches = minutes.map((m) => m.matches);
  const total = matches.reduce((a, b) => a + b, 0);
  const max = nice(top(matches));
  const svg = canvas('c-matches', t('chart.matches.alt', { n: total, most: Math.max(0, ...matches) }));
  grid(svg);
  bars(svg, matches, max, 'bar alt');
  $('c-matches-scale').textContent = t('chart.matches.scale', { n: total, max });
  table('t-matches', [t('chart.minute'), t('chart.matches')],
    minutes.map((m) => [clock(m.at), num(m.matches)]));
}

const dimText = (d) => word('dim', d, d);
const bucketText = (b) => word('bucket', b, b);
const countText = (x) => (x.few ? t('chart.few') : num(x.count));

// One row per dimension, one bar per bucket, side by side; "fewer than 11" is drawn as an
// outlined bar of height FEW / 2 so that it never reads as a real count.
// Also drawn by the Events tab (events.js) for those present at an event, into its own ids.
const BALANCE = { plot: 'c-balance', scale: 'c-balance-scale', table: 't-balance' };

export function renderBalance(balance = state.balance || {}, ids = BALANCE) {
  const dims = Object.keys(balance);
  const rowH = H / Math.max(1, dims.length);
  const max = nice(top(dims.flatMap((d) => balance[d].map((x) => (x.few ? FEW : x.count)))));
  const described = dims.map((d) => `${dimText(d)}: ${balance[d].map((x) => `${bucketText(x.bucket)} ${countText(x)}`).join(', ')}`);
  const svg = canvas(ids.plot, dims.length ? `${t('chart.balance')}. ${described.join('; ')}.` : t('chart.balance.none'));
  dims.forEach((d, i) => {
    const list = balance[d];
    const y0 = i * rowH;
    const label = svgEl('text', { x: 2, y: y0 + rowH / 2 + 4 }, 'label');
    label.textContent = dimText(d);
    svg.append(label);
    const x0 = W * 0.38;
    const w = (W - x0) / Math.max(1, list.length);
    list.forEach((x, j) => {
      const v = x.few ? FEW / 2 : x.count;
      const h = Math.max(1, (v / max) * (rowH - 4));
      const r = svgEl('rect', { x: x0 + j * w + 1, y: y0 + rowH - 2 - h, width: Math.max(1, w - 2), height: h },
        x.few ? 'bar few' : 'bar');
      const title = svgEl('title');
      title.textContent = `${bucketText(x.bucket)}: ${countText(x)}`;
      r.append(title);
      svg.append(r);
    });
  });
  $(ids.scale).textContent = dims.length ? t('chart.balance.scale', { max }) : '';
  table(ids.table, [t('chart.dimension'), t('chart.bucket'), t('chart.count')],
    dims.flatMap((d) => balance[d].map((x) => [dimText(d), bucketText(x.bucket), countText(x)])));
  for (const r of $(ids.table).tBodies[0].rows) {
    // Row headers repeat the dimension: the bucket is what a row is about.
    r.cells[1].className = '';
  }
}

export function renderShare() {
  const today = state.charts?.today || { rooms: 0, crossing2: 0, share: null };
  const pct = today.share === null || today.share === undefined ? null : today.share;
  const words = pct === null ? t('chart.share.none')
    : t('chart.share.alt', { pct: num(pct, { style: 'percent' }), k: today.crossing2, n: today.rooms });
  const svg = canvas('c-share', words);
  svg.append(svgEl('rect', { x: 0, y: H / 2 - 14, width: W, height: 28 }, 'track'));
  if (pct) svg.append(svgEl('rect', { x: 0, y: H / 2 - 14, width: W * pct, height: 28 }, 'bar'));
  $('c-share-text').textContent = words;
  table('t-share', [t('chart.what'), t('chart.count')], [
    [t('chart.rooms'), num(today.rooms)],
    [t('chart.crossing2'), num(today.crossing2)],
    [t('chart.share'), pct === null ? '–' : num(pct, { style: 'percent' })],
  ]);
}

export function renderCharts() {
  renderWaiting();
  renderMatches();
  renderBalance();
  renderShare();
}
