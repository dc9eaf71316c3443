import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../../testkit/helpers.js';
import { glob } from '../../core/util/glob.js';
import {
  expandAlertTemplate,
  MAX_TEMPLATE_DEPTH,
  parseTemplates,
  TemplateExecError,
  TemplateParseError,
  TemplateSet,
  withGoType,
  type GoType,
  type TValue,
} from './index.js';

function set(...files: Array<[string, string]>): TemplateSet {
  const s = new TemplateSet();
  for (const [name, text] of files) s.add(name, text);
  return s;
}

function parseError(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof TemplateParseError, String(err));
    return err.message;
  }
  assert.fail('expected a parse error');
}

function execError(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof TemplateExecError, String(err));
    return err.message;
  }
  assert.fail('expected an execution error');
}

test('define and template: a source parses into named trees that call each other with their own dot', () => {
  const s = set([
    'a.tmpl',
    '{{ define "greet" }}hello {{ . }}{{ end }}{{ define "page" }}[{{ template "greet" .Name }}|{{ template "greet" }}|{{ $ := 1 }}]{{ end }}top {{ .Name }}',
  ]);
  assert.deepEqual(s.names(), ['a.tmpl', 'greet', 'page']);
  assert.equal(s.execute('page', { Name: 'ann' }), '[hello ann|hello <no value>|]');
  assert.equal(s.execute('a.tmpl', { Name: 'ann' }), 'top ann');
  // Variables do not leak into a called template: it sees only its own `$`.
  assert.equal(set(['v', '{{ define "t" }}{{ $ }}{{ end }}{{ $x := "outer" }}{{ template "t" "inner" }}']).execute('v', null), 'inner');
  // Trim markers and comments around definitions.
  assert.equal(set(['w', '{{- /* c */ -}}\n{{- define "x" -}}\n  X  \n{{- end -}}\n']).execute('x', null), 'X');
});

test('block defines a template and calls it; a later source overrides it', () => {
  const s = set(['base.tmpl', 'head {{ block "body" . }}default {{ .N }}{{ end }} tail']);
  assert.equal(s.execute('base.tmpl', { N: 1n }), 'head default 1 tail');
  s.add('override.tmpl', '{{ define "body" }}custom {{ .N }}{{ end }}');
  assert.equal(s.execute('base.tmpl', { N: 2n }), 'head custom 2 tail');
  assert.equal(s.executeText('{{ block "body" . }}ignored{{ end }}', { N: 3n }), 'ignored', "an inline block replaces the set's definition for that text only");
  assert.equal(s.execute('body', { N: 4n }), 'custom 4');
});

test('later sources override earlier definitions, but an empty definition never replaces a defined one', () => {
  const s = set(['1.tmpl', '{{ define "t" }}one{{ end }}{{ define "u" }}u1{{ end }}'], ['2.tmpl', '{{ define "t" }}two{{ end }}{{ define "u" }}  {{ end }}']);
  assert.equal(s.execute('t', null), 'two');
  assert.equal(s.execute('u', null), 'u1');
  // A clone takes further sources without touching the original.
  const c = s.clone();
  c.add('3.tmpl', '{{ define "t" }}three{{ end }}');
  assert.deepEqual([s.execute('t', null), c.execute('t', null)], ['two', 'three']);
  // Inline texts may define templates for themselves.
  assert.equal(s.executeText('{{ define "t" }}mine{{ end }}{{ template "t" }}', null), 'mine');
  assert.equal(s.execute('t', null), 'two');
});

