// The Reports tab: the list with its filters (open or resolved, by reason, by prompt), one
// report in full (its room, the author's earlier reports by pseudonym, the verified
// messages) and its resolution, whose presets are never preselected.
import {
  $, alertMsg, api, button, done, el, hooks, problemText, promptText, reasonText, show, state, td,
} from './core.js';
import { duration, t, when, word } from './i18n.js';
import { renderFigures, renderOpenReports } from './live.js';

export const REASONS = ['harassment', 'hate', 'threat', 'sexual', 'personal_info', 'spam', 'other'];

const outcome = (x) => (x.status === 'resolved' ? word('action', x.action || 'resolved', t('status.resolved')) : t('status.open'));

function option(value, text) {
  const o = el('option', null, text);
  o.value = value;
  return o;
}

// The filters' choices in the current language (reasons, and the prompts as they change).
export function renderFilters() {
  const keep = (id, opts) => {
    // The first time, open reports: those are the ones waiting for somebody.
    const v = $(id).options.length ? $(id).value : (id === 'f-status' ? 'open' : '');
    $(id).replaceChildren(...opts);
    $(id).value = [...$(id).options].some((o) => o.value === v) ? v : '';
  };
  keep('f-status', [option('open', t('status.open')), option('resolved', t('status.resolved')), option('', t('filter.all'))]);
  keep('f-reason', [option('', t('filter.all')), ...REASONS.map((r) => option(r, reasonText(r)))]);
  keep('f-prompt', [option('', t('filter.all')), ...[...state.prompts.values()].map((p) => option(p.id, p.text))]);
}

// The open reports behind the Live tab's list and its count.
export async function loadOpen() {
  const r = await api('GET', '/api/reports?status=open');
  if (r.status !== 200) return;
  state.open = new Map(r.body.reports.map((x) => [x.id, x]));
  state.reports = state.open.size;
  renderOpenReports();
  renderFigures();
}

export async function loadReports() {
  const q = new URLSearchParams();
  for (const [id, name] of [['f-status', 'status'], ['f-reason', 'reason'], ['f-prompt', 'prompt']]) {
    if ($(id).value) q.set(name, $(id).value);
  }
  const r = await api('GET', `/api/reports${q.size ? `?${q}` : ''}`);
  if (r.status !== 200) {
    alertMsg(problemText(r));
    return;
  }
  const rows = r.body.reports.map((x) => {
    const tr = el('tr');
    tr.dataset.report = x.id;
    td(tr, when(x.created));
    td(tr, reasonText(x.reason));
    td(tr, x.prompt ? promptText(x.prompt) : '–').dir = 'auto';
    td(tr, t('report.verified', { n: x.verified }));
    td(tr, outcome(x));
    td(tr, '').append(button(t('report.review'), 'secondary small', () => openReport(x.id)));
    return tr;
  });
  show('report-list', rows);
  $('report-list-empty').hidden = rows.length > 0;
}

function earlierItem(x) {
  const li = el('li');
  li.append(el('span', null, [reasonText(x.reason), when(x.created), outcome(x)].join(' · ')),
    button(t('report.review'), 'secondary small', () => openReport(x.id)));
  return li;
}

export async function openReport(id) {
  hooks.showTab('reports');
  const r = await api('GET', `/api/reports/${encodeURIComponent(id)}`);
  if (r.status !== 200) {
    alertMsg(problemText(r));
    return;
  }
  const x = r.body;
  state.current = id;
  $('report-title').textContent = t('report.title', { reason: reasonText(x.reason) });
  $('report-meta').textContent = `${t('report.opened', { at: when(x.created) })} · ${t('report.verified', { n: x.verified })}`;
  const room = x.room || { prompt: x.prompt ?? null, started: null, length_s: null };
  $('report-room').textContent = t(room.length_s === null || room.length_s === undefined ? 'report.room.open' : 'report.room', {
    prompt: promptText(room.prompt), at: when(room.started), length: duration(room.length_s),
  });
  $('report-author').textContent = x.author ? t('report.author', { who: x.author }) : '';
  $('report-note').textContent = x.note ? t('report.note', { note: x.note }) : t('report.no_note');
  const items = (x.evidence || []).map((m) => {
    const li = el('li');
    li.append(el('span', 'who', `${m.from}: `), el('span', 'text', m.text), el('span', 'time', when(m.ts)));
    return li;
  });
  $('evidence').replaceChildren(...items);
  $('evidence-none').hidden = items.length > 0;
  const earlier = (x.earlier || []).map(earlierItem);
  $('earlier').replaceChildren(...earlier);
  $('earlier-none').hidden = earlier.length > 0;
  const res = x.resolution;
  $('resolution').hidden = !res;
  if (res) {
    $('resolution-text').textContent = t('report.resolved', {
      action: word('action', res.action, res.action), by: res.by, at: when(res.at),
    });
  }
  const suspension = x.suspension || res?.suspension || null;
  $('to-suspension').hidden = !suspension;
  $('to-suspension').dataset.suspension = suspension || '';
  $('resolve-form').hidden = x.status === 'resolved';
  $('resolve-form').reset();
  $('days-field').hidden = true;
  $('resolve-err').textContent = '';
  $('report').hidden = false;
  $('report-title').focus();
}

export function closeReport(message) {
  state.current = null;
  $('report').hidden = true;
  $('evidence').replaceChildren();
  $('earlier').replaceChildren();
  if (message) done(message);
}

async function resolve(ev) {
  ev.preventDefault();
  const form = $('resolve-form');
  const action = form.elements.action.value;
  if (!action) {
    $('resolve-err').textContent = t('resolve.choose');
    form.querySelector('input[name=action]').focus();
    return;
  }
  const body = { action, note: $('resolve-note').value };
  if (action === 'suspend' && $('days').value) body.days = Number($('days').value);
  const r = await api('POST', `/api/reports/${encodeURIComponent(state.current)}/resolve`, body);
  if (r.status !== 200) {
    $('resolve-err').textContent = problemText(r);
    return;
  }
  state.open.delete(state.current);
  state.reports = state.open.size;
  closeReport(t(`resolve.done.${action}`));
  renderOpenReports();
  renderFigures();
  loadReports();
  hooks.loadAudit();
  if (action === 'suspend') hooks.loadSuspensions();
}

export function setupReports() {
  renderFilters();
  $('resolve-form').addEventListener('submit', resolve);
  $('resolve-form').addEventListener('change', () => {
    $('days-field').hidden = $('resolve-form').elements.action.value !== 'suspend';
  });
  $('report-close').addEventListener('click', () => closeReport(''));
  for (const id of ['f-status', 'f-reason', 'f-prompt']) $(id).addEventListener('change', loadReports);
  $('to-suspension').addEventListener('click', () => {
    hooks.showTab('suspensions');
    hooks.loadSuspensions($('to-suspension').dataset.suspension);
  });
}
