/** Analytics' public module: what other features record as usage events. */
export { trackApiKeyUse } from './track';
