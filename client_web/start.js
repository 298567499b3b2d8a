// The start screen, in three short steps: how to talk (languages, kind of
// conversation), what about (prompts, 1 to 5, each with an optional stance;
// searchable), and the optional profile questions. "Find a partner" stays in
// reach on every step; a missing choice is shown in its step, with focus on it.
// Reads the form into a `join` frame.
import { t, has, locale } from './i18n.js';
import { local } from './store.js';

// Languages offered, named in their own language so a learner finds theirs.
const LANGS = ('en English|es Español|fr Français|de Deutsch|it Italiano|pt Português|nl Nederlands|'
  + 'pl Polski|ro Română|cs Čeština|sk Slovenčina|hu Magyar|hr Hrvatski|sq Shqip|tr Türkçe|'
  + 'sv Svenska|da Dansk|no Norsk|fi Suomi|id Bahasa Indonesia|ms Bahasa Melayu|tl Tagalog|'
  + 'vi Tiếng Việt|sw Kiswahili|so Soomaali|ku Kurdî|el Ελληνικά|uk Українська|ru Русский|'
  + 'bg Български|sr Српски|he עברית|ar العربية|fa فارسی|ps پښتو|ur اردو|hi हिन्दी|bn বাংলা|'
  + 'pa ਪੰਜਾਬੀ|ta தமிழ்|th ไทย|am አማርኛ|ti ትግርኛ|zh 中文|ja 日本語|ko 한국어')
  .split('|').map((s) => [s.slice(0, 2), s.slice(3)]);
const RTL = new Set(['ar', 'fa', 'he', 'ps', 'ur']);
const STANCES = ['agree', 'disagree', 'unsure'];
const MAX_PROMPTS = 5;
const LANG_KEY = 'bc.lang';
const INVITE_KEY = 'bc.invite';

function el(tag, props = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'text') e.textContent = v;
    else if (k in e && k !== 'lang' && k !== 'dir') e[k] = v;
    else e.setAttribute(k, v);
  }
  for (const k of kids) e.appendChild(k);
  return e;
}

function option(value, label, lang) {
  const o = el('option', { value, text: label });
  if (lang) {
    o.lang = lang;
    o.dir = RTL.has(lang) ? 'rtl' : 'ltr';
  }
  return o;
}