test('parse errors name the source and line', () => {
  assert.equal(
    parseError(() => set(['foo.tmpl', 'a\n{{ define "x" }}{{ .A }'])),
    'template: foo.tmpl:2: unexpected "}" in command',
  );
  assert.equal(
    parseError(() => set(['foo.tmpl', 'a\n\n{{ define "x" }}one{{ end }}{{ define "x" }}two{{ end }}'])),
    'template: foo.tmpl:3: template: multiple definition of template "x"',
  );
  assert.equal(
    parseError(() => set(['foo.tmpl', '{{ if 1 }}{{ define "x" }}{{ end }}{{ end }}'])),
    'template: foo.tmpl:1: unexpected <define> in command',
  );
  assert.equal(
    parseError(() => set(['foo.tmpl', '{{ template x }}'])),
    'template: foo.tmpl:1: unexpected "x" in template clause',
  );
  assert.equal(
    parseError(() => set(['foo.tmpl', '\n{{ define "x" }}never ends'])),
    'template: foo.tmpl:2: unexpected EOF',
  );
  assert.equal(
    parseError(() => set(['foo.tmpl', '{{ block "b" }}x{{ end }}'])),
    'template: foo.tmpl:1: missing value for block clause',
  );
  assert.equal(
    parseError(() => set(['foo.tmpl', '{{ define "x" }}a{{ else }}b{{ end }}'])),
    'template: foo.tmpl:1: unexpected {{else}} in define clause',
  );
  // A failed source adds nothing.
  const s = set(['ok.tmpl', '{{ define "x" }}ok{{ end }}']);
  assert.throws(() => s.add('bad.tmpl', '{{ define "x" }}bad{{ end }}{{ .'));
  assert.equal(s.execute('x', null), 'ok');
  // A define's variables start afresh.
  assert.match(
    parseError(() => set(['v.tmpl', '{{ $x := 1 }}{{ define "d" }}{{ $x }}{{ end }}'])),
    /undefined variable "\$x"/,
  );
});

test('execution errors name the file, line and column of the failing node and the executing template', () => {
  const s = set(['foo.tmpl', 'line one\n{{ define "outer" }}\n  {{ template "inner" . }}{{ end }}\n{{ define "inner" }}{{ template "x" . }}{{ end }}']);
  assert.equal(
    execError(() => s.execute('outer', null)),
    'template: foo.tmpl:4:32: executing "inner" at <{{template "x" .}}>: template "x" not defined',
  );
  const t = set(['bar.tmpl', '{{ define "m" }}\n{{ .Missing.Field }}{{ end }}']);
  assert.equal(
    execError(() => t.execute('m', { Missing: 'str' })),
    'template: bar.tmpl:2:3: executing "m" at <.Missing.Field>: can\'t evaluate field Field in type string',
  );
  assert.match(
    execError(() => set(['r', '{{ define "loop" }}{{ template "loop" . }}{{ end }}']).execute('loop', null)),
    new RegExp(`exceeded maximum template depth \\(${MAX_TEMPLATE_DEPTH}\\)`),
  );
  assert.match(
    execError(() => t.execute('nope', null)),
    /no template "nope"/,
  );
  assert.deepEqual(set(['a.tmpl', '{{ define "a" }}\n{{ template "b" }}{{ template "ok" }}{{ end }}{{ define "ok" }}{{ end }}']).missing(), [
    { parseName: 'a.tmpl', line: 2, name: 'b' },
  ]);
});

test('methods of named Go types: field chains, arguments, pipelines and errors', () => {
  const T: GoType = {
    name: 'main.T',
    string: () => 'T!',
    methods: new Map([
      ['Upper', { minArgs: 0, maxArgs: 0, call: (self) => String((self as { S: string }).S).toUpperCase() }],
      ['Join', { minArgs: 1, maxArgs: Infinity, call: (self, args) => [String((self as { S: string }).S), ...args.map(String)].join('-') }],
      ['Self', { minArgs: 0, maxArgs: 0, call: (self) => self }],
      [
        'Fail',
        {
          minArgs: 0,
          maxArgs: 0,
          call: () => {
            throw new Error('boom');
          },
        },
      ],
    ]),
  };
  const v = withGoType({ S: 'ab' }, T);
  const s = new TemplateSet();
  const x = (text: string, data: TValue = { V: v }): string => s.executeText(text, data);
  assert.equal(
    x('{{ .V.Upper }} {{ .V.Self.Self.S }} {{ .V.Join "c" "d" }} {{ "z" | .V.Join "y" }} {{ .V }} {{ printf "%v|%s" .V .V }} {{ $v := .V }}{{ $v.Join "q" }}'),
    'AB ab ab-c-d ab-y-z T! T!|T! ab-q',
  );
  assert.equal(x('{{ with .V }}{{ .Upper }}{{ end }} {{ (.V.Self).Upper }}'), 'AB AB');
  assert.match(
    execError(() => x('{{ .V.Upper 1 }}')),
    /wrong number of args for Upper: want 0 got 1/,
  );
  assert.match(
    execError(() => x('{{ .V.Fail }}')),
    /error calling Fail: boom/,
  );
  assert.match(
    execError(() => x('{{ .V.S 1 }}')),
    /S has arguments but cannot be invoked as function/,
  );
  assert.match(
    execError(() => x('{{ .M.k 1 }}', { M: new Map([['k', 'v']]) })),
    /k is not a method but has arguments/,
  );
  assert.match(
    execError(() => x('{{ .V.Nope }}')),
    /can't evaluate field Nope in type main.T/,
  );
});

