import type { NotificationChannel } from '../../db/schema';
import { discordChannel, slackChannel, teamsChannel } from './chat';
import { emailChannel } from './email';
import { inAppChannel } from './in-app';
import { pushChannel } from './push';
import { smsChannel } from './sms';
import type { Channel } from './types';
import { webhookChannel } from './webhook';

export const CHANNELS: Record<NotificationChannel, Channel> = {
  email: emailChannel,
  sms: smsChannel,
  push: pushChannel,
  webhook: webhookChannel,
  slack: slackChannel,
  teams: teamsChannel,
  discord: discordChannel,
  in_app: inAppChannel,
};

export { ChannelError } from './types';
export type { Channel, Message, ResolvedConfig, SendResult } from './types';
