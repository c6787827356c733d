/** Error tracking (docs/observability.md): unexpected errors grouped by fingerprint. Routes: routes.ts, wired by src/app.ts. */
export { trackFaults } from './track';
export { recordError } from './store';
