import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, expectError, registerAndLogin, unique } from '../helpers';
import { deliver } from './tasks-helpers';
import { getDelivery, providerLog, saveChannel, sendOne, waitForDelivery } from './notif-helpers';

/*
 * Providers' limits enforced before a request leaves: what Slack, Twilio, Teams and email
 * providers would refuse is a 400 when the send or the configuration is made, and a delivery
 * queued before a limit existed fails for good without a provider call.
 */
let token: string;
const deliveryCount = async () => (await env.DB.prepare('SELECT count(*) AS n FROM notification_deliveries').first<{ n: number }>())!.n;
const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();

beforeAll(async () => {
  token = (await registerAndLogin(unique('nlimit'))).token;
  await saveChannel(token, 'sms', 'default', {
    settings: { account_sid: `AC${'ef'.repeat(16)}`, from: '+15005550006' },
    secrets: { auth_token: 'twilio-limit-token-123456' },
  });
  await saveChannel(token, 'email', 'default', {
    settings: { provider: 'resend', from: 'noreply@acme.example' },
    secrets: { api_key: 're_limit_0123456789' },
  });
});

const sendRes = (body: Record<string, unknown>) => api('POST', '/api/v3/notifications/send', { token, body });
const createTemplate = (body: Record<string, unknown>) => api('POST', '/api/v3/notifications/templates', { token, body });

describe('Slack', () => {
  it('leaves out the header when there is no subject, and escapes the fallback text like the blocks', async () => {
    const hook = unique('slacklim');
    const url = `https://hooks.slack.com/services/T1/B1/${hook}`;
    await saveChannel(token, 'slack', 'lim', { secrets: { webhook_url: url } });
    const d = await sendOne(token, {
      channel: 'slack',
      recipient: 'lim',
      message: 'Ping <!channel>: see <https://evil.example|the docs> & more',
    });
    expect((await waitForDelivery(token, d.id)).status).toBe('sent');
    const [req] = await providerLog('hooks.slack.com', hook);
    const escaped = 'Ping &lt;!channel&gt;: see &lt;https://evil.example|the docs&gt; &amp; more';
    // Block Kit: every text object holds at least one character; no header block without a subject.
    expect(JSON.parse(req!.body)).toEqual({
      text: escaped,
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: escaped } },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'Priority: *normal*' }] },
      ],
    });
  });

  it('refuses a template that fills in to nothing, naming the rule', async () => {
    await saveChannel(token, 'slack', 'blank', { secrets: { webhook_url: `https://hooks.slack.com/services/T1/B1/${unique('blank')}` } });
    const t = await createTemplate({
      name: unique('slackblank'),
      channel: 'slack',
      subject: '{{title}}',
      body: '{{text}}',
      variables: [
        { name: 'title', required: false, default: '' },
        { name: 'text', required: false, default: ' ' },
      ],
    });
    expect(t.status, JSON.stringify(t.json)).toBe(201);
    const before = await deliveryCount();
    const res = await sendRes({ channel: 'slack', recipient: 'blank', template_id: t.json.id });
    expectError(res, 400, 'validation_error');
    expect(res.json.error.details[0].message).toContain('a Slack message needs a subject or a message');
    expect(await deliveryCount()).toBe(before);
  });
});

describe('SMS (Twilio: 1,600 characters)', () => {
  it('sends 1,600 characters and refuses 1,601 with a 400 naming the limit, storing nothing', async () => {
    const to = '+14155550161';
    const full = `${unique('sms1600')} `.padEnd(1600, 'x');
    const d = await sendOne(token, { channel: 'sms', recipient: to, message: full });
    expect((await waitForDelivery(token, d.id)).status).toBe('sent');
    const [req] = await providerLog('api.twilio.com', encodeURIComponent(full.slice(0, 20)).replace(/%20/g, '+'));
    expect(new URLSearchParams(req!.body).get('Body')).toHaveLength(1600);

    const before = await deliveryCount();
    const res = await sendRes({ channel: 'sms', recipient: to, message: `${full}y` });
    expectError(res, 400, 'validation_error');
    expect(res.json.error.details).toEqual([
      { path: ['message'], code: 'custom', message: expect.stringContaining('at most 1600 characters') },
    ]);
    expect(res.json.error.details[0].message).toContain('this message has 1601');
    expect(await deliveryCount()).toBe(before);
  });

  it('counts the message after the template is filled in', async () => {
    const t = await createTemplate({
      name: unique('smslong'),
      channel: 'sms',
      body: 'Report: {{text}}',
      variables: [{ name: 'text' }],
    });
    expect(t.status, JSON.stringify(t.json)).toBe(201);
    const res = await sendRes({ channel: 'sms', recipient: '+14155550162', template_id: t.json.id, variables: { text: 'y'.repeat(1593) } });
    expectError(res, 400, 'validation_error');
    expect(res.json.error.details[0].message).toMatch(/at most 1600 characters.*this message has 1601 once the template is filled in/);
    const fits = await sendRes({
      channel: 'sms',
      recipient: '+14155550162',
      template_id: t.json.id,
      variables: { text: 'y'.repeat(1592) },
    });
    expect(fits.status, JSON.stringify(fits.json)).toBe(202);
  });

  it('fails an older queued SMS over the limit for good, without calling Twilio', async () => {
    const marker = unique('oldsms');
    const d = await sendOne(token, { channel: 'sms', recipient: '+14155550163', message: marker, send_at: inAnHour() });
    // As if queued before the limit was enforced.
    await env.DB.prepare('UPDATE notification_deliveries SET body = ? WHERE id = ?').bind(`${marker} `.padEnd(1700, 'z'), d.id).run();
    const queue = await deliver('dwc-tasks', [{ body: { kind: 'run', task_id: d.task_id, seq: 0 } }]);
    expect(queue.retryDelays).toEqual([]);
    const done = await getDelivery(token, d.id);
    expect(done).toMatchObject({ status: 'failed', attempts: 1, error: expect.stringContaining('at most 1600 characters') });
    expect(done.attempt_log![0]).toMatchObject({ retryable: false, response_code: null });
    expect(await providerLog('api.twilio.com', marker)).toEqual([]);
  });
});