function bucketLabel(b) {
  const id = typeof b === 'string' ? b : b.id;
  if (has(`bucket.${id}`)) return t(`bucket.${id}`);
  if (b && typeof b === 'object' && b.label) return b.label;
  const s = String(id).replace(/_/g, ' ').replace(/(\d)-(\d)/g, '$1–$2');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// The language to chat in: chosen before, or the page's own.
export function preferredLanguage() {
  return local.get(LANG_KEY) || locale;
}

// Lower case without accents, for the search.
const fold = (s) => s.normalize('NFD').replace(/\p{M}/gu, '').toLocaleLowerCase();

export class StartForm {
  constructor(root) {
    this.form = root.querySelector('#join-form');
    this.list = root.querySelector('#prompt-list');
    this.promptsErr = root.querySelector('#prompts-err');
    this.joinErr = root.querySelector('#join-err');
    this.lang1 = root.querySelector('#lang1');
    this.lang2 = root.querySelector('#lang2');
    this.dims = root.querySelector('#dims');
    this.mode = root.querySelector('#mode');
    this.learning = root.querySelector('#learning');
    this.learningField = root.querySelector('#learning-field');
    this.invite = root.querySelector('#invite');
    this.inviteField = root.querySelector('#invite-field');
    this.invite.value = local.get(INVITE_KEY) || '';
    if (this.invite.value) this.inviteField.hidden = false;
    this.mode.addEventListener('change', () => {
      this.learningField.hidden = this.mode.value !== 'language_buddy';
    });
    this.button = root.querySelector('#join-btn');
    this.key = '';
    this.dimFields = [];
    this.renderLanguages();
    this.list.addEventListener('change', (e) => {
      if (e.target.type !== 'checkbox') return;
      const stance = e.target.closest('li').querySelector('.stance');
      stance.hidden = !e.target.checked;
      this.promptsErr.textContent = '';
      this.updateCount();
    });
    this.steps = [...this.form.querySelectorAll('.step')];
    this.links = [...root.querySelectorAll('.step-link')];
    this.back = root.querySelector('#step-back');
    this.next = root.querySelector('#step-next');
    this.at = 0;
    this.back.addEventListener('click', () => this.go(this.at - 1));
    this.next.addEventListener('click', () => this.go(this.at + 1));
    for (const a of this.links) a.addEventListener('click', () => this.go(Number(a.dataset.go)));
    this.search = root.querySelector('#prompt-search');
    this.search.addEventListener('input', () => this.filter());
    this.go(0, false);
  }

  // Show step i (0: how, 1: what about, 2: about you); focus its heading.
  go(i, focus = true) {
    this.at = Math.max(0, Math.min(this.steps.length - 1, i));
    this.steps.forEach((s, n) => { s.hidden = n !== this.at; });
    this.links.forEach((a, n) => {
      if (n === this.at) a.setAttribute('aria-current', 'step');
      else a.removeAttribute('aria-current');
    });
    this.form.ownerDocument.getElementById('step-of').textContent =
      t('start.stepOf', { n: this.at + 1, total: this.steps.length });
    this.back.hidden = this.at === 0;
    this.next.hidden = this.at === this.steps.length - 1;
    if (focus) {
      this.steps[this.at].querySelector('h2').focus();
      this.form.closest('section').scrollIntoView({ block: 'start' });
    }
  }

  filter() {
    const q = fold(this.search.value.trim());
    let hits = 0;
    for (const li of this.list.children) {
      const show = !q || fold(li.textContent).includes(q) || li.querySelector('input').checked;
      li.hidden = !show;
      if (show) hits += 1;
    }
    const none = this.form.querySelector('#no-hits');
    none.hidden = hits > 0;
    none.textContent = hits ? '' : t('start.noHits', { q: this.search.value.trim() });
  }

  renderLanguages() {
    const pref = preferredLanguage();
    const langs = [...LANGS];
    if (!langs.some(([c]) => c === pref)) {
      let name = pref;
      try {
        name = new Intl.DisplayNames([pref], { type: 'language' }).of(pref) || pref;
      } catch { /* unknown to this browser */ }
      langs.push([pref, name]);
    }
    langs.sort((a, b) => a[1].localeCompare(b[1]));
    this.lang2.appendChild(option('', t('start.langNone')));
    this.learning.appendChild(option('', t('start.langNone')));
    for (const [code, name] of langs) {
      this.lang1.appendChild(option(code, name, code));
      this.lang2.appendChild(option(code, name, code));
      this.learning.appendChild(option(code, name, code));
    }
    this.lang1.value = pref;
    if (pref !== 'en') this.lang2.value = 'en';
  }

  // Render prompts and profile questions; keeps choices already made when re-rendered.
  render(prompts, dimensions, sensitive) {
    const key = JSON.stringify([prompts, dimensions, sensitive]);
    if (key === this.key) return;
    this.key = key;
    const before = this.read(true);
    this.list.replaceChildren();
    prompts.forEach((p, i) => {
      const box = el('input', { type: 'checkbox', id: `p-${i}`, value: p.id });
      box.checked = before.prompts.includes(p.id);
      const text = el('span', { text: p.text });
      text.dir = 'auto';
      if (p.lang) text.lang = p.lang;
      const sel = el('select', { id: `st-${i}` });
      sel.appendChild(option('', t('start.stanceNone')));
      for (const s of STANCES) sel.appendChild(option(s, t(`start.stance.${s}`)));
      sel.value = before.stances[p.id] || '';
      const stance = el('div', { class: 'stance field' },
        el('label', { htmlFor: `st-${i}`, text: t('start.stance') }), sel);
      stance.hidden = !box.checked;
      this.list.appendChild(el('li', {}, el('label', { class: 'check' }, box, text), stance));
    });
    this.updateCount();
    this.form.querySelector('#search-field').hidden = prompts.length <= 6;
    this.filter();

    const sens = new Set(Array.isArray(sensitive) ? sensitive
      : sensitive && typeof sensitive === 'object' ? Object.keys(sensitive).filter((k) => sensitive[k]) : []);
    this.dims.replaceChildren();
    this.dimFields = dimensions.map((d, i) => {
      const sel = el('select', { id: `d-${i}` });
      sel.appendChild(option('', t('start.preferNot')));
      for (const b of d.buckets || []) sel.appendChild(option(typeof b === 'string' ? b : b.id, bucketLabel(b)));
      sel.value = before.profile[d.id] || '';
      const field = el('div', { class: 'field' }, el('label', { htmlFor: `d-${i}`, text: d.label || d.id }), sel);
      const f = { id: d.id, sel, optIn: null };
      if (sens.has(d.id) || d.sensitive === true) {
        const box = el('input', { type: 'checkbox', id: `o-${i}` });
        box.checked = Boolean(before.profile[d.id]);
        field.hidden = !box.checked;
        box.addEventListener('change', () => { field.hidden = !box.checked; });
        f.optIn = box;
        this.dims.appendChild(el('div', { class: 'sensitive' },
          el('label', { class: 'check' }, box, el('span', { text: t('start.optIn', { label: d.label || d.id }) })),
          el('p', { class: 'hint', text: t('start.sensitiveHint') }), field));
      } else {
        this.dims.appendChild(field);
      }
      return f;
    });
  }

  chosen() {
    return [...this.list.querySelectorAll('input[type=checkbox]:checked')];
  }

  updateCount() {
    const n = this.chosen().length;
    this.list.closest('fieldset').querySelector('#prompts-hint').textContent =
      `${t('start.promptsHint')} ${n ? t('start.chosen', { count: n }) : ''}`.trim();
  }

  // The join frame; with `loose`, no validation (used to keep choices on re-render).
  read(loose = false) {
    const prompts = this.chosen().map((b) => b.value);
    const stances = {};
    for (const b of this.chosen()) {
      const v = b.closest('li').querySelector('.stance select').value;
      if (v) stances[b.value] = v;
    }
    const profile = {};
    for (const f of this.dimFields || []) {
      if (f.sel.value && (!f.optIn || f.optIn.checked)) profile[f.id] = f.sel.value;
    }
    const languages = [this.lang1.value];
    if (this.lang2.value && this.lang2.value !== this.lang1.value) languages.push(this.lang2.value);
    const frame = { type: 'join', prompts, languages };
    if (this.mode.value !== 'bridge') frame.mode = this.mode.value;
    if (this.mode.value === 'language_buddy' && this.learning.value
      && !languages.includes(this.learning.value)) frame.learning = [this.learning.value];
    const invite = this.invite.value.trim();
    if (invite && !this.inviteField.hidden) frame.invite = invite;
    if (Object.keys(profile).length) frame.profile = profile;
    if (Object.keys(stances).length) frame.stances = stances;
    if (loose) return { prompts, stances, profile };
    let err = '';
    if (!prompts.length) err = t('start.errNone');
    else if (prompts.length > MAX_PROMPTS) err = t('start.errTooMany', { count: prompts.length });
    this.promptsErr.textContent = err;
    if (err) {
      // Shown in the prompts' step, where the eye goes; focus on it says it aloud.
      this.go(1, false);
      this.promptsErr.focus();
      this.promptsErr.scrollIntoView({ block: 'center' });
      return null;
    }
    local.set(LANG_KEY, this.lang1.value);
    if (invite) local.set(INVITE_KEY, invite);
    return frame;
  }

  // Not `disabled`: that would drop keyboard focus from the button.
  busy(on) {
    this.isBusy = on;
    this.button.setAttribute('aria-disabled', String(on));
  }

  // A refusal from the server: next to the button, read out (role=alert).
  error(text) {
    this.joinErr.textContent = text;
  }

  // The operator asked for an invite code: show the field and put the member in it.
  askInvite() {
    local.set(INVITE_KEY, null);
    this.inviteField.hidden = false;
    this.go(0, false);
    this.invite.focus();
  }
}
