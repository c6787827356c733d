import { z } from '@hono/zod-openapi';
import { type BodyAdvice, callProvider, guardUrl, jsonField } from './http';
import { ChannelError, type Channel, type Message, type Priority, type SendContext } from './types';
import { CONFIG_NAME } from './webhook';

/*
 * Slack, Microsoft Teams and Discord incoming webhooks. The webhook URL is the credential (anyone
 * holding it can post), so it is a sealed secret, checked by the SSRF guard and pinned to the
 * provider's own hosts when saved and again before every send.
 */
const Secrets = z.strictObject({ webhook_url: z.string().min(1).max(2048) });
const NoSettings = z.strictObject({});

function hostCheck(env: Env, raw: string | undefined, hosts: RegExp, path: RegExp, what: string): string | null {
  if (!raw) return 'secrets.webhook_url is needed';
  let url: URL;
  try {
    url = guardUrl(env, raw);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  return url.protocol === 'https:' && hosts.test(url.hostname) && path.test(url.pathname) ? null : `not ${what}`;
}

const webhookUrl = (ctx: SendContext) => {
  const raw = ctx.config!.secrets.webhook_url;
  if (!raw) throw new ChannelError('the configuration has no webhook URL', false);
  return guardUrl(ctx.env, raw);
};

const post = (provider: string, url: URL, payload: unknown, bodyAdvice?: BodyAdvice) =>
  callProvider(
    provider,
    url,
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) },
    bodyAdvice,
  );

const cut = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

// ---- Slack ------------------------------------------------------------------------------------

const SLACK_HOSTS = /^hooks\.slack\.com$/;
/** Slack's mrkdwn treats &, < and > as control characters; the docs ask for these three escapes. */
const slackEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Block Kit: a header (plain_text, ≤150 chars), a mrkdwn section (≤3000), a context line. A text
 * object must hold at least one character, so a blank subject or message leaves its block out.
 * The top-level `text` (the notification and screen-reader fallback) is mrkdwn too: it gets the
 * same escapes as the section, or `<!channel>` in a message would ping the whole channel.
 */
export function slackPayload(m: Message) {
  const subject = m.subject.trim();
  const body = m.body.trim();
  const fallback = [subject, body].filter(Boolean).join(': ');
  if (!fallback) throw new ChannelError('a Slack message needs a subject or a message: Slack refuses empty text', false);
  return {
    text: cut(slackEscape(fallback), 3000),
    blocks: [
      ...(subject ? [{ type: 'header', text: { type: 'plain_text', text: cut(subject, 150), emoji: true } }] : []),
      ...(body ? [{ type: 'section', text: { type: 'mrkdwn', text: cut(slackEscape(body), 3000) } }] : []),
      { type: 'context', elements: [{ type: 'mrkdwn', text: `Priority: *${m.priority}*` }] },
    ],
  };
}

export const slackChannel: Channel = {
  name: 'slack',
  needsConfig: true,
  recipientIsConfig: true,
  settings: NoSettings,
  secrets: Secrets,
  checkConfig: (env, _s, secrets) =>
    hostCheck(
      env,
      secrets.webhook_url,
      SLACK_HOSTS,
      /^\/services\/.+/,
      'a Slack incoming webhook URL (https://hooks.slack.com/services/…)',
    ),
  checkRecipient: (r) => (CONFIG_NAME.test(r) ? null : 'the name of one of your Slack configurations'),
  checkMessage: (m) =>
    m.subject.trim() || m.body.trim()
      ? null
      : { field: 'message', message: 'a Slack message needs a subject or a message that is not blank' },
  async send(ctx, m) {
    const res = await post('Slack', webhookUrl(ctx), slackPayload(m));
    return { status: res.status, providerMessageId: null };
  },
};

// ---- Microsoft Teams --------------------------------------------------------------------------

// Workflows (Power Automate) webhooks, the successor of the Office 365 connectors.
const TEAMS_HOSTS = /^([a-z0-9-]+\.)*(logic\.azure\.com|environment\.api\.powerplatform\.com)$/;
const TEAMS_WORKFLOWS_HINT =
  'create a Workflows webhook in Teams instead (the channel\'s "Workflows" app, template "Send webhook alerts to a channel") and save its URL (https://….logic.azure.com/workflows/… or https://….environment.api.powerplatform.com/…)';

/**
 * Office 365 connector URLs: `*.webhook.office.com/webhookb2/…` and the older
 * `outlook.office.com/webhook/…`. Microsoft retired these connectors in favour of Workflows, so
 * such a URL is refused with the way forward rather than saved to fail at send time.
 */
