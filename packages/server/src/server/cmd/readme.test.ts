/**
 * README truth: every fenced block of README.md is run, or says why not. The comment before a
 * block names how it is tested:
 *
 * - `<!-- test: run (…) -->`: shell commands, run against a Vigil started here that scrapes the demo
 *   shop (also started here); the README's ports are replaced by theirs, `npx vigil` by this
 *   checkout's CLI, and curl fails on an HTTP error; a Prometheus-style JSON answer must say success.
 * - `<!-- test: help (…) -->`: a synopsis; each line's command must answer `--help` and name every
 *   `--flag` the line shows. A line without placeholders is run as it is.
 * - `<!-- test: config (…) -->`: a vigil.yml (or part of one) that `vigil check config` accepts.
 * - `<!-- test: promtool (…) -->`: a prometheus.yml fragment that `promtool check config` accepts.
 * - `<!-- test: skip (reason) -->`: not run, with the reason in the parentheses.
 *
 * Blocks with the `text` info string are prose (a file tree) and need no marker.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exited, freePort, peerBinary, spawnVigil, tempDir, VIGIL_BIN, waitFor, type VigilProcess } from '../../testkit/helpers.js';

const REPO = fileURLToPath(new URL('../../../../../', import.meta.url));
const README = path.join(REPO, 'README.md');
const SHOP = path.join(REPO, 'examples/shop/dist/main.js');

/** One fenced block of the README. */
export interface ReadmeBlock {
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly info: string;
  /** The block's text with the fence's indentation removed. */
  readonly text: string;
  readonly mode: string | undefined;
  readonly reason: string;
}

const MODES = ['run', 'help', 'config', 'promtool', 'skip'];

/** The fenced blocks of a Markdown text, each with the `<!-- test: … -->` marker on the line before it. */
export function readmeBlocks(md: string): ReadmeBlock[] {
  const lines = md.split('\n');
  const out: ReadmeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]!); j++) body.push(lines[j]!.startsWith(indent) ? lines[j]!.slice(indent.length) : lines[j]!);
    const marker = /^\s*<!--\s*test:\s*(\w+)\s*(?:\((.*)\))?\s*-->\s*$/.exec(lines[i - 1] ?? '');
    out.push({ line: i + 1, info: open[2]!, text: body.join('\n') + '\n', mode: marker?.[1], reason: marker?.[2]?.trim() ?? '' });
    i = j;
  }
  return out;
}

