// The Live tab's lists: the figures, who waits (and hand-matching them), who is stuck, the live
// rooms (and a notice to one), open reports, and who is on duty with the note for the next shift.
import {
  $, act, alertMsg, api, askNote, button, done, el, hooks, modeText, problemText, promptText,
  reasonText, show, state, td,
} from './core.js';
import { duration, num, t, when, word } from './i18n.js';

const SUMMARY_EVERY = 5000;
const said = { text: '', news: [], timer: 0, at: 0 };

export function news(text) {
  said.news.push(text);
  summarize();
}

// What a screen reader hears: counts (and news such as a new report), at most every few
// seconds, and only when something changed; the figures on screen are not live regions.
function counts() {
  const parts = [t('sum.waiting', { n: state.waiting })];
  if (state.stuckTotal) parts.push(t('sum.stuck', { n: state.stuckTotal }));
  parts.push(t('sum.rooms', { n: state.rooms }), t('sum.reports', { n: state.reports }));
  return parts.join(t('sum.sep'));
}

export function summarize() {
  if (said.timer || (!said.news.length && counts() === said.text)) return;
  said.timer = setTimeout(() => {
    said.timer = 0;
    said.at = Date.now();
    said.text = counts();
    $('summary').textContent = [...said.news, said.text].join(' ');
    said.news = [];
  }, Math.max(0, said.at + SUMMARY_EVERY - Date.now()));
}

export function renderFigures() {
  $('f-waiting').textContent = num(state.waiting);
  $('f-stuck').textContent = num(state.stuckTotal);
  // Amber only when someone is stuck: a lone member who just arrived is not news.
  $('f-stuck').closest('div').classList.toggle('warn', state.stuckTotal > 0);
  $('f-rooms').textContent = num(state.rooms);
  $('f-reports').textContent = num(state.reports);
  tick();
  summarize();
}

// A long prompt in a narrow list: two lines, the whole text on hover and in the Prompts tab.
function clampTd(tr, text) {
  const span = el('span', 'clamp', text);
  span.dir = 'auto';
  span.title = text;
  td(tr, '').append(span);
}

// -- waiting, and hand-matching ------------------------------------------------------

export function renderQueue() {
  const here = new Set(state.queue.map((e) => e.ticket));
  for (const id of state.selected) if (!here.has(id)) state.selected.delete(id);
  const rows = state.queue.map((e, i) => {
    const tr = el('tr');
    tr.dataset.ticket = e.ticket;
    const box = el('input');
    box.type = 'checkbox';
    box.value = e.ticket;
    box.checked = state.selected.has(e.ticket);
    box.setAttribute('aria-label', t('queue.select', { n: i + 1 }));
    box.addEventListener('change', () => {
      if (box.checked) state.selected.add(e.ticket);
      else state.selected.delete(e.ticket);
      renderSelection();
    });
    td(tr, '', 'pick').append(box);
    td(tr, '', 'wait').dataset.base = e.waited_s;
    clampTd(tr, e.prompts.map(promptText).join(' · '));
    td(tr, e.languages.join(', '));
    td(tr, modeText(e.mode));
    return tr;
  });
  show('queue', rows);
  $('queue-empty').hidden = rows.length > 0;
  const more = state.waiting - rows.length;
  $('queue-more').hidden = more <= 0;
  $('queue-more').textContent = more > 0 ? t('queue.more', { shown: rows.length, n: state.waiting }) : '';
  renderSelection();
}

function renderSelection() {
  const n = state.selected.size;
  $('match-count').textContent = t('match.selected', { n });
  const ok = n >= 2 && n <= 4;
  $('match-check').disabled = !ok;
  $('match-open').disabled = !ok;
  $('match-tools').hidden = state.queue.length < 2 && n === 0;
}

function matchResult(lines, bad) {
  const box = $('match-result');
  box.className = bad ? 'result err' : 'result';
  box.replaceChildren(...lines.map((l) => (Array.isArray(l)
    ? el('ul', null)
    : el('p', null, l))));
  lines.forEach((l, i) => {
    if (Array.isArray(l)) box.children[i].append(...l.map((x) => el('li', null, x)));
  });
}

const refusal = (code) => word('refused', code, t('refused._other'));
const whyNot = (code) => word('why', code, t('why._other'));

async function checkMatch() {
  const r = await api('POST', '/api/match/check', { tickets: [...state.selected] });
  if (r.status !== 200) {
    matchResult([problemText(r)], true);
    return;
  }
  const { refused } = r.body;
  // "would_match" says nothing keeps them apart: the plain sentence below says that.
  const why = (r.body.why_not || []).filter((w) => w.code !== 'would_match');
  if (refused) {
    matchResult([t('match.refused', { why: refusal(refused) })], true);
  } else if (why.length) {
    matchResult([t('match.can'), t('match.why'), why.map((w) => whyNot(w.code))], false);
  } else {
    matchResult([t('match.can'), t('match.nothing')], false);
  }
}

async function openMatch() {
  const r = await api('POST', '/api/match', { tickets: [...state.selected] });
  if (r.status === 201) {
    state.selected.clear();
    matchResult([t('match.opened', { prompt: promptText(r.body.prompt) })], false);
    done(t('match.opened', { prompt: promptText(r.body.prompt) }));
    renderSelection();
    hooks.loadAudit();
    return;
  }
  const code = r.body.error;
  const refusedNow = r.status === 409 || code === 'unknown_ticket';
  matchResult([refusedNow ? t('match.refused', { why: refusal(code) }) : problemText(r)], true);
}

