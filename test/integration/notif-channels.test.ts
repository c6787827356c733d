import { beforeAll, describe, expect, it } from 'vitest';
import { api, registerAndLogin, unique } from '../helpers';
import { providerLog, saveChannel, sendOne, waitForDelivery } from './notif-helpers';

/*
 * Every channel against the fake provider receiver (test/fake-llm.ts, Miniflare's
 * outboundService): each test sends through the real API, the real task queue and consumer, and
 * asserts the exact request the provider documents — method, URL, headers, body.
 */
let token: string;
let me: { id: number; username: string };

beforeAll(async () => {
  const u = await registerAndLogin(unique('nchan'));
  token = u.token;
  me = u.user;
});

const sendAndWait = async (body: Record<string, unknown>) => {
  const d = await sendOne(token, body);
  const done = await waitForDelivery(token, d.id);
  expect(done.status, JSON.stringify(done)).toBe('sent');
  return done;
};

describe('email', () => {
  it("the seed example works as sent: the deployment's send_email binding delivers it", async () => {
    const res = await api('POST', '/api/v3/advanced/notifications/send', {
      token,
      body: { channel: 'email', recipient: 'user@example.com', subject: 'Test', message: 'Hello' },
    });
    expect(res.status, JSON.stringify(res.json)).toBe(202);
    expect(res.json.deliveries).toHaveLength(1);
    expect(res.json.deliveries[0]).toMatchObject({
      channel: 'email',
      recipient: 'user@example.com',
      subject: 'Test',
      message: 'Hello',
      status: 'queued',
      priority: 'normal',
    });
    const done = await waitForDelivery(token, res.json.deliveries[0].id);
    expect(done).toMatchObject({ status: 'sent', attempts: 1, provider_status: null });
    expect(done.provider_message_id).toEqual(expect.any(String));
  });

  it('Resend: POST /emails with a Bearer key, JSON body and an Idempotency-Key', async () => {
    await saveChannel(token, 'email', 'default', {
      settings: { provider: 'resend', from: 'Acme <noreply@acme.example>' },
      secrets: { api_key: 're_test_0123456789abcdef' },
    });
    const to = `${unique('rs')}@example.com`;
    const done = await sendAndWait({ channel: 'email', recipient: to, subject: 'Hi there', message: 'Body text' });
    const [req, ...more] = await providerLog('api.resend.com', to);
    expect(more).toEqual([]);
    expect(req).toMatchObject({ method: 'POST', url: 'https://api.resend.com/emails' });
    expect(req!.headers).toMatchObject({
      authorization: 'Bearer re_test_0123456789abcdef',
      'content-type': 'application/json',
      'idempotency-key': `notification-${done.id}`,
    });
    expect(JSON.parse(req!.body)).toEqual({ from: 'Acme <noreply@acme.example>', to: [to], subject: 'Hi there', text: 'Body text' });
    expect(done.provider_message_id).toMatch(/^re_msg_/);
    expect(done.provider_status).toBe(200);
  });

  it('SendGrid: POST /v3/mail/send with personalizations and content; the id comes from X-Message-Id', async () => {
    await saveChannel(token, 'email', 'sg', {
      settings: { provider: 'sendgrid', from: 'Acme <noreply@acme.example>', reply_to: 'help@acme.example' },
      secrets: { api_key: 'SG.test-key-0123456789' },
    });
    const to = `${unique('sg')}@example.com`;
    const done = await sendAndWait({ channel: 'email', config: 'sg', recipient: to, subject: 'S', message: 'M' });
    const [req] = await providerLog('api.sendgrid.com', to);
    expect(req).toMatchObject({ method: 'POST', url: 'https://api.sendgrid.com/v3/mail/send' });
    expect(req!.headers).toMatchObject({ authorization: 'Bearer SG.test-key-0123456789', 'content-type': 'application/json' });
    expect(JSON.parse(req!.body)).toEqual({
      personalizations: [{ to: [{ email: to }] }],
      from: { email: 'noreply@acme.example', name: 'Acme' },
      reply_to: { email: 'help@acme.example' },
      subject: 'S',
      content: [{ type: 'text/plain', value: 'M' }],
    });
    expect(done).toMatchObject({ provider_status: 202, provider_message_id: expect.stringMatching(/^sg_/) });
  });

  it('Postmark: POST /email with the server token header and MessageStream', async () => {
    await saveChannel(token, 'email', 'pm', {
      settings: { provider: 'postmark', from: 'noreply@acme.example' },
      secrets: { api_key: 'pm-server-token-0123' },
    });
    const to = `${unique('pm')}@example.com`;
    const done = await sendAndWait({ channel: 'email', config: 'pm', recipient: to, subject: 'S', message: 'M' });
    const [req] = await providerLog('api.postmarkapp.com', to);
    expect(req).toMatchObject({ method: 'POST', url: 'https://api.postmarkapp.com/email' });
    expect(req!.headers).toMatchObject({
      accept: 'application/json',
      'content-type': 'application/json',
      'x-postmark-server-token': 'pm-server-token-0123',
    });
    expect(JSON.parse(req!.body)).toEqual({ From: 'noreply@acme.example', To: to, Subject: 'S', TextBody: 'M', MessageStream: 'outbound' });
    expect(done.provider_message_id).toMatch(/^pm-/);
  });
});

