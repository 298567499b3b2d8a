// Partners' names. The server names members in a room with an English
// "Adjective Noun" alias ("Calm Heron"); the page shows it built from the
// catalog's word lists in the page's language (i18n: alias.adjs, alias.nouns,
// alias.fmt), with the adjective agreeing with the noun's gender.
//
// Meeting again: when a member says they would like to talk again, this
// browser (only this one, never the server) keeps both aliases of that
// conversation. If a later match is a meet-again match (its reasons say so),
// the two browsers show the aliases of the first meeting; when this browser
// cannot tell which earlier partner it is, it says "the person you asked to
// meet again".
import { t } from './i18n.js';
import { local } from './store.js';

const AGAIN_KEY = 'bc.again';
const KEEP_MS = 30 * 24 * 3600 * 1000;

// "Calm=Ruhiger|Ruhige|Ruhiges;..." -> Map(Calm -> [forms]); "-": the server's words as they are.
function table(key) {
  const v = t(key);
  if (v === '-' || v === key) return null;
  const m = new Map();
  for (const part of v.split(';')) {
    const [k, forms] = part.split('=');
    if (k && forms) m.set(k.trim(), forms.split('|'));
  }
  return m;
}

let words = null;
export function aliasName(raw) {
  words ??= { adjs: table('alias.adjs'), nouns: table('alias.nouns') };
  const s = String(raw || '');
  if (!words.adjs || !words.nouns) return s;
  const [a, n, extra] = s.split(' ');
  const adj = words.adjs.get(a);
  const noun = words.nouns.get(n);
  // An unknown word never reaches a translated page in English.
  if (!adj || !noun || extra) return t('alias.someone');
  const [text, gender = '0'] = noun;
  return t('alias.fmt', { a: adj[Number(gender)] || adj[0], n: text });
}

function load() {
  try {
    const list = JSON.parse(local.get(AGAIN_KEY) || '[]');
    return Array.isArray(list) ? list.filter((e) => e && Date.now() - e.at < KEEP_MS) : [];
  } catch {
    return [];
  }
}

const save = (list) => local.set(AGAIN_KEY, list.length ? JSON.stringify(list.slice(-5)) : null);

// This member would like to meet `them` again; `me` is how they knew us.
export function rememberAgain(me, them) {
  save([...load().filter((e) => e.them !== them), { me, them, at: Date.now() }]);
}

// The names shown in one room: a meet-again room shows those of the first meeting.
export class Names {
  constructor(info) {
    this.you = info.you;
    this.first = null;
    const others = (info.members || []).map((m) => m.alias).filter((a) => a !== info.you);
    if (others.length !== 1 || !(info.because || []).includes(t('match.again'))) return;
    const list = load();
    let e = list.find((x) => x.room === info.room);
    const free = list.filter((x) => !x.room);
    if (!e && free.length === 1) {
      [e] = free;
      e.room = info.room;
      save(list);
    }
    this.first = e || { generic: true };
    this.other = others[0];
  }

  name(raw) {
    const f = this.first;
    if (f && raw === this.you && f.me) return aliasName(f.me);
    if (f && raw === this.other) return f.generic ? t('alias.again') : aliasName(f.them);
    return aliasName(raw);
  }
}
