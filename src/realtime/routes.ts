import { createRouter } from '../lib/openapi';

export const realtimeRoutes = createRouter();
