// Reloading the policy configuration on SIGHUP: a malformed tenant or registry is rejected with
// its file and line and the gateway keeps deciding on the old configuration; a valid change
// takes effect and its new configuration hash is announced.
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

const ask = () => client.chat.completions.create({
  model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
const hash = async () => {
  const m = await (await fetch(`${stack.adminURL}/metrics`)).text();
  return /baagate_config_info\{config_hash="([0-9a-f]{64})"/.exec(m)[1];
};

test('a malformed registry or tenant is rejected on reload; the old policy stays', async () => {
  const original = readFileSync(stack.configPath, 'utf8');
  const before = await hash();
  const badRegistry = join(dirname(stack.configPath), 'bad-registry.yaml');
  writeFileSync(badRegistry, 'schema: baagate.registry/1\nversion: x\nproviders:\n  openai: { vendor: openai }\n' +
    'rules:\n  - { id: r, provider: openai, feature: core, status: perhaps }\n');
  writeFileSync(stack.configPath, `${original}policy:\n  registry_file: ${badRegistry}\n`);
  stack.signal('SIGHUP');
  await waitForLog(stack, /config_reload_failed.*bad-registry\.yaml:6:\d+: rules\[0\]\.status/);
  assert.equal((await ask()).choices[0].message.content, 'ECHO: hi');

  writeFileSync(stack.configPath, original.replace('effective_date: "2025-01-01"', 'effective_date: "2025-02-30"'));
  stack.signal('SIGHUP');
  await waitForLog(stack, /config_reload_failed.*gateway\.yaml:\d+:\d+: tenant\.contracts\[0\]\.effective_date/);
  assert.equal((await ask()).choices[0].message.content, 'ECHO: hi');
  assert.equal(await hash(), before);

  // A valid change: the BAA is gone, so the same call is now refused, under a new hash.
  writeFileSync(stack.configPath, original.replace(/ *- \{ id: BAA-OPENAI-E2E.*\n/, ''));
  stack.signal('SIGHUP');
  await waitForLog(stack, /config_reloaded/);
  // Workers pick the new snapshot up from their queues; give them a moment.
  for (let i = 0; i < 40; i++) {
    try { await ask(); } catch { break; }
    await sleep(50);
  }
  await assert.rejects(ask(), (err) => {
    assert.equal(err.status, 403);
    assert.deepEqual(err.error.reasons, ['NO_BAA:openai']);
    return true;
  });
  assert.notEqual(await hash(), before);
  writeFileSync(stack.configPath, original);
});
