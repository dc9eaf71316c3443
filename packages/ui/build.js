// Builds the UI into dist/: one hashed JS bundle, lazily loaded chunks (the TraceQL grammar, which
// only the Traces page needs) and one hashed CSS file (esbuild), precompressed
// .gz twins the server can send as they are, and an index.html that names them. The browser tests
// are copied to dist/test/ (and the pure modules bundled for them) so the root runner finds them.
// Fails when the first load or the lazy chunks exceed their size budgets, so growth is a decision
// rather than an accident.
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, 'dist');
/** Budget for what the first page load fetches (the entry JS, the chunks it imports, the CSS), minified and gzipped. */
const BUDGET_GZIP_BYTES = 100 * 1024;
/** Budget for the chunks loaded later (`import()`), together. */
const LAZY_BUDGET_GZIP_BYTES = 40 * 1024;

fs.rmSync(dist, { recursive: true, force: true });
fs.mkdirSync(path.join(dist, 'test'), { recursive: true });

const result = await esbuild.build({
  // Metafile paths are relative to this directory, whatever the caller's working directory.
  absWorkingDir: here,
  entryPoints: [path.join(here, 'src/main.tsx')],
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  format: 'esm',
  splitting: true,
  chunkNames: 'chunk-[hash]',
  target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: path.join(dist, 'assets'),
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  loader: { '.svg': 'dataurl' },
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

let js = '';
let css = '';
const outputs = result.metafile.outputs;
// What the first load fetches: the entry, the chunks it imports statically (transitively), the CSS.
const eager = new Set();
const visit = (file) => {
  if (eager.has(file)) return;
  eager.add(file);
  for (const i of outputs[file].imports) if (i.kind === 'import-statement') visit(i.path);
};
// esbuild names a dynamically imported module as an entry point too: only main.tsx's output is the page's.
const isMain = (out) => out.entryPoint === 'src/main.tsx';
for (const [file, out] of Object.entries(outputs)) if (isMain(out)) visit(file);
let total = 0;
let lazy = 0;
const rows = [];
for (const [file, out] of Object.entries(outputs)) {
  if (file.endsWith('.map')) continue;
  const abs = path.join(here, file);
  const raw = fs.readFileSync(abs);
  const gz = zlib.gzipSync(raw, { level: 9 });
  fs.writeFileSync(abs + '.gz', gz);
  const first = eager.has(file) || file.endsWith('.css');
  if (first) total += gz.length;
  else lazy += gz.length;
  rows.push(`${path.relative(dist, abs)}  ${(out.bytes / 1024).toFixed(1)} KB min, ${(gz.length / 1024).toFixed(1)} KB gzip${first ? '' : ' (lazy)'}`);
  if (file.endsWith('.js') && isMain(out)) js = path.relative(dist, abs);
  if (file.endsWith('.css')) css = path.relative(dist, abs);
}

// The saved theme is applied before first paint by a classic (blocking) script. It is a file, not
// inline, because the server's Content-Security-Policy allows no inline script.
fs.writeFileSync(path.join(dist, 'theme.js'), "try{var t=localStorage.getItem('vigil.theme');if(t)document.documentElement.dataset.theme=t}catch(e){}\n");

// Relative asset URLs would break under deep SPA routes, so index.html names them from /ui/.
const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vigil</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Ccircle cx='8' cy='8' r='6' fill='%232f81f7'/%3E%3C/svg%3E">
<script src="/ui/theme.js"></script>
${css ? `<link rel="stylesheet" href="/ui/${css}">` : ''}
<script type="module" src="/ui/${js}"></script>
</head>
<body>
<div id="app"><noscript>Vigil's UI needs JavaScript.</noscript></div>
</body>
</html>
`;
// The CSP refuses inline script; fail the build rather than ship a page that would not run.
if (/<script(?![^>]*\bsrc=)[^>]*>/i.test(html) || /\son[a-z]+=/i.test(html)) {
  console.error('index.html has an inline script or event handler, which the Content-Security-Policy blocks');
  process.exit(1);
}
fs.writeFileSync(path.join(dist, 'index.html'), html);

// The pure modules, bundled for Node, so unit tests can import them without a TypeScript step.
await esbuild.build({
  entryPoints: [path.join(here, 'src/lib/index.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  outfile: path.join(dist, 'test', 'lib.js'),
  logLevel: 'warning',
});
// The browser benchmark beside them (npm run bench runs dist/bench/load.js; it imports ../test/browser.js).
for (const dir of ['test', 'bench']) {
  fs.mkdirSync(path.join(dist, dir), { recursive: true });
  for (const f of fs.readdirSync(path.join(here, dir))) {
    if (f.endsWith('.js')) fs.copyFileSync(path.join(here, dir, f), path.join(dist, dir, f));
  }
}

for (const r of rows) console.log(`  ${r}`);
console.log(
  `UI bundle: ${(total / 1024).toFixed(1)} KB min+gzip on first load (budget ${BUDGET_GZIP_BYTES / 1024} KB), ${(lazy / 1024).toFixed(1)} KB loaded later (budget ${LAZY_BUDGET_GZIP_BYTES / 1024} KB)`,
);
fs.writeFileSync(
  path.join(dist, 'bundle-size.json'),
  JSON.stringify({ gzipBytes: total, budgetBytes: BUDGET_GZIP_BYTES, lazyGzipBytes: lazy, lazyBudgetBytes: LAZY_BUDGET_GZIP_BYTES }) + '\n',
);
if (total > BUDGET_GZIP_BYTES) {
  console.error(`UI bundle is over budget by ${((total - BUDGET_GZIP_BYTES) / 1024).toFixed(1)} KB`);
  process.exit(1);
}
if (lazy > LAZY_BUDGET_GZIP_BYTES) {
  console.error(`UI lazy chunks are over budget by ${((lazy - LAZY_BUDGET_GZIP_BYTES) / 1024).toFixed(1)} KB`);
  process.exit(1);
}