const blocks = readmeBlocks(fs.readFileSync(README, 'utf8'));
const where = (b: ReadmeBlock): string => `README.md:${b.line}`;
const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** Runs the checkout's CLI. */
function vigil(args: string[], cwd = REPO): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [VIGIL_BIN, ...args], { encoding: 'utf8', cwd, timeout: 30_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('every fenced block of README.md says how it is tested, or why it is not', () => {
  assert.ok(blocks.length >= 8, `found only ${blocks.length} blocks`);
  for (const b of blocks) {
    if (b.info === 'text') continue;
    assert.ok(b.mode !== undefined, `${where(b)}: a \`\`\`${b.info} block without a <!-- test: … --> marker`);
    assert.ok(MODES.includes(b.mode), `${where(b)}: unknown test mode ${b.mode}`);
    if (b.mode === 'skip') assert.ok(b.reason.length >= 10, `${where(b)}: a skipped block must say why`);
  }
});

test('configuration snippets pass vigil check config', () => {
  const { dir, cleanup } = tempDir('vigil-readme-');
  cleanups.push(cleanup);
  const snippets = blocks.filter((b) => b.mode === 'config');
  assert.ok(snippets.length >= 3);
  for (const b of snippets) {
    const file = path.join(dir, `readme-${b.line}.yml`);
    fs.writeFileSync(file, b.text);
    const r = vigil(['check', 'config', file]);
    assert.equal(r.status, 0, `${where(b)}: vigil check config failed:\n${r.out}`);
    assert.match(r.out, /SUCCESS/, where(b));
  }
});

test('prometheus.yml fragments pass promtool check config', () => {
  const { dir, cleanup } = tempDir('vigil-readme-');
  cleanups.push(cleanup);
  const promtool = peerBinary('promtool', 'prometheus');
  for (const b of blocks.filter((x) => x.mode === 'promtool')) {
    const file = path.join(dir, `prometheus-${b.line}.yml`);
    fs.writeFileSync(file, b.text);
    const r = spawnSync(promtool, ['check', 'config', '--syntax-only', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${where(b)}: promtool check config failed:\n${r.stdout}${r.stderr}`);
  }
});

/** A word of a synopsis that stands for something the reader fills in. */
function placeholder(w: string): boolean {
  return /[[\]|…<>]/.test(w) || /^[A-Z][A-Z_]*$/.test(w) || w.startsWith('[');
}

/**
 * Checks one synopsis line (`[npx] vigil CMD [--flag X] FILE…`): with placeholders (or when `asHelp`,
 * for commands merely named in prose, such as `vigil start`), its command must answer `--help` naming
 * every `--flag` shown; otherwise it must run as it is.
 */
function checkSynopsis(line: string, at: string, asHelp = false): void {
  const words = line.replace(/^npx /, '').split(/\s+/);
  assert.equal(words[0], 'vigil', `${at}: ${line}`);
  let cut = words.findIndex(placeholder);
  if (cut < 0 && asHelp) cut = words.length;
  const cmd = cut < 0 ? words.slice(1) : [...words.slice(1, cut).filter((w) => w !== '--help'), '--help'];
  const r = vigil(cmd);
  assert.equal(r.status, 0, `${at}: vigil ${cmd.join(' ')} failed:\n${r.out}`);
  if (cut >= 0)
    for (const flag of line.match(/--[a-z][a-z0-9.-]*/g) ?? []) assert.ok(r.out.includes(flag), `${at}: vigil ${cmd.join(' ')} does not mention ${flag}`);
}

test('each command of a synopsis exists, and its --help names every flag shown', () => {
  const synopses = blocks.filter((b) => b.mode === 'help');
  assert.ok(synopses.length >= 1);
  for (const b of synopses) {
    // A line ending in a backslash goes on in the next, as in a shell.
    for (const raw of b.text.replace(/\\\n\s*/g, ' ').split('\n')) {
      const line = raw.replace(/\s+#.*$/, '').trim();
      if (line !== '') checkSynopsis(line, where(b));
    }
  }
});

test('vigil commands quoted in the prose exist, with the flags they show', () => {
  const md = fs.readFileSync(README, 'utf8');
  const spans = [...md.matchAll(/`((?:npx )?vigil [a-z][^`]*)`/g)];
  assert.ok(spans.length >= 3);
  for (const m of spans) {
    const lineNo = md.slice(0, m.index).split('\n').length;
    checkSynopsis(m[1]!.replace(/\s+/g, ' ').trim(), `README.md:${lineNo}`, true);
  }
});

test('shell commands run against a started Vigil and the demo shop', async () => {
  const runs = blocks.filter((b) => b.mode === 'run');
  assert.ok(runs.length >= 1);
  const { dir, cleanup } = tempDir('vigil-readme-');
  cleanups.push(cleanup);
  const shopPort = await freePort();
  const shop: ChildProcess = spawn(process.execPath, [SHOP, '--port', String(shopPort)], { stdio: 'ignore' });
  cleanups.push(async () => {
    shop.kill('SIGTERM');
    await exited(shop);
  });
  const cfg = path.join(dir, 'vigil.yml');
  fs.writeFileSync(cfg, `scrape_configs:\n  - job_name: shop\n    scrape_interval: 1s\n    static_configs:\n      - targets: ['127.0.0.1:${shopPort}']\n`);
  const port = await freePort();
  const v: VigilProcess = await spawnVigil(path.join(dir, 'data'), port, ['--config', cfg]);
  cleanups.push(async () => {
    v.proc.kill('SIGTERM');
    await exited(v.proc);
  });
  // The README's query shows the shop's metrics: wait for the first scrape.
  await waitFor('the shop to be scraped', async () => {
    const r = (await (await fetch(`${v.url}/api/v1/query?query=up%7Bjob%3D%22shop%22%7D`)).json()) as { data: { result: Array<{ value: [number, string] }> } };
    return r.data.result[0]?.value[1] === '1' ? true : undefined;
  });
  for (const b of runs) {
    // A trailing backslash continues a command on the next line.
    for (const command of b.text.replace(/\\\n/g, ' ').split('\n')) {
      if (command.trim() === '' || command.trim().startsWith('#')) continue;
      const local = command
        .replaceAll('127.0.0.1:9466', `127.0.0.1:${port}`)
        .replaceAll('127.0.0.1:8765', `127.0.0.1:${shopPort}`)
        .replace(/\bnpx vigil\b/g, `${JSON.stringify(process.execPath)} ${JSON.stringify(VIGIL_BIN)}`)
        .replace(/\bcurl\b/g, 'curl -sS --fail-with-body --max-time 20');
      const r = spawnSync('bash', ['-c', local], { encoding: 'utf8', cwd: REPO, timeout: 30_000 });
      assert.equal(r.status, 0, `${where(b)}: \`${command}\` failed:\n${r.stdout}${r.stderr}`);
      let parsed: unknown;
      try {
        parsed = JSON.parse(r.stdout);
      } catch {
        parsed = undefined;
      }
      if (parsed !== null && typeof parsed === 'object' && 'status' in parsed)
        assert.equal((parsed as { status: unknown }).status, 'success', `${where(b)}: \`${command}\` answered ${r.stdout}`);
    }
  }
});
