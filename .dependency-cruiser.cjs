/**
 * The architecture's written contract, checked by `npm run deps` (part of `npm test`).
 * docs/architecture.md explains the layers; each rule's comment says what it protects.
 *
 * Layers, bottom up:
 *   src/lib, src/db                 platform: no feature
 *   src/engine                      the run engine: a core that knows no other feature
 *   src/<feature>                   features, reached by others only through src/<feature>/index.ts
 *   src/<feature>/routes.ts …       adapters: HTTP routes, task handlers, event subscribers, cron
 *   durable-objects/*.ts            shells around one feature's object
 *   src/app.ts, src/worker.ts, src/index.ts   the composition roots: the only modules that know every feature
 */
const ROOTS = '^src/(app|worker|index)\\.ts$';
const ADAPTER = '^src/[^/]+/[a-z-]*(routes|task-handler|task-hooks|subscriber|cron)\\.ts$';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles, type-only imports included.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'platform-imports-no-feature',
      severity: 'error',
      comment: 'src/lib and src/db are the bottom layer: they import no feature and no Durable Object shell.',
      from: { path: '^src/(lib|db)/' },
      to: { path: '^(src/(?!lib/|db/)|durable-objects/)' },
    },
    {
      name: 'db-imports-no-lib-feature',
      severity: 'error',
      comment: 'The schema folder describes tables only.',
      from: { path: '^src/db/' },
      to: { path: '^src/(?!db/|lib/)' },
    },
    {
      name: 'engine-is-a-core',
      severity: 'error',
      comment: 'The run engine gets every side effect through ports (src/engine/ports.ts): it imports only itself and the platform.',
      from: { path: '^src/engine/' },
      to: { path: '^(src/(?!engine/|lib/|db/)|durable-objects/)' },
    },
    {
      name: 'tasks-knows-no-feature',
      severity: 'error',
      comment:
        "The task runner owns a registry type; the composition roots list the features' handlers (src/<feature>/task-handler.ts) and install them.",
      from: { path: '^src/tasks/' },
      to: { path: '^(src/(?!tasks/|lib/|db/)|durable-objects/)' },
    },
    {
      name: 'public-module-only',
      severity: 'error',
      comment: 'A feature reaches another feature only through its public module, src/<feature>/index.ts.',
      from: { path: '^src/([^/]+)/', pathNot: ROOTS },
      to: { path: '^src/([^/]+)/', pathNot: ['^src/$1/', '^src/(lib|db)/', '^src/[^/]+/index\\.ts$'] },
    },
    {
      name: 'adapters-only-from-roots',
      severity: 'error',
      comment: 'Routes, task handlers, event subscribers and cron jobs are wired by the composition roots only.',
      from: { path: '^(src|durable-objects)/', pathNot: ROOTS },
      to: { path: ADAPTER },
    },
    {
      name: 'shells-import-their-feature',
      severity: 'error',
      comment:
        'Durable Object shells import their feature; features reach objects through the RPC interface they own (src/<feature>/rpc.ts).',
      from: { path: '^src/', pathNot: ROOTS },
      to: { path: '^durable-objects/' },
    },
    {
      name: 'shells-do-not-import-shells',
      severity: 'error',
      comment: "One object calls another through the callee feature's RPC interface, never its class.",
      from: { path: '^durable-objects/' },
      to: { path: '^durable-objects/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^(src|durable-objects)/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.d.ts', '.js'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
