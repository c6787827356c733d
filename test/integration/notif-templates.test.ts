import { beforeAll, describe, expect, it } from 'vitest';
import { api, expectError, registerAndLogin, unique } from '../helpers';
import { providerLog, saveChannel, waitForDelivery } from './notif-helpers';

/* Templates through the API: validated when saved, filled per recipient when sent. */
let token: string;
beforeAll(async () => {
  token = (await registerAndLogin(unique('ntpl'))).token;
  await saveChannel(token, 'email', 'default', {
    settings: { provider: 'resend', from: 'noreply@acme.example' },
    secrets: { api_key: 're_tpl_0123456789' },
  });
});

const template = {
  name: 'order-shipped',
  channel: 'email',
  subject: 'Order {{order}} shipped',
  body: 'Hi {{name}}, your order {{order}} is on its way ({{carrier}}).',
  variables: [{ name: 'order' }, { name: 'name' }, { name: 'carrier', required: false, default: 'post' }],
};

describe('notification templates', () => {
  it('refuses templates with undeclared or malformed variables when saved', async () => {
    const undeclared = await api('POST', '/api/v3/notifications/templates', { token, body: { ...template, body: 'Hi {{nmae}}' } });
    expectError(undeclared, 400, 'validation_error');
    expect(undeclared.json.error.details).toEqual([{ path: ['body'], code: 'custom', message: '{{nmae}} is not declared in variables' }]);
    expectError(
      await api('POST', '/api/v3/notifications/templates', { token, body: { ...template, subject: 'Order {{order' } }),
      400,
      'validation_error',
    );
    expectError(await api('POST', '/api/v3/notifications/templates', { token, body: { ...template, extra: 1 } }), 400, 'validation_error');
    expect((await api('GET', '/api/v3/notifications/templates', { token })).json.items).toEqual([]);
  });

  it('stores, lists, replaces (validated again) and refuses a duplicate name', async () => {
    const created = await api('POST', '/api/v3/notifications/templates', { token, body: template });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect(created.json.variables).toEqual([
      { name: 'order', required: true },
      { name: 'name', required: true },
      { name: 'carrier', required: false, default: 'post' },
    ]);
    expectError(await api('POST', '/api/v3/notifications/templates', { token, body: template }), 409, 'conflict');
    expectError(
      await api('PUT', `/api/v3/notifications/templates/by-id/${created.json.id}`, { token, body: { ...template, body: '{{oops}}' } }),
      400,
      'validation_error',
    );
    expect((await api('GET', `/api/v3/notifications/templates/by-id/${created.json.id}`, { token })).json.body).toBe(template.body);
    const other = await api('POST', '/api/v3/notifications/templates', { token, body: { ...template, name: 'temp' } });
    expect((await api('DELETE', `/api/v3/notifications/templates/by-id/${other.json.id}`, { token })).status).toBe(204);
    expectError(await api('GET', `/api/v3/notifications/templates/by-id/${other.json.id}`, { token }), 404, 'not_found');
  });

  it('fills a template per recipient; missing required or unknown variables refuse the send', async () => {
    const id = (await api('GET', '/api/v3/notifications/templates', { token })).json.items[0].id;
    const missing = await api('POST', '/api/v3/notifications/send', {
      token,
      body: { channel: 'email', recipient: 'a@example.com', template_id: id, variables: { order: '1' } },
    });
    expectError(missing, 400, 'validation_error');
    expect(missing.json.error.details).toEqual([{ path: ['variables', 'name'], code: 'custom', message: 'name is required' }]);
    const unknown = await api('POST', '/api/v3/notifications/send', {
      token,
      body: { channel: 'email', recipient: 'a@example.com', template_id: id, variables: { order: '1', name: 'A', colour: 'red' } },
    });
    expect(unknown.json.error.details[0].message).toBe('the template has no variable colour');
    expectError(
      await api('POST', '/api/v3/notifications/send', {
        token,
        body: { channel: 'sms', recipient: '+14155550100', template_id: id, variables: { order: '1', name: 'A' } },
      }),
      400,
      'validation_error',
    );

    const a = `${unique('ta')}@example.com`;
    const b = `${unique('tb')}@example.com`;
    const res = await api('POST', '/api/v3/notifications/send/bulk', {
      token,
      body: {
        channel: 'email',
        template_id: id,
        variables: { order: 'A-1' },
        recipients: [
          { recipient: a, variables: { name: 'Ana' } },
          { recipient: b, variables: { name: 'Ben', carrier: 'courier' } },
        ],
      },
    });
    expect(res.status, JSON.stringify(res.json)).toBe(202);
    expect(res.json.deliveries.map((d: { subject: string; message: string }) => [d.subject, d.message])).toEqual([
      ['Order A-1 shipped', 'Hi Ana, your order A-1 is on its way (post).'],
      ['Order A-1 shipped', 'Hi Ben, your order A-1 is on its way (courier).'],
    ]);
    for (const d of res.json.deliveries) await waitForDelivery(token, d.id);
    const [req] = await providerLog('api.resend.com', b);
    expect(JSON.parse(req!.body)).toMatchObject({ subject: 'Order A-1 shipped', text: 'Hi Ben, your order A-1 is on its way (courier).' });
    const badRecipient = await api('POST', '/api/v3/notifications/send/bulk', {
      token,
      body: { channel: 'email', template_id: id, variables: { order: '1' }, recipients: [{ recipient: a, variables: { name: 'A' } }, b] },
    });
    expect(badRecipient.json.error.details).toEqual([
      { path: ['recipients', 1, 'variables', 'name'], code: 'custom', message: 'name is required' },
    ]);
  });
});
