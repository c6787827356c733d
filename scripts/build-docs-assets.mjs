/*
 * Copies the API documentation pages' scripts and stylesheet from npm packages pinned to exact
 * versions in package.json (swagger-ui-dist, redoc) into dist/assets/docs, the Workers Static
 * Assets directory, where src/docs/routes.ts serves them from this origin: no CDN, nothing that
 * changes behind a floating version, and the pages work offline. Run by src/console/build.mjs,
 * which wrangler's [build] step, `npm test` and the test configuration already run; like it, a
 * file is only written when its content changed, and then by renaming a complete temporary file.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const OUT = path.join(import.meta.dirname, '../dist/assets/docs');
const from = (pkg, file) => path.join(path.dirname(require.resolve(`${pkg}/package.json`)), file);

// Swagger UI's initializer, as a file so that the page's CSP allows scripts from this origin only.
// persistAuthorization stays off: a token typed into "Authorize" lives as long as the tab, never
// in localStorage, where any script on the origin could read it later.
const SWAGGER_INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', persistAuthorization: false });\n`;

const files = [
  ['swagger-ui-bundle.js', await readFile(from('swagger-ui-dist', 'swagger-ui-bundle.js'))],
  ['swagger-ui.css', await readFile(from('swagger-ui-dist', 'swagger-ui.css'))],
  ['swagger-init.js', Buffer.from(SWAGGER_INIT)],
  ['redoc.standalone.js', await readFile(from('redoc', 'bundles/redoc.standalone.js'))],
];

await mkdir(OUT, { recursive: true });
let written = 0;
for (const [name, contents] of files) {
  const target = path.join(OUT, name);
  const old = await readFile(target).catch(() => null);
  if (old?.equals(contents)) continue;
  const temporary = `${target}.${process.pid}.tmp`;
  await writeFile(temporary, contents);
  await rename(temporary, target);
  written++;
}
console.log(`docs: ${files.length} files in ${path.relative(process.cwd(), OUT) || '.'} (${written} changed)`);