test('HTML mode escapes action output but not literal text or what safe values print', () => {
  const s = set(['h', '{{ define "row" }}<td>{{ . }}</td>{{ end }}']);
  const safe = (v: TValue): boolean => v === 'TRUSTED<i>';
  assert.equal(
    s.executeText(
      '<p title="{{ .A }}">{{ .A }}{{ template "row" .A }}{{ .B }}</p>',
      { A: `<b>"it's" & 1+1</b>`, B: 'TRUSTED<i>' },
      { html: true, isSafe: safe },
    ),
    '<p title="&lt;b&gt;&#34;it&#39;s&#34; &amp; 1&#43;1&lt;/b&gt;">&lt;b&gt;&#34;it&#39;s&#34; &amp; 1&#43;1&lt;/b&gt;<td>&lt;b&gt;&#34;it&#39;s&#34; &amp; 1&#43;1&lt;/b&gt;</td>TRUSTED<i></p>',
  );
  assert.equal(s.executeText('{{ .A }}', { A: '<b>' }), '<b>');
});

test('Prometheus alert templates may define and call templates too', () => {
  const out = expandAlertTemplate('{{ define "inst" }}[{{ . }}]{{ end }}{{ template "inst" $labels.instance }} is down', {
    name: '__alert_X',
    data: { labels: { instance: 'web-1' }, externalLabels: {}, externalURL: '', value: 1 },
  });
  assert.equal(out, '[web-1] is down');
  assert.equal(parseTemplates('t', '{{ define "a" }}{{ end }}x').get('t')?.associated?.has('a'), true);
});

test('glob matches like Go filepath.Glob', () => {
  const tmp = tempDir('vigil-glob-');
  try {
    for (const f of ['a.tmpl', 'b.tmpl', '.hidden.tmpl', 'c.txt', 'sub/d.tmpl', 'sub/e.tmpl', 'x[1].tmpl']) {
      fs.mkdirSync(path.dirname(path.join(tmp.dir, f)), { recursive: true });
      fs.writeFileSync(path.join(tmp.dir, f), '');
    }
    const g = (p: string): string[] => glob(path.join(tmp.dir, p)).map((m) => path.relative(tmp.dir, m));
    assert.deepEqual(g('*.tmpl'), ['.hidden.tmpl', 'a.tmpl', 'b.tmpl', 'x[1].tmpl']);
    assert.deepEqual(g('[ab].tmpl'), ['a.tmpl', 'b.tmpl']);
    assert.deepEqual(g('[^a].tmpl'), ['b.tmpl']);
    assert.deepEqual(g('?.t*'), ['a.tmpl', 'b.tmpl', 'c.txt']);
    assert.deepEqual(g('*/*.tmpl'), ['sub/d.tmpl', 'sub/e.tmpl']);
    assert.deepEqual(g('x\\[1\\].tmpl'), ['x[1].tmpl']);
    assert.deepEqual(g('sub/d.tmpl'), ['sub/d.tmpl']);
    assert.deepEqual(g('missing.tmpl'), []);
    assert.deepEqual(g('nodir/*.tmpl'), []);
    assert.throws(() => g('[a.tmpl'), /syntax error in pattern/);
  } finally {
    tmp.cleanup();
  }
});
