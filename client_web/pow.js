// The bot barrier's puzzle, off the page's thread (docs/protocol.md, "Bot barrier"):
// the whole number n, 0 <= n <= maxnumber, whose SHA-256 of salt + n is `challenge`.
// Web Crypto hashes; many digests are asked for at once, since each is a promise.
// Loaded only when the server sends a `challenge`. Answers n, or null if none fits.
const BATCH = 2000;

onmessage = async ({ data: c }) => {
  const text = new TextEncoder();
  const hex = String(c.challenge);
  const want = new Uint8Array(32);
  for (let i = 0; i < 32; i += 1) want[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  const max = Number(c.maxnumber);
  for (let from = 0; from <= max; from += BATCH) {
    const jobs = [];
    for (let n = from; n <= Math.min(max, from + BATCH - 1); n += 1) {
      jobs.push(crypto.subtle.digest('SHA-256', text.encode(c.salt + n)));
    }
    const got = await Promise.all(jobs);
    for (let i = 0; i < got.length; i += 1) {
      const d = new Uint8Array(got[i]);
      let j = 0;
      while (j < 32 && d[j] === want[j]) j += 1;
      if (j === 32) {
        postMessage(from + i);
        return;
      }
    }
  }
  postMessage(null);
};
