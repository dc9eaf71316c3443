import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkAlertTemplate,
  expandAlertTemplate,
  expandTemplate,
  formatG,
  humanize,
  humanize1024,
  humanizeDuration,
  parseTemplate,
  prometheusFuncs,
  sprintf,
  TemplateParseError,
  type QuerySample,
} from './index.js';

const data = {
  labels: { instance: 'web-1:9100', job: 'node', __name__: 'up' },
  externalLabels: { region: 'eu' },
  externalURL: 'https://vigil.example.com',
  value: 0.25,
};
const query = (q: string): QuerySample[] =>
  q === 'empty'
    ? []
    : [
        { Labels: new Map([['host', 'b']]), Value: 2 },
        { Labels: new Map([['host', 'a']]), Value: 1500 },
      ];

function x(text: string): string {
  return expandAlertTemplate(text, { name: '__alert_T', data, query });
}

test('variables, fields and pipelines', () => {
  assert.equal(
    x('{{ $labels.instance }} {{ .Labels.job }} {{ $value }} {{ $externalLabels.region }} {{ $externalURL }} {{ $.Value }}'),
    'web-1:9100 node 0.25 eu https://vigil.example.com 0.25',
  );
  assert.equal(x('{{ $labels.missing }}|'), '|');
  assert.equal(x('{{ $value | humanizePercentage }}'), '25%');
  assert.equal(x('{{ $y := "a" }}{{ $y = "b" }}{{ $y }}'), 'b');
});

test('trim markers and comments', () => {
  assert.equal(x('a  {{- "b" -}}  c'), 'abc');
  assert.equal(x('a {{/* note */}} b'), 'a  b');
  assert.equal(x('a\n{{- /* note */ -}}\nb'), 'ab');
});

test('if / else if / else, with, range, break and continue', () => {
  assert.equal(x('{{ if gt $value 0.5 }}hi{{ else if gt $value 0.1 }}mid{{ else }}lo{{ end }}'), 'mid');
  assert.equal(x('{{ with $labels.job }}job={{ . }}{{ end }}{{ with $labels.none }}x{{ else }}none{{ end }}'), 'job=nodenone');
  assert.equal(x('{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}'), '__name__=up;instance=web-1:9100;job=node;');
  assert.equal(x('{{ range query "q" }}{{ if eq .Value 2.0 }}{{ continue }}{{ end }}{{ .Labels.host }}{{ end }}'), 'a');
  assert.equal(x('{{ range query "q" }}{{ .Labels.host }}{{ break }}{{ end }}'), 'b');
  assert.equal(x('{{ range query "empty" }}x{{ else }}none{{ end }}'), 'none');
});

test('builtins: and, or, not, comparisons, len, index, print family', () => {
  assert.equal(
    x('{{ and 1 0 }} {{ or 0 "" "z" }} {{ not 0 }} {{ eq 1 2 1 }} {{ ne "a" "b" }} {{ le 1 1 }} {{ lt "a" "b" }} {{ ge 2.0 3.0 }}'),
    '0 z true true true true true false',
  );
  assert.equal(x('{{ len $labels }} {{ index $labels "job" }} {{ len "héllo" }}'), '3 node 6');
  assert.equal(x('{{ print 1 2 "a" 3 }}|{{ println "a" 1 }}|'), '1 2a3|a 1\n|');
  assert.equal(
    x('{{ printf "%s=%d %.2f %v %q %x %X %5s|%-4d|%05.1f %t %%" "a" 3 1.005 $value "q" 255 "hi" "r" 7 3.14159 true }}'),
    'a=3 1.00 0.25 "q" ff 6869     r|7   |003.1 true %',
  );
  assert.equal(x('{{ printf "%d %s" 1.5 2 }}'), '%!d(float64=1.5) %!s(int=2)');
  assert.equal(x('{{ printf "%d" }}{{ printf "x" 1 }}'), '%!d(MISSING)x%!(EXTRA int=1)');
});

