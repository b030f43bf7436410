// The de-identifier's deployment lists on a de-identified fallback route: a roster name the
// detector could not know reaches the vendor only as a placeholder, the client reads it back,
// and a SIGHUP re-reads the roster file (a new patient is protected without a restart).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import OpenAI from 'openai';
import { startStack, sleep, waitForLog, GATEWAY_KEY } from './helpers.mjs';

let stack;
let client;
before(async () => {
  stack = await startStack();
  client = new OpenAI({ baseURL: stack.baseURL, apiKey: GATEWAY_KEY, maxRetries: 0 });
});
after(async () => { await stack.stop(); });

async function lastVendorBody() {
  const rec = await (await fetch(`${stack.fakeURL}/_fake/requests`)).json();
  return rec.requests[rec.requests.length - 1].body;
}
// Workers pick up a reloaded detector from their queues: ask until the vendor sees no name.
async function askUntilProtected(prompt, names) {
  for (let i = 0; i < 40; i++) {
    let r;
    try {
      r = await client.chat.completions.create({
        model: 'deid-eu', messages: [{ role: 'user', content: prompt }] });
    } catch {  // a worker still on the previous snapshot does not know the route yet
      await sleep(50);
      continue;
    }
    const sent = (await lastVendorBody()).toLowerCase();
    if (names.every((n) => !sent.includes(n))) return { r, sent };
    await sleep(50);
  }
  assert.fail(`the vendor kept seeing one of ${names}`);
}

test('roster names are de-identified on a fallback route, and SIGHUP re-reads the roster', async () => {
  const original = readFileSync(stack.configPath, 'utf8');
  const roster = join(dirname(stack.configPath), 'roster.txt');
  writeFileSync(roster, 'Zebulon Quarrington\n');
  // An EU upstream (outside the tenant's regions) that takes de-identified calls.
  const fakeBase = /base_url: (http:\/\/[^/\s]+)\/v1/.exec(original)[1];
  const config = original
    .replace('upstreams:\n', `upstreams:\n  fake-eu:\n    region: eu\n    base_url: ${fakeBase}/v1\n` +
             '    credential: { env: E2E_VENDOR_KEY }\n')
    .replace('routes:\n', 'routes:\n  - { model: deid-eu, upstream: fake-eu, deidentified_fallback: true }\n')
    .replace('- { id: e2e, purpose: treatment }', '- { id: e2e, purpose: treatment, deidentified_fallback: true }')
    + `phi:\n  roster_file: ${roster}\n`;
  writeFileSync(stack.configPath, config);
  stack.signal('SIGHUP');
  await waitForLog(stack, /config_reloaded/, 1);

  const prompt = 'please summarise the visit of zebulon quarrington and ysolde brackenridge';
  const first = await askUntilProtected(prompt, ['zebulon', 'quarrington']);
  assert.equal(first.r.choices[0].message.content, `ECHO: ${prompt}`);
  assert.ok(first.sent.includes('brackenridge'), 'not on the roster yet, so not known as a name');

  // A new patient on the roster: the configuration is unchanged, the list is re-read.
  writeFileSync(roster, 'Zebulon Quarrington\nYsolde Brackenridge\n');
  stack.signal('SIGHUP');
  await waitForLog(stack, /config_reloaded/, 2);
  const second = await askUntilProtected(prompt, ['zebulon', 'quarrington', 'ysolde', 'brackenridge']);
  assert.equal(second.r.choices[0].message.content, `ECHO: ${prompt}`);
  // The roster's contents appear in no log line.
  assert.ok(!/ysolde|brackenridge|quarrington/i.test(stack.logs.gateway));

  // A roster file that cannot be read fails the reload; the running lists stay.
  writeFileSync(stack.configPath, config.replace(roster, `${roster}.missing`));
  stack.signal('SIGHUP');
  await waitForLog(stack, /config_reload_failed.*roster\.txt\.missing/, 1);
  await askUntilProtected(prompt, ['zebulon', 'quarrington', 'ysolde', 'brackenridge']);
  writeFileSync(stack.configPath, original);
});
