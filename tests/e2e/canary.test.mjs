// Canary PHI: a prompt with synthetic identifiers goes through every path (success, stream,
// vendor errors that quote it, broken streams); its text must appear in no log line, no metric
// and no error body, while the fake vendor proves it did reach the vendor.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startStack, GATEWAY_KEY, VENDOR_KEY } from './helpers.mjs';

const CANARY = 'Zebulon Quartermaine MRN 99887766 DOB 1931-02-29';
const CANARY_PARTS = ['Zebulon', 'Quartermaine', '99887766'];

let stack;
let client;
const errorBodies = [];
before(async () => {
  stack = await startStack();
  client = new OpenAI({ baseURL: stack.baseURL, apiKey: GATEWAY_KEY, maxRetries: 0 });
});
after(async () => { await stack.stop(); });

async function raw(body, model = 'gpt-4o-mini') {
  const r = await fetch(`${stack.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: body }] }),
  });
  const text = await r.text();
  if (r.status !== 200) errorBodies.push(text);
  return { status: r.status, text };
}

test('the canary reaches the vendor', async () => {
  const r = await client.chat.completions.create({
    model: 'gpt-4o-mini', messages: [{ role: 'user', content: CANARY }],
  });
  assert.equal(r.choices[0].message.content, `ECHO: ${CANARY}`);
  const seen = await (await fetch(`${stack.fakeURL}/_fake/requests`)).json();
  assert.ok(seen.requests.some((q) => q.body.includes(CANARY)));
});

test('the canary goes through every error path', async () => {
  for (const fault of ['[[fake:500]]', '[[fake:400]]', '[[fake:429]]', '[[fake:timeout]]']) {
    const r = await raw(`${CANARY} ${fault}`);
    assert.notEqual(r.status, 200);
  }
  const s = await raw(`${CANARY} [[fake:error-event]]`);  // not streaming: plain echo
  assert.equal(s.status, 200);
  for (const fault of ['[[fake:error-event]]', '[[fake:malformed-sse]]', '[[fake:reset-mid-stream]]']) {
    const r = await fetch(`${stack.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: `${CANARY} ${fault}` }] }),
    });
    const text = await r.text();
    const errorEvents = text.split('\n').filter((l) => l.includes('"error"'));
    assert.ok(errorEvents.length > 0, text);
    errorBodies.push(errorEvents.join('\n'));
  }
  // The canary as a model name and in a malformed body.
  errorBodies.push((await raw('x', CANARY)).text);
  const bad = await fetch(`${stack.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json' },
    body: `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"${CANARY}"`,
  });
  errorBodies.push(await bad.text());
  assert.equal(bad.status, 400);
  // And as a gateway key.
  const wrong = new OpenAI({ baseURL: stack.baseURL, apiKey: CANARY.replaceAll(' ', '-'), maxRetries: 0 });
  await assert.rejects(wrong.models.list());
});

test('the canary is in no error body, metric or log line', async () => {
  for (const body of errorBodies) {
    for (const part of CANARY_PARTS) assert.ok(!body.includes(part), `error body holds PHI: ${body}`);
  }
  const metrics = await (await fetch(`${stack.adminURL}/metrics`)).text();
  assert.ok(metrics.includes('baagate_requests_total'));
  for (const part of CANARY_PARTS) assert.ok(!metrics.includes(part), 'metrics hold PHI');
  const code = await stack.stop();
  assert.equal(code, 0, 'gateway did not drain and exit cleanly');
  const lines = stack.logs.gateway.trim().split('\n');
  assert.ok(lines.length >= 10, 'expected access log lines');
  for (const line of lines) {
    JSON.parse(line);  // every line is structured JSON
    for (const part of [...CANARY_PARTS, VENDOR_KEY, GATEWAY_KEY]) {
      assert.ok(!line.includes(part), `log line holds a canary or secret: ${line}`);
    }
  }
});
