// Failover through the official openai SDK (no SDK retries): a model whose primary route's
// upstream refuses connections is answered by its second route, streaming included, and the
// gateway's log line counts the failover. The configuration is installed by SIGHUP reload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import OpenAI from 'openai';
import { startStack, sleep, GATEWAY_KEY } from './helpers.mjs';

let stack;
let client;

// A loopback port nobody listens on: bound, then released.
async function closedPort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

before(async () => {
  stack = await startStack();
  client = new OpenAI({ baseURL: stack.baseURL, apiKey: GATEWAY_KEY, maxRetries: 0 });
  const dead = await closedPort();
  const original = readFileSync(stack.configPath, 'utf8');
  const withFailover = original
    .replace('upstreams:\n', `upstreams:\n  dead:\n    region: us\n    base_url: http://127.0.0.1:${dead}/v1\n` +
      '    credential: { env: E2E_VENDOR_KEY }\n    connect_timeout_ms: 500\n')
    .replace('routes:\n', 'routes:\n  - { model: gpt-ha, upstream: dead, upstream_model: gpt-4o }\n' +
      '  - { model: gpt-ha, name: gpt-ha-backup, upstream: fake, upstream_model: gpt-4o }\n');
  writeFileSync(stack.configPath, withFailover);
  stack.signal('SIGHUP');
  const end = Date.now() + 5000;
  while (!/config_reloaded/.test(stack.logs.gateway) && Date.now() < end) await sleep(50);
  assert.match(stack.logs.gateway, /config_reloaded/);
  // Workers pick the new snapshot up from their queues.
  for (let i = 0; i < 40; i++) {
    try {
      await client.chat.completions.create({ model: 'gpt-ha', messages: [{ role: 'user', content: 'x' }] });
      break;
    } catch { await sleep(50); }
  }
});
after(async () => { await stack.stop(); });

test('a refused primary is answered by the backup route', async () => {
  const r = await client.chat.completions.create({
    model: 'gpt-ha', messages: [{ role: 'user', content: 'hello failover' }] });
  assert.equal(r.choices[0].message.content, 'ECHO: hello failover');
  assert.match(stack.logs.gateway, /"failovers":1/);
});

test('a streamed call fails over before its first byte', async () => {
  const stream = await client.chat.completions.create({
    model: 'gpt-ha', stream: true, messages: [{ role: 'user', content: 'streamed failover' }] });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  assert.equal(text, 'ECHO: streamed failover');
});