describe('SMS (Twilio)', () => {
  it('form-encoded POST to /2010-04-01/Accounts/{Sid}/Messages.json with Basic auth', async () => {
    const sid = `AC${'0123456789abcdef'.repeat(2)}`;
    await saveChannel(token, 'sms', 'default', {
      settings: { account_sid: sid, from: '+15005550006' },
      secrets: { auth_token: 'twilio-auth-token-0123456789' },
    });
    const done = await sendAndWait({ channel: 'sms', recipient: '+14155550100', subject: 'ignored', message: `Code ${unique('sms')}` });
    const [req] = await providerLog('api.twilio.com', done.message.split(' ')[1]!);
    expect(req).toMatchObject({ method: 'POST', url: `https://api.twilio.com/2010-04-01/Accounts/${sid}/Messages.json` });
    expect(req!.headers.authorization).toBe(`Basic ${btoa(`${sid}:twilio-auth-token-0123456789`)}`);
    expect(req!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(req!.body))).toEqual({ To: '+14155550100', From: '+15005550006', Body: done.message });
    expect(done).toMatchObject({ provider_status: 201, provider_message_id: expect.stringMatching(/^SM/) });
  });
});

describe('chat webhooks', () => {
  it('Slack: an incoming webhook with Block Kit blocks and a text fallback', async () => {
    const url = `https://hooks.slack.com/services/T000/B000/${unique('slack')}`;
    await saveChannel(token, 'slack', 'alerts', { secrets: { webhook_url: url } });
    await sendAndWait({ channel: 'slack', recipient: 'alerts', subject: 'Deploy', message: 'v2 <is> out & live', priority: 'high' });
    const [req] = await providerLog('hooks.slack.com', url.split('/').at(-1)!);
    expect(req).toMatchObject({ method: 'POST', url });
    expect(req!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req!.body)).toEqual({
      text: 'Deploy: v2 &lt;is&gt; out &amp; live',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'Deploy', emoji: true } },
        { type: 'section', text: { type: 'mrkdwn', text: 'v2 &lt;is&gt; out &amp; live' } },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'Priority: *high*' }] },
      ],
    });
  });

  it('Microsoft Teams: a message with one Adaptive Card attachment', async () => {
    const flow = unique('teams');
    const url = `https://prod-12.westus.logic.azure.com/workflows/${flow}/triggers/manual/paths/invoke?api-version=2016-06-01&sig=abc`;
    await saveChannel(token, 'teams', 'ops', { secrets: { webhook_url: url } });
    await sendAndWait({ channel: 'teams', recipient: 'ops', subject: 'Disk', message: '91% full', priority: 'urgent' });
    const [req] = await providerLog('prod-12.westus.logic.azure.com', flow);
    expect(req).toMatchObject({ method: 'POST', url });
    const body = JSON.parse(req!.body);
    expect(body.type).toBe('message');
    expect(body.attachments).toHaveLength(1);
    expect(body.attachments[0]).toMatchObject({ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null });
    expect(body.attachments[0].content).toMatchObject({
      $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
      type: 'AdaptiveCard',
      version: '1.4',
    });
    expect(body.attachments[0].content.body.slice(0, 2)).toEqual([
      { type: 'TextBlock', text: 'Disk', weight: 'Bolder', size: 'Medium', wrap: true, color: 'Attention' },
      { type: 'TextBlock', text: '91% full', wrap: true },
    ]);
  });

  it('Discord: a webhook execution with an embed, ?wait=true and mentions disabled', async () => {
    const tokenPart = unique('disc');
    const url = `https://discord.com/api/webhooks/123456789012345678/${tokenPart}`;
    await saveChannel(token, 'discord', 'community', { secrets: { webhook_url: url } });
    const done = await sendAndWait({ channel: 'discord', recipient: 'community', subject: 'Release', message: 'Notes', priority: 'low' });
    const [req] = await providerLog('discord.com', tokenPart);
    expect(req).toMatchObject({ method: 'POST', url: `${url}?wait=true` });
    const body = JSON.parse(req!.body);
    expect(body.allowed_mentions).toEqual({ parse: [] });
    expect(body.embeds).toEqual([
      { title: 'Release', description: 'Notes', color: 0x95a5a6, timestamp: expect.any(String), footer: { text: 'Priority: low' } },
    ]);
    expect(done.provider_message_id).toMatch(/^1000/);
  });

  it('pins chat webhook URLs to their providers and to the SSRF guard when saved', async () => {
    for (const [channel, webhook_url] of [
      ['slack', 'https://evil.example/services/x'],
      ['slack', 'http://hooks.slack.com/services/x'],
      ['discord', 'https://discord.com/not/a/webhook'],
      ['teams', 'https://169.254.169.254/latest'],
    ] as const) {
      const res = await api('PUT', `/api/v3/notifications/channels/${channel}/bad`, { token, body: { secrets: { webhook_url } } });
      expect(res.status, `${channel} ${webhook_url}`).toBe(400);
    }
    const list = await api('GET', '/api/v3/notifications/channels', { token });
    expect(list.json.items.map((c: { name: string }) => c.name)).not.toContain('bad');
  });
});

