// The Suspensions, Prompts and Audit tabs (the last with invite codes; for admins).
import {
  $, act, alertMsg, api, askNote, button, el, hooks, problemText, show, state, td,
} from './core.js';
import { num, t, when, word } from './i18n.js';

// -- suspensions ------------------------------------------------------------------------

export async function loadSuspensions(focus) {
  const r = await api('GET', '/api/suspensions');
  if (r.status !== 200) {
    $('suspensions-empty').hidden = false;
    show('suspensions', []);
    return;
  }
  const rows = r.body.suspensions.map((s) => {
    const tr = el('tr');
    tr.dataset.suspension = s.id;
    if (focus && s.id === focus) tr.className = 'focus';
    td(tr, s.author);
    td(tr, when(s.since));
    td(tr, s.until ? when(s.until) : t('susp.no_end'));
    td(tr, s.by);
    const actions = el('div', 'actions');
    if (s.report) actions.append(button(t('susp.report'), 'secondary small', () => hooks.openReport(s.report)));
    actions.append(button(t('susp.lift'), 'secondary small', () => lift(s)));
    td(tr, '').append(actions);
    return tr;
  });
  show('suspensions', rows);
  $('suspensions-empty').hidden = rows.length > 0;
  $('suspensions').querySelector('tr.focus button')?.focus();
}

async function lift(s) {
  const note = await askNote(t('susp.lift.ask', { who: s.author }), t('susp.lift'), { required: true, danger: false });
  if (note === null) return;
  const r = await act('POST', `/api/suspensions/${encodeURIComponent(s.id)}/lift`, note, t('susp.lifted'));
  if (r.status === 204 || r.status === 409) loadSuspensions();
}

// -- prompts ------------------------------------------------------------------------------

export function setPrompts(list) {
  state.prompts = new Map(list.map((p) => [p.id, p]));
  renderPrompts();
}

export function renderPrompts() {
  const rows = [...state.prompts.values()].map((p) => {
    const tr = el('tr');
    tr.dataset.prompt = p.id;
    const cell = td(tr, '');
    cell.append(el('span', null, p.text));
    cell.firstChild.dir = 'auto';
    cell.append(el('span', 'hint', ` (${p.id}, ${p.lang})`));
    td(tr, p.paused ? t('prompt.paused') : t('prompt.open'));
    const actions = el('div', 'actions');
    const path = `/api/prompts/${encodeURIComponent(p.id)}`;
    actions.append(
      p.paused
        ? button(t('prompt.resume'), 'secondary small', () => act('POST', `${path}/resume`, '', t('prompt.resumed')))
        : button(t('prompt.pause'), 'secondary small', async () => {
          const note = await askNote(t('prompt.pause.ask', { text: p.text }), t('prompt.pause'), { danger: false });
          if (note !== null) await act('POST', `${path}/pause`, note, t('prompt.paused.done'));
        }),
      // Retiring cannot be undone from here: a quiet button that asks first, never a red one.
      button(t('prompt.retire'), 'secondary small', async () => {
        const note = await askNote(t('prompt.retire.ask', { text: p.text }), t('prompt.retire.confirm'));
        if (note !== null) await act('DELETE', path, note, t('prompt.retired'));
      }),
    );
    td(tr, '').append(actions);
    return tr;
  });
  $('prompts').tBodies[0].replaceChildren(...rows);
}

export async function loadPrompts() {
  const r = await api('GET', '/api/prompts');
  if (r.status === 200) {
    setPrompts(r.body.prompts);
    hooks.renderAll();
  }
}

async function addPrompt(ev) {
  ev.preventDefault();
  const r = await api('POST', '/api/prompts', {
    id: $('prompt-id').value.trim(), text: $('prompt-text').value.trim(), lang: $('prompt-lang').value.trim(),
  });
  if (r.status === 201) {
    $('prompt-err').textContent = '';
    $('prompt-form').reset();
    alertMsg('');
    $('done').textContent = t('prompt.added');
    loadPrompts();
    hooks.loadAudit();
  } else {
    $('prompt-err').textContent = problemText(r);
  }
}

// -- admin: invites and audit ----------------------------------------------------------

// An audit entry's action in words; a suspension's length rides along ("report.suspend 3d").
function actionText(action) {
  const [code, days] = String(action).split(' ');
  const words = word('audit', code, code);
  return days ? `${words} (${t('audit.days', { n: Number(days.replace('d', '')) })})` : words;
}

function targetText(target) {
  const i = String(target).indexOf(':');
  if (i < 0) return target;
  return `${word('target', target.slice(0, i), target.slice(0, i))} ${target.slice(i + 1)}`;
}

const whoText = (name) => (name === 'command line' ? t('audit.cli') : name);

export async function loadAudit() {
  if (state.role !== 'admin') return;
  const r = await api('GET', '/api/audit?limit=200');
  if (r.status !== 200) return;
  const rows = r.body.entries.map((e) => {
    const tr = el('tr');
    tr.dataset.action = e.action.split(' ')[0];
    td(tr, when(e.at));
    td(tr, whoText(e.moderator));
    td(tr, actionText(e.action));
    td(tr, targetText(e.target));
    td(tr, e.note || '');
    return tr;
  });
  $('audit').tBodies[0].replaceChildren(...rows);
}

export async function loadInvites() {
  if (state.role !== 'admin') return;
  const r = await api('GET', '/api/invites');
  if (r.status !== 200) return;
  $('invites-required').textContent = r.body.required ? t('invite.required') : t('invite.optional');
  const rows = r.body.invites.map((inv) => {
    const tr = el('tr');
    td(tr, inv.label || '–');
    td(tr, inv.max_uses === null ? num(inv.uses) : t('invite.uses', { n: inv.uses, max: inv.max_uses }), 'num');
    td(tr, t('invite.created', { at: when(inv.created), by: whoText(inv.created_by) }));
    td(tr, inv.revoked ? t('invite.revoked') : t('invite.live'));
    const cell = td(tr, '');
    if (!inv.revoked) {
      cell.append(button(t('invite.revoke'), 'secondary small', async () => {
        const note = await askNote(t('invite.revoke.ask', { label: inv.label || inv.id }), t('invite.revoke'));
        if (note !== null && (await act('DELETE', `/api/invites/${encodeURIComponent(inv.id)}`, note, t('invite.revoked.done'))).status === 204) loadInvites();
      }));
    }
    return tr;
  });
  show('invites', rows);
}

async function createInvite(ev) {
  ev.preventDefault();
  const uses = $('invite-uses').value;
  const r = await api('POST', '/api/invites', { label: $('invite-label').value, max_uses: uses ? Number(uses) : null });
  if (r.status !== 201) {
    alertMsg(problemText(r));
    return;
  }
  $('invite-form').reset();
  $('invite-new').textContent = t('invite.new', { code: r.body.code });
  loadInvites();
  loadAudit();
}

export function setupAdmin() {
  $('prompt-form').addEventListener('submit', addPrompt);
  $('invite-form').addEventListener('submit', createInvite);
  $('audit-refresh').addEventListener('click', loadAudit);
  $('susp-refresh').addEventListener('click', () => loadSuspensions());
}
