import { ANY_ROLE, WRITERS } from '../lib/access';

/** Access and OpenAPI tag shared by the recommendation routes (routes.ts, model-routes.ts). */
export const read = { roles: ANY_ROLE, scope: 'recommendations:read' } as const;
export const write = { roles: WRITERS, scope: 'recommendations:write' } as const;
export const tags = ['recommendations'];
