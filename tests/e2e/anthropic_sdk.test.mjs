// The unmodified official Anthropic SDK against baagate's /v1/messages front door, on a Claude
// route (Anthropic upstream) and on an OpenAI route (translated); and the OpenAI SDK on a
// Claude route. Only baseURL and apiKey change.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startStack, GATEWAY_KEY, VENDOR_KEY } from './helpers.mjs';

let stack;
let anthropic;
let openai;
before(async () => {
  stack = await startStack();
  anthropic = new Anthropic({ baseURL: stack.anthropicBaseURL, apiKey: GATEWAY_KEY, maxRetries: 0 });
  openai = new OpenAI({ baseURL: stack.baseURL, apiKey: GATEWAY_KEY, maxRetries: 0 });
});
after(async () => { await stack.stop(); });

test('messages.create on a Claude route', async () => {
  const m = await anthropic.messages.create({
    model: 'claude-sonnet',
    max_tokens: 64,
    messages: [{ role: 'user', content: 'hello from the anthropic sdk' }],
  });
  assert.equal(m.type, 'message');
  assert.equal(m.content[0].type, 'text');
  assert.equal(m.content[0].text, 'ECHO: hello from the anthropic sdk');
  assert.equal(m.stop_reason, 'end_turn');
  assert.ok(m.usage.input_tokens > 0);
  assert.ok(m.usage.output_tokens > 0);
});

test('messages.stream on a Claude route: events, final message and usage', async () => {
  const stream = anthropic.messages.stream({
    model: 'claude-sonnet',
    max_tokens: 64,
    messages: [{ role: 'user', content: 'stream these words please' }],
  });
  const types = [];
  let text = '';
  stream.on('streamEvent', (e) => { types.push(e.type); });
  stream.on('text', (t) => { text += t; });
  const final = await stream.finalMessage();
  assert.equal(text, 'ECHO: stream these words please');
  assert.equal(final.content[0].text, 'ECHO: stream these words please');
  assert.equal(final.stop_reason, 'end_turn');
  assert.ok(final.usage.output_tokens > 0);
  assert.equal(types[0], 'message_start');
  assert.equal(types[types.length - 1], 'message_stop');
  assert.ok(types.includes('content_block_delta'));
});

test('tool use streams through the Anthropic SDK with input_json_delta fragments', async () => {
  const final = await anthropic.messages.stream({
    model: 'claude-sonnet',
    max_tokens: 64,
    tools: [{ name: 'lookup', description: 'find a record', input_schema: { type: 'object' } }],
    messages: [{ role: 'user', content: 'look it up [[fake:tool-use]]' }],
  }).finalMessage();
  assert.equal(final.stop_reason, 'tool_use');
  const tool = final.content.find((b) => b.type === 'tool_use');
  assert.equal(tool.name, 'lookup');
  assert.deepEqual(tool.input, { query: 'fake lookup', limit: 3 });
});

test('the Anthropic SDK on an OpenAI route (translated), plain and streamed', async () => {
  const m = await anthropic.messages.create({
    model: 'gpt-4o-mini',
    max_tokens: 64,
    messages: [{ role: 'user', content: 'translated please' }],
  });
  assert.equal(m.content[0].text, 'ECHO: translated please');
  const final = await anthropic.messages.stream({
    model: 'gpt-4o-mini',
    max_tokens: 64,
    messages: [{ role: 'user', content: 'translated stream' }],
  }).finalMessage();
  assert.equal(final.content[0].text, 'ECHO: translated stream');
  assert.equal(final.stop_reason, 'end_turn');
});

test('Anthropic SDK errors: typed, and without vendor text', async () => {
  await assert.rejects(
    anthropic.messages.create({
      model: 'claude-sonnet',
      max_tokens: 16,
      messages: [{ role: 'user', content: 'canary-7781 [[fake:429]]' }],
    }),
    (err) => {
      assert.ok(err instanceof Anthropic.RateLimitError);
      assert.equal(err.status, 429);
      assert.ok(!JSON.stringify(err.error).includes('canary-7781'));
      return true;
    },
  );
  const bad = new Anthropic({ baseURL: stack.anthropicBaseURL, apiKey: VENDOR_KEY, maxRetries: 0 });
  await assert.rejects(
    bad.messages.create({ model: 'claude-sonnet', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }),
    (err) => err instanceof Anthropic.AuthenticationError,
  );
});

test('a mid-stream overloaded error reaches the Anthropic SDK as an error', async () => {
  const stream = anthropic.messages.stream({
    model: 'claude-sonnet',
    max_tokens: 64,
    messages: [{ role: 'user', content: 'canary-9912 [[fake:error-event]]' }],
  });
  await assert.rejects(stream.finalMessage(), (err) => {
    assert.ok(!String(err.message).includes('canary-9912'));
    return true;
  });
});