// -- stuck, rooms ----------------------------------------------------------------------

export function renderStuck() {
  const rows = state.stuck.filter((r) => r.stuck > 0 || r.waiting > 1).map((r) => {
    const tr = el('tr');
    if (r.stuck) tr.className = 'stuck';
    clampTd(tr, promptText(r.prompt));
    td(tr, r.language);
    td(tr, num(r.waiting), 'num');
    td(tr, num(r.stuck), 'num');
    return tr;
  });
  show('stuck', rows);
  $('stuck-empty').hidden = state.stuckTotal > 0;
}

export function renderRooms() {
  const rows = state.live.map((r) => {
    const tr = el('tr');
    tr.dataset.room = r.room;
    td(tr, '', 'wait').dataset.base = r.age_s;
    clampTd(tr, promptText(r.prompt));
    td(tr, num(r.size), 'num');
    const actions = el('div', 'actions');
    actions.append(
      button(t('rooms.notice'), 'secondary small', () => askNotice(r)),
      button(t('rooms.end'), 'danger small', () => endRoom(r)),
    );
    td(tr, '').append(actions);
    return tr;
  });
  show('rooms', rows);
  $('rooms-empty').hidden = rows.length > 0;
}

function askNotice(room) {
  const dialog = $('notice');
  $('notice-title').textContent = t('notice.title', { prompt: promptText(room.prompt) });
  $('notice-text').value = '';
  $('notice-err').textContent = '';
  dialog.dataset.room = room.room;
  dialog.showModal();
}

async function sendNotice(ev) {
  const dialog = $('notice');
  if (ev.submitter?.value !== 'ok') return;
  ev.preventDefault();
  const message = $('notice-text').value.trim();
  const r = await api('POST', `/api/rooms/${encodeURIComponent(dialog.dataset.room)}/notice`, { message });
  if (r.status === 204) {
    dialog.close();
    done(t('notice.sent'));
    hooks.loadAudit();
  } else {
    $('notice-err').textContent = problemText(r);
  }
}

async function endRoom(room) {
  const note = await askNote(t('rooms.end.ask', { prompt: promptText(room.prompt) }), t('rooms.end'));
  if (note !== null) await act('POST', `/api/rooms/${encodeURIComponent(room.room)}/end`, note, t('rooms.ended'));
}

// Waits tick every second between frames; the server's figures are the base.
export function tick() {
  const q = (performance.now() - state.queueAt) / 1000;
  for (const cell of $('queue').querySelectorAll('td.wait')) cell.textContent = duration(Number(cell.dataset.base) + q);
  const r = (performance.now() - state.liveAt) / 1000;
  for (const cell of $('rooms').querySelectorAll('td.wait')) cell.textContent = duration(Number(cell.dataset.base) + r);
  const { median_s: median, longest_s: longest } = state.wait;
  $('f-median').textContent = state.waiting && median !== null ? duration(median + q) : '–';
  $('f-longest').textContent = state.waiting && longest !== null ? duration(longest + q) : '–';
}

// -- open reports --------------------------------------------------------------------

export function renderOpenReports() {
  const items = [...state.open.values()].sort((a, b) => a.created.localeCompare(b.created)).map((x) => {
    const li = el('li');
    li.dataset.report = x.id;
    li.append(el('span', null, [reasonText(x.reason), t('report.verified', { n: x.verified }), when(x.created)].join(' · ')),
      button(t('report.review'), 'secondary small', () => hooks.openReport(x.id)));
    return li;
  });
  $('reports').replaceChildren(...items);
  $('reports').parentElement.hidden = items.length === 0;
  $('reports-empty').hidden = items.length > 0;
}

// -- the shift ---------------------------------------------------------------------------

export function renderShift() {
  const s = state.shift;
  const duty = (s?.on_duty || []).map((d) => el('li', null, t('shift.since', { name: d.moderator, at: when(d.since) })));
  $('duty').replaceChildren(...duty);
  $('duty-none').hidden = duty.length > 0;
  const note = s?.note;
  $('shift-note').textContent = note ? note.text : '';
  $('shift-note').hidden = !note;
  $('shift-note-by').textContent = note ? t('shift.by', { name: note.by, at: when(note.at) }) : t('shift.none');
}

export async function loadShift() {
  const r = await api('GET', '/api/shift');
  if (r.status === 200) {
    state.shift = r.body;
    renderShift();
  }
}

async function saveNote(ev) {
  ev.preventDefault();
  const text = $('shift-text').value.trim();
  const r = await api('POST', '/api/shift/note', { text });
  if (r.status === 201) {
    $('shift-form').reset();
    $('shift-err').textContent = '';
    done(t('shift.saved'));
    loadShift();
    hooks.loadAudit();
  } else {
    $('shift-err').textContent = problemText(r);
  }
}

export function setupLive() {
  $('match-check').addEventListener('click', checkMatch);
  $('match-open').addEventListener('click', openMatch);
  $('notice-form').addEventListener('submit', sendNotice);
  $('shift-form').addEventListener('submit', saveNote);
  alertMsg('');
}
