import { describe, expect, it } from 'vitest';
import { slackPayload } from '../../src/notifications/channels/chat';
import { placeholders, renderTemplate, templateIssues } from '../../src/notifications/templates';
import { encryptPushPayload, generateVapidKeys, MAX_PUSH_PLAINTEXT, vapidKeysMatch } from '../../src/notifications/webpush';

describe('template placeholders', () => {
  it('finds {{names}} with or without inner spaces, and refuses malformed ones', () => {
    expect(placeholders('Hi {{name}}, {{ count }} new', 'body')).toEqual({ names: ['name', 'count'], issues: [] });
    expect(placeholders('{{1st}}', 'body').issues[0]!.message).toMatch(/not a variable name/);
    expect(placeholders('Hi {{name', 'body').issues[0]!.message).toMatch(/unbalanced/);
    expect(placeholders('Hi name}}', 'subject').issues).toEqual([{ path: ['subject'], message: 'unbalanced {{ or }}' }]);
    expect(placeholders('{{a}} and {{ b.c }}', 'body').issues).toHaveLength(1);
  });

  it('reports undeclared variables, duplicates and required-with-default', () => {
    const issues = templateIssues('Hello {{name}}', '{{name}} has {{count}} items from {{shop}}', [
      { name: 'name', required: true },
      { name: 'count', required: true, default: '0' },
      { name: 'name', required: false },
    ]);
    expect(issues.map((i) => i.message)).toEqual([
      'count has a default, so it cannot be required',
      'name is declared twice',
      '{{shop}} is not declared in variables',
    ]);
    expect(
      templateIssues('{{a}}', '{{b}}', [
        { name: 'a', required: true },
        { name: 'b', required: false },
      ]),
    ).toEqual([]);
  });

  it('renders with values and defaults; unknown and missing required values are issues', () => {
    const t = {
      subject: 'Order {{id}}',
      body: '{{name}}: {{ status }}{{note}}',
      variables: [
        { name: 'id', required: true },
        { name: 'name', required: true },
        { name: 'status', required: false, default: 'shipped' },
        { name: 'note', required: false },
      ],
    };
    expect(renderTemplate(t, { id: '7', name: 'Ana' })).toEqual({ subject: 'Order 7', body: 'Ana: shipped' });
    expect(renderTemplate(t, { id: '7', name: 'Ana', status: 'late', note: '!' })).toEqual({ subject: 'Order 7', body: 'Ana: late!' });
    const bad = renderTemplate(t, { id: '7', colour: 'red' });
    expect('issues' in bad && bad.issues.map((i) => i.message)).toEqual(['the template has no variable colour', 'name is required']);
    // A value is inserted as text, never re-scanned for placeholders.
    expect(renderTemplate(t, { id: '{{name}}', name: 'x' })).toEqual({ subject: 'Order {{name}}', body: 'x: shipped' });
  });
});

describe('channel payloads', () => {
  it("Slack escapes mrkdwn's three control characters and caps the header at 150", () => {
    const p = slackPayload({ deliveryId: 1, subject: 'x'.repeat(200), body: 'a < b & c > d', priority: 'normal', data: {} });
    expect(p.blocks[0]!.text!.text).toHaveLength(150);
    expect(p.blocks[1]!.text!.text).toBe('a &lt; b &amp; c &gt; d');
  });
});

describe('Web Push primitives', () => {
  it('generates VAPID key pairs that match, and detects a mismatched pair', async () => {
    const a = await generateVapidKeys();
    const b = await generateVapidKeys();
    expect(await vapidKeysMatch(a)).toBe(true);
    expect(await vapidKeysMatch({ publicKey: a.publicKey, privateKey: b.privateKey })).toBe(false);
    expect(await vapidKeysMatch({ publicKey: 'nonsense', privateKey: a.privateKey })).toBe(false);
  });

  it('encrypts into one aes128gcm record: 86-byte header, ciphertext = plaintext + delimiter + 16-byte tag', async () => {
    const ua = (await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits'])) as CryptoKeyPair;
    const pub = new Uint8Array((await crypto.subtle.exportKey('raw', ua.publicKey)) as ArrayBuffer);
    const b64u = (b: Uint8Array) =>
      btoa(String.fromCharCode(...b))
        .replace(/\+/g, '-')
        .replace(/\//g, '_')
        .replace(/=+$/, '');
    const body = await encryptPushPayload(new TextEncoder().encode('hello'), b64u(pub), b64u(new Uint8Array(16).fill(7)));
    expect(body.byteLength).toBe(86 + 5 + 1 + 16);
    expect(new DataView(body.buffer).getUint32(16)).toBe(4096);
    expect(body[20]).toBe(65);
    expect(body[21]).toBe(4);
    await expect(encryptPushPayload(new Uint8Array(MAX_PUSH_PLAINTEXT + 1), b64u(pub), b64u(new Uint8Array(16)))).rejects.toThrow(/over/);
  });
});
