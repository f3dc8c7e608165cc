// Bundles the browser client (src/web, TypeScript + mediasoup-client) with esbuild into
// dist/web, which the gateway serves at /.
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/web`;
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [`${root}src/web/main.ts`],
  bundle: true,
  format: 'esm',
  target: ['chrome111', 'firefox115', 'safari16'],
  outfile: `${out}/app.js`,
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
});
for (const file of ['index.html', 'app.css']) copyFileSync(`${root}src/web/${file}`, `${out}/${file}`);
console.error(`[build-web] wrote ${out}`);
