/** Notifications' public module: sending to users on their channels, and mail the service itself sends. */
export { type SendInput, sendNotifications, sendNotificationsOnce } from './send';
export { sendSystemEmail, systemMail } from './system-mail';