describe('in-app', () => {
  it('lands in the recipient inbox once, linked to the delivery', async () => {
    const done = await sendAndWait({
      channel: 'in_app',
      recipient: me.username,
      subject: 'Inbox title',
      message: 'Inbox body',
      data: { category: 'reports' },
    });
    const inbox = await api('GET', '/api/v3/notifications', { token });
    const mine = inbox.json.items.filter((n: { data: { delivery_id?: number } }) => n.data.delivery_id === done.id);
    expect(mine).toEqual([expect.objectContaining({ title: 'Inbox title', body: 'Inbox body', category: 'reports', priority: 'normal' })]);
    expect(done.provider_message_id).toBe(String(mine[0].id));
  });
});

describe('configuration secrets', () => {
  it('are never returned in full: only the origin or the last 4 characters', async () => {
    const list = await api('GET', '/api/v3/notifications/channels', { token });
    const text = JSON.stringify(list.json);
    for (const secret of [
      're_test_0123456789abcdef',
      'SG.test-key-0123456789',
      'pm-server-token-0123',
      'twilio-auth-token-0123456789',
      'hooks.slack.com/services/T000',
    ])
      expect(text).not.toContain(secret);
    const resend = list.json.items.find((c: { channel: string; name: string }) => c.channel === 'email' && c.name === 'default');
    expect(resend.secrets).toEqual({ api_key: '••••cdef' });
    const slack = list.json.items.find((c: { channel: string }) => c.channel === 'slack');
    expect(slack.secrets.webhook_url).toMatch(/^https:\/\/hooks\.slack\.com\/••••/);
  });

  it('keeps stored secrets when only settings change, and global configurations are for admins', async () => {
    await saveChannel(token, 'email', 'default', {
      settings: { provider: 'resend', from: 'Acme <noreply@acme.example>', reply_to: 'r@acme.example' },
    });
    const to = `${unique('keep')}@example.com`;
    await sendAndWait({ channel: 'email', recipient: to, subject: 'S', message: 'M' });
    const [req] = await providerLog('api.resend.com', to);
    expect(req!.headers.authorization).toBe('Bearer re_test_0123456789abcdef');
    const editor = await registerAndLogin(unique('nedit'));
    const res = await api('PUT', '/api/v3/notifications/channels/email/default?scope=global', {
      token: editor.token,
      body: { settings: { provider: 'cloudflare', from: 'a@b.example' } },
    });
    expect(res.status).toBe(403);
  });
});