test('Prometheus functions', () => {
  assert.equal(
    x(
      '{{ query "q" | first | value }} {{ with query "q" }}{{ (index . 1).Labels.host }}{{ end }} {{ range query "q" | sortByLabel "host" }}{{ label "host" . }}{{ end }}',
    ),
    '2 a ab',
  );
  assert.equal(x('{{ title "hello wide world" }} {{ toUpper "a" }} {{ toLower "B" }} {{ safeHtml "<b>" }}'), 'Hello Wide World A b <b>');
  assert.equal(
    x(
      '{{ reReplaceAll "(.*):(\\\\d+)" "${2}-$1" $labels.instance }} {{ match "^web" $labels.instance }} {{ stripPort $labels.instance }} {{ stripPort "[::1]:80" }}',
    ),
    '9100-web-1 true web-1 ::1',
  );
  assert.equal(
    x('{{ pathEscape "a b/c?" }} {{ externalURL }} {{ parseDuration "1m30s" }} {{ args 1 "b" }} {{ strvalue (query "q" | first) }}|'),
    'a%20b%2Fc%3F https://vigil.example.com 90 map[arg0:1 arg1:b] |',
  );
  assert.equal(x('{{ humanizeTimestamp 1700000000.5 }}'), '2023-11-14 22:13:20.5 +0000 UTC');
  assert.equal(humanize(0), '0');
  assert.equal(humanize(1234567), '1.235M');
  assert.equal(humanize(0.000123), '123u');
  assert.equal(humanize(-1500), '-1.5k');
  assert.equal(humanize1024(1), '1');
  assert.equal(humanize1024(1536), '1.5ki');
  assert.equal(humanizeDuration(0), '0s');
  assert.equal(humanizeDuration(90061), '1d 1h 1m 1s');
  assert.equal(humanizeDuration(59.5), '59.5s');
  assert.equal(humanizeDuration(0.0012), '1.2ms');
  assert.equal(humanizeDuration(-125), '-2m 5s');
  assert.equal(x('{{ humanize "NaN" }} {{ humanize "+Inf" }}'), 'NaN +Inf');
});

test('Go float formatting of values', () => {
  assert.equal(formatG(1e6, -1), '1e+06');
  assert.equal(formatG(123456, -1), '123456');
  assert.equal(formatG(0.0001, -1), '0.0001');
  assert.equal(formatG(0.00001, -1), '1e-05');
  assert.equal(formatG(12345, 4), '1.234e+04');
  assert.equal(formatG(100, 4), '100');
  assert.equal(sprintf('%e %E %g', [1234.5678, 0.5, 1e21]), '1.234568e+03 5.000000E-01 1e+21');
});

test('errors carry the template name and position; the alert text holds them', () => {
  assert.equal(checkAlertTemplate('__alert_X', '{{ $label.foo }}'), 'template: __alert_X:1: undefined variable "$label"');
  assert.match(checkAlertTemplate('__alert_X', '{{ if 1 }}') ?? '', /unexpected EOF/);
  assert.match(checkAlertTemplate('__alert_X', 'a\n{{ end }}') ?? '', /__alert_X:2: unexpected \{\{end\}\}/);
  assert.match(checkAlertTemplate('__alert_X', '{{ "unterminated }}') ?? '', /unterminated quoted string/);
  let heard = '';
  const out = expandAlertTemplate('{{ gt $value 1 }}', { name: '__alert_T', data }, (m) => (heard = m));
  assert.match(
    out,
    /^<error expanding template: error executing template __alert_T: template: __alert_T:1:\d+: executing "__alert_T" at <gt \$value 1>: error calling gt: incompatible types for comparison>$/,
  );
  assert.equal(`<error expanding template: ${heard}>`, out);
  assert.match(x('{{ query "empty" | first }}'), /error calling first: first\(\) called on vector with no elements/);
  assert.match(x('{{ nosuch 1 }}'), /function "nosuch" not defined/);
  assert.match(x('{{ humanize }}'), /wrong number of args for humanize: want 1 got 0/);
  assert.match(x('{{ $labels.job.x }}'), /can't evaluate field x in type string/);
  assert.match(expandAlertTemplate('{{ query "up" }}', { name: '__alert_T', data }), /query is not available here/);
});

test('expandTemplate and parseTemplate work without the alert definitions', () => {
  assert.equal(
    expandTemplate(
      't',
      '{{ .a }}-{{ humanize .b }}',
      new Map<string, string | number>([
        ['a', 'x'],
        ['b', 2048],
      ]),
      prometheusFuncs({ externalURL: '' }),
    ),
    'x-2.048k',
  );
  assert.throws(() => parseTemplate('t', '{{ $nope }}'), TemplateParseError);
});
