// Builds the CLI (build/cli/dwc.mjs) and the SDK (build/sdk/index.js) from TypeScript with esbuild.
// Run by `npm ci`/`npm install` (the "prepare" script) and by bin/dwc.mjs when the build is missing.
// Dependencies stay external: they are this package's own (commander, yaml, hono).
import path from 'node:path';

// esbuild is a devDependency: an install without them (`npm ci --omit=dev`) still runs "prepare",
// and must not fail for it; bin/dwc.mjs then says how to build.
const esbuild = await import('esbuild').catch(() => null);
if (!esbuild) {
  console.warn('dwc: esbuild is not installed (devDependencies omitted?); the CLI and SDK builds are skipped');
  process.exit(0);
}
const { build } = esbuild;
const root = path.resolve(import.meta.dirname, '..');
const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning' };
await Promise.all([
  build({ ...common, entryPoints: [path.join(root, 'cli/dwc.ts')], outfile: path.join(root, 'build/cli/dwc.mjs') }),
  build({ ...common, platform: 'neutral', entryPoints: [path.join(root, 'sdk/index.ts')], outfile: path.join(root, 'build/sdk/index.js') }),
]);