describe('Microsoft Teams', () => {
  it('refuses retired Office 365 connector URLs on save, pointing to Workflows webhooks', async () => {
    for (const webhook_url of [
      'https://acme.webhook.office.com/webhookb2/1111-2222@3333/IncomingWebhook/abcd/4444',
      'https://outlook.office.com/webhook/1111-2222@3333/IncomingWebhook/abcd/4444',
    ]) {
      const res = await api('PUT', '/api/v3/notifications/channels/teams/legacy', { token, body: { secrets: { webhook_url } } });
      expectError(res, 400, 'validation_error');
      expect(JSON.stringify(res.json), webhook_url).toContain('Workflows');
      expect(JSON.stringify(res.json)).toContain('retired');
    }
    const list = await api('GET', '/api/v3/notifications/channels', { token });
    expect(list.json.items.map((c: { name: string }) => c.name)).not.toContain('legacy');
  });

  it('accepts a Workflows webhook URL', async () => {
    const url = `https://prod-07.westeurope.logic.azure.com/workflows/${unique('wf')}/triggers/manual/paths/invoke?api-version=2016-06-01&sig=x`;
    await saveChannel(token, 'teams', 'flow', { secrets: { webhook_url: url } });
  });
});

describe('email subject', () => {
  it('is needed when an email template is saved or replaced', async () => {
    for (const subject of [undefined, '', '   ']) {
      const res = await createTemplate({
        name: unique('nosubj'),
        channel: 'email',
        body: 'Hello',
        ...(subject === undefined ? {} : { subject }),
      });
      expectError(res, 400, 'validation_error');
      expect(res.json.error.details).toEqual([{ path: ['subject'], code: 'custom', message: 'an email template needs a subject' }]);
    }
    const ok = await createTemplate({ name: unique('subj'), channel: 'email', subject: 'Hi', body: 'Hello' });
    expect(ok.status).toBe(201);
    const replaced = await api('PUT', `/api/v3/notifications/templates/by-id/${ok.json.id}`, {
      token,
      body: { name: ok.json.name, channel: 'email', subject: '', body: 'Hello' },
    });
    expectError(replaced, 400, 'validation_error');
    expect((await api('GET', `/api/v3/notifications/templates/by-id/${ok.json.id}`, { token })).json.subject).toBe('Hi');
  });

  it('is needed at send, after the template is filled in too', async () => {
    const before = await deliveryCount();
    expectError(await sendRes({ channel: 'email', recipient: 'a@example.com', message: 'no subject' }), 400, 'validation_error');
    expectError(await sendRes({ channel: 'email', recipient: 'a@example.com', subject: '  ', message: 'blank' }), 400, 'validation_error');
    const t = await createTemplate({
      name: unique('subjvar'),
      channel: 'email',
      subject: '{{title}}',
      body: 'Hello',
      variables: [{ name: 'title', required: false, default: '' }],
    });
    expect(t.status, JSON.stringify(t.json)).toBe(201);
    const res = await sendRes({ channel: 'email', recipient: 'a@example.com', template_id: t.json.id });
    expectError(res, 400, 'validation_error');
    expect(res.json.error.details[0].message).toContain('an email needs a subject');
    expect(await deliveryCount()).toBe(before);
  });

  it('an older queued email without one fails without a provider call', async () => {
    const to = `${unique('oldmail')}@example.com`;
    const d = await sendOne(token, { channel: 'email', recipient: to, subject: 'temp', message: 'm', send_at: inAnHour() });
    await env.DB.prepare("UPDATE notification_deliveries SET subject = '' WHERE id = ?").bind(d.id).run();
    await deliver('dwc-tasks', [{ body: { kind: 'run', task_id: d.task_id, seq: 0 } }]);
    expect(await getDelivery(token, d.id)).toMatchObject({ status: 'failed', error: expect.stringContaining('an email needs a subject') });
    expect(await providerLog('api.resend.com', to)).toEqual([]);
  });
});