test('the OpenAI SDK on a Claude route, plain and streamed', async () => {
  const r = await openai.chat.completions.create({
    model: 'claude-sonnet',
    messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi claude' }],
  });
  assert.equal(r.choices[0].message.content, 'ECHO: hi claude');
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.ok(r.usage.prompt_tokens > 0);
  const stream = await openai.chat.completions.create({
    model: 'claude-sonnet',
    messages: [{ role: 'user', content: 'stream from claude' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let usage = null;
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta?.content) text += chunk.choices[0].delta.content;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, 'ECHO: stream from claude');
  assert.ok(usage && usage.completion_tokens > 0);
});

test('the vendor never sees the gateway key; the logs never see prompts', async () => {
  await anthropic.messages.create({
    model: 'claude-sonnet',
    max_tokens: 8,
    messages: [{ role: 'user', content: 'log-canary-5531' }],
  });
  const rec = await (await fetch(`${stack.fakeURL}/_fake/requests`)).json();
  const last = rec.requests[rec.requests.length - 1];
  assert.equal(last.headers['x-api-key'], VENDOR_KEY);
  assert.equal(JSON.parse(last.body).model, 'claude-3-5-sonnet-20240620');
  assert.ok(!JSON.stringify(rec).includes(GATEWAY_KEY));
  assert.ok(!stack.logs.gateway.includes('log-canary-5531'));
});

test('the OpenAI SDK on a Bedrock route: SigV4-signed InvokeModel, plain and streamed', async () => {
  const r = await openai.chat.completions.create({
    model: 'claude-bedrock',
    messages: [{ role: 'user', content: 'hi bedrock' }],
  });
  assert.equal(r.choices[0].message.content, 'ECHO: hi bedrock');
  const stream = await openai.chat.completions.create({
    model: 'claude-bedrock',
    messages: [{ role: 'user', content: 'stream from bedrock please' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let usage = null;
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta?.content) text += chunk.choices[0].delta.content;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, 'ECHO: stream from bedrock please');
  assert.ok(usage && usage.completion_tokens > 0);
  const rec = await (await fetch(`${stack.fakeURL}/_fake/requests`)).json();
  const last = rec.requests[rec.requests.length - 1];
  assert.equal(last.path, '/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/invoke-with-response-stream');
  assert.match(last.headers.authorization, /^AWS4-HMAC-SHA256 Credential=AKIDE2EFAKE0001\/\d{8}\/us-east-1\/bedrock\/aws4_request/);
});

test('the Anthropic SDK on a Bedrock route streams the native event sequence', async () => {
  const final = await anthropic.messages.stream({
    model: 'claude-bedrock',
    max_tokens: 64,
    messages: [{ role: 'user', content: 'native over bedrock' }],
  }).finalMessage();
  assert.equal(final.content[0].text, 'ECHO: native over bedrock');
  assert.equal(final.stop_reason, 'end_turn');
});

test('the Anthropic SDK on a Claude-on-Vertex route: plain and streamed rawPredict', async () => {
  const msg = await anthropic.messages.create({
    model: 'claude-vertex',
    max_tokens: 64,
    messages: [{ role: 'user', content: 'native over vertex' }],
  });
  assert.equal(msg.content[0].text, 'ECHO: native over vertex');
  const final = await anthropic.messages.stream({
    model: 'claude-vertex',
    max_tokens: 64,
    messages: [{ role: 'user', content: 'streamed over vertex' }],
  }).finalMessage();
  assert.equal(final.content[0].text, 'ECHO: streamed over vertex');
  assert.equal(final.stop_reason, 'end_turn');
  const rec = await (await fetch(`${stack.fakeURL}/_fake/requests`)).json();
  const last = rec.requests[rec.requests.length - 1];
  assert.equal(last.path,
    '/v1/projects/e2e-proj/locations/us-east5/publishers/anthropic/models/claude-3-5-sonnet-v2@20241022:streamRawPredict');
  assert.match(last.headers.authorization, /^Bearer ya29\.fake-/);
  assert.equal(last.headers['x-api-key'], undefined);
  assert.equal(JSON.parse(last.body).anthropic_version, 'vertex-2023-10-16');
});

test('the OpenAI SDK on an Azure OpenAI deployment route, plain and streamed', async () => {
  const r = await openai.chat.completions.create({
    model: 'azure-gpt',
    messages: [{ role: 'user', content: 'hi azure' }],
  });
  assert.equal(r.choices[0].message.content, 'ECHO: hi azure');
  const stream = await openai.chat.completions.create({
    model: 'azure-gpt',
    messages: [{ role: 'user', content: 'stream from azure' }],
    stream: true,
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  assert.equal(text, 'ECHO: stream from azure');
  const rec = await (await fetch(`${stack.fakeURL}/_fake/requests`)).json();
  const last = rec.requests[rec.requests.length - 1];
  assert.equal(last.path, '/openai/deployments/gpt4o-deployment/chat/completions');
  assert.equal(last.headers['api-key'], VENDOR_KEY);
  await assert.rejects(
    openai.chat.completions.create({
      model: 'azure-gpt',
      messages: [{ role: 'user', content: 'canary-2208 [[fake:content-filter]]' }],
    }),
    (err) => err.status === 400 && err.code === 'content_filter' &&
      !JSON.stringify(err.error).includes('canary-2208'),
  );
});
