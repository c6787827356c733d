import { app } from './app';

export { RateLimiter } from '../durable-objects/rate-limiter';
export type { AppType } from './app';

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
