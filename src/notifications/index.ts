/** Notifications' public module: sending to users on their channels, and mail the service itself sends. */
export { sendNotifications } from './send';
export { sendSystemEmail, systemMail } from './system-mail';