export function isOffice365Connector(url: URL): boolean {
  const host = url.hostname.toLowerCase();
  return (
    (/(^|\.)webhook\.office\.com$/.test(host) && url.pathname.startsWith('/webhookb2/')) ||
    (host === 'outlook.office.com' && url.pathname.startsWith('/webhook/'))
  );
}

function teamsCheck(env: Env, raw: string | undefined): string | null {
  if (raw && URL.canParse(raw) && isOffice365Connector(new URL(raw)))
    return `Office 365 connector webhooks (…webhook.office.com/webhookb2/…, outlook.office.com/webhook/…) are retired by Microsoft; ${TEAMS_WORKFLOWS_HINT}`;
  return hostCheck(env, raw, TEAMS_HOSTS, /^\/.+/, `a Teams Workflows webhook URL; ${TEAMS_WORKFLOWS_HINT}`);
}
const TEAMS_COLOR: Record<Priority, string> = { low: 'Default', normal: 'Default', high: 'Warning', urgent: 'Attention' };

/** A message with one Adaptive Card attachment, the shape both Teams webhook kinds accept. */
export function teamsPayload(m: Message) {
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [
            { type: 'TextBlock', text: m.subject, weight: 'Bolder', size: 'Medium', wrap: true, color: TEAMS_COLOR[m.priority] },
            { type: 'TextBlock', text: m.body, wrap: true },
            { type: 'FactSet', facts: [{ title: 'Priority', value: m.priority }] },
          ],
        },
      },
    ],
  };
}

export const teamsChannel: Channel = {
  name: 'teams',
  needsConfig: true,
  recipientIsConfig: true,
  settings: NoSettings,
  secrets: Secrets,
  checkConfig: (env, _s, secrets) => teamsCheck(env, secrets.webhook_url),
  checkRecipient: (r) => (CONFIG_NAME.test(r) ? null : 'the name of one of your Teams configurations'),
  async send(ctx, m) {
    // A connector URL saved before they were refused: Microsoft no longer delivers through it.
    const problem = teamsCheck(ctx.env, ctx.config!.secrets.webhook_url);
    if (problem) throw new ChannelError(problem, false);
    const res = await post('Microsoft Teams', webhookUrl(ctx), teamsPayload(m));
    return { status: res.status, providerMessageId: null };
  },
};

// ---- Discord ----------------------------------------------------------------------------------

const DISCORD_HOSTS = /^((canary|ptb)\.)?discord(app)?\.com$/;
const DISCORD_COLOR: Record<Priority, number> = { low: 0x95a5a6, normal: 0x3498db, high: 0xe67e22, urgent: 0xe74c3c };

/** One embed (title ≤256, description ≤4096); mentions disabled so a message cannot ping @everyone. */
export function discordPayload(m: Message, now: number) {
  return {
    embeds: [
      {
        title: cut(m.subject, 256),
        description: cut(m.body, 4096),
        color: DISCORD_COLOR[m.priority],
        timestamp: new Date(now).toISOString(),
        footer: { text: `Priority: ${m.priority}` },
      },
    ],
    allowed_mentions: { parse: [] },
  };
}

const DiscordRateLimit = z.object({ retry_after: z.number().nonnegative() });

/** Discord's 429 body: `{"message", "retry_after": <seconds, fractional>, "global"}`. */
export function discordRetryAfter(text: string): number | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = DiscordRateLimit.safeParse(json);
  return parsed.success ? Math.ceil(parsed.data.retry_after * 1000) : undefined;
}

export const discordChannel: Channel = {
  name: 'discord',
  needsConfig: true,
  recipientIsConfig: true,
  settings: NoSettings,
  secrets: Secrets,
  checkConfig: (env, _s, secrets) =>
    hostCheck(
      env,
      secrets.webhook_url,
      DISCORD_HOSTS,
      /^\/api\/webhooks\/\d+\/[\w-]+$/,
      'a Discord webhook URL (https://discord.com/api/webhooks/<id>/<token>)',
    ),
  checkRecipient: (r) => (CONFIG_NAME.test(r) ? null : 'the name of one of your Discord configurations'),
  async send(ctx, m) {
    // ?wait=true makes Discord answer 200 with the created message (and its id) instead of 204.
    const url = webhookUrl(ctx);
    url.searchParams.set('wait', 'true');
    const res = await post('Discord', url, discordPayload(m, ctx.now), discordRetryAfter);
    return { status: res.status, providerMessageId: jsonField(res.text, 'id') };
  },
};
