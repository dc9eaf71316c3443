import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  alertList,
  alertmanagerFuncs,
  formatDuration,
  goDuration,
  goTime,
  GO_ZERO_TIME_MS,
  kv,
  TemplateExecError,
  TemplateSet,
  titleCase,
  type TValue,
} from './index.js';

const NOW = Date.parse('2024-03-05T11:11:12.345Z');
const T = Date.parse('2024-03-05T10:11:12.345Z');

function x(text: string, data: TValue = {}): string {
  return new TemplateSet(alertmanagerFuncs(() => NOW)).executeText(text, data);
}

function err(text: string, data: TValue = {}): string {
  try {
    x(text, data);
  } catch (e) {
    assert.ok(e instanceof TemplateExecError, String(e));
    return e.message;
  }
  assert.fail('expected an error');
}

test('KV: SortedPairs puts alertname first, Names, Values, Remove, printing', () => {
  const d = { L: kv({ zone: 'eu', alertname: 'Pool', __name__: 'up', job: 'j' }) };
  assert.equal(x('{{ range .L.SortedPairs }}{{ .Name }}={{ .Value }};{{ end }}', d), 'alertname=Pool;__name__=up;job=j;zone=eu;');
  assert.equal(
    x('{{ .L.Names }} {{ .L.Values | join "," }} {{ .L.SortedPairs.Names }} {{ index .L.SortedPairs 0 }}', d),
    '[alertname __name__ job zone] Pool,up,j,eu [alertname __name__ job zone] {alertname Pool}',
  );
  assert.equal(
    x('{{ (.L.Remove (stringSlice "zone" "__name__")).Names }} {{ len .L }} {{ .L.job }} {{ index .L "zone" }} [{{ .L.missing }}]', d),
    '[alertname job] 4 j eu []',
  );
  assert.equal(
    x('{{ .L }} | {{ .L.SortedPairs }} | {{ printf "%s" .L }}', d),
    'alertname=Pool, __name__=up, job=j, zone=eu | alertname=Pool, __name__=up, job=j, zone=eu | alertname=Pool, __name__=up, job=j, zone=eu',
  );
  assert.equal(
    x('{{ range $k, $v := .L }}{{ $k }}{{ end }}', d),
    '__name__alertnamejobzone',
    'range over a KV visits names in byte order, as Go ranges over a map',
  );
  assert.match(err('{{ .L.Remove "zone" }}', d), /error calling Remove: wrong type for value; expected \[\]string; got string/);
});

test('Alerts: Firing, Resolved and SortedByStart', () => {
  const a = (status: string, start: number): TValue => ({ Status: status, StartsAt: goTime(start) });
  const d = { A: alertList([a('firing', 3), a('resolved', 1), a('firing', 2)] as never) };
  assert.equal(
    x('{{ len .A.Firing }} {{ len .A.Resolved }} {{ range .A.Firing.SortedByStart }}{{ .StartsAt.UnixMilli }}{{ end }} {{ if .A.Resolved }}some{{ end }}', d),
    '2 1 23 some',
  );
});

test('string functions: toUpper, toLower, title, trimSpace, join, match, reReplaceAll, stringSlice, safeHtml, urlUnescape', () => {
  assert.equal(
    x('{{ toUpper "straße ok" }} {{ toLower "ÀB" }} {{ title "hELLO wORLD-foo_bar o\'neil 3am x.y" }} [{{ trimSpace "\\t a b \\n" }}]'),
    "STRAßE OK àb Hello World-Foo_bar O'neil 3Am X.y [a b]",
  );
  assert.equal(
    x(
      '{{ join ", " (stringSlice "a" "b") }} {{ match "^web-[0-9]+$" "web-12" }} {{ reReplaceAll "(\\\\w+)-(\\\\d+)" "$2:$1" "web-12 db-3" }} {{ safeHtml "<b>" }} {{ urlUnescape "a%20b+c" }}',
    ),
    'a, b true 12:web 3:db <b> a b c',
  );
  assert.equal(titleCase('élan vital'), 'Élan Vital');
  assert.match(err('{{ toUpper 1 }}'), /error calling toUpper: wrong type for value; expected string; got int/);
  assert.match(err('{{ join "," "ab" }}'), /expected \[\]string; got string/);
  assert.match(err('{{ urlUnescape "%zz" }}'), /invalid URL escape "%zz"/);
  assert.match(err('{{ match "(" "x" }}'), /error calling match/);
});

test('match and reReplaceAll run on RE2: nested quantifiers answer at once, lookahead is refused', () => {
  const started = performance.now();
  assert.equal(x(`{{ match "(a+)+$" "${'a'.repeat(64)}!" }} {{ reReplaceAll "(a+)+b" "x" "${'a'.repeat(64)}!" }}`), `false ${'a'.repeat(64)}!`);
  assert.ok(performance.now() - started < 1000);
  assert.match(err('{{ match "(?=a)" "a" }}'), /invalid or unsupported Perl syntax: `\(\?=`/);
  assert.equal(x('{{ reReplaceAll "(?P<host>[a-z]+)-(\\\\d+)" "${host}#$2" "web-12 db-3" }}'), 'web#12 db#3');
});

test('time.Time prints and formats like Go; date, tz, since, humanizeDuration', () => {
  const d = { T: goTime(T), Z: goTime(GO_ZERO_TIME_MS), E: goTime(T + 5_025_000) };
  assert.equal(x('{{ .T }}|{{ .Z }}|{{ .Z.IsZero }}|{{ .T.IsZero }}', d), '2024-03-05 10:11:12.345 +0000 UTC|0001-01-01 00:00:00 +0000 UTC|true|false');
  const layouts: Array<[string, string]> = [
    ['2006-01-02T15:04:05Z07:00', '2024-03-05T10:11:12Z'],
    ['Mon Jan _2 15:04:05.000 MST 2006 -07:00 Z07:00 pm', 'Tue Mar  5 10:11:12.345 UTC 2024 +00:00 Z am'],
    ['Monday, 2 January 06 3:4:5 PM .999 ,000000 .9', 'Tuesday, 5 March 24 10:11:12 AM .345 ,345000 .3'],
    ['002 __2 Jan-January Mon-Monday -0700 -07 Z0700 _2006', '065  65 Mar-March Tue-Tuesday +0000 +00 Z _2024'],
    ['Janet Monkey 1504', 'Janet Monkey 1011'],
  ];
  for (const [layout, want] of layouts) assert.equal(x(`{{ .T.Format ${JSON.stringify(layout)} }}`, d), want, layout);
  assert.equal(
    x(
      '{{ tz "Europe/Berlin" .T }}|{{ (tz "America/New_York" .T).Format "2006-01-02 15:04 MST -07:00" }}|{{ date "15:04 MST" (tz "Asia/Tokyo" .T) }} {{ date "MST" (tz "America/Sao_Paulo" .T) }}|{{ (tz "Europe/Berlin" .T).UTC }}',
      d,
    ),
    '2024-03-05 11:11:12.345 +0100 CET|2024-03-05 05:11 EST -05:00|19:11 JST -03|2024-03-05 10:11:12.345 +0000 UTC',
  );
  assert.equal(
    x('{{ (tz "Europe/Berlin" (.T.Add (.E.Sub .Z))) }}', { ...d, E: goTime(GO_ZERO_TIME_MS + 120 * 86_400_000) }),
    '2024-07-03 12:11:12.345 +0200 CEST',
  );
  assert.equal(
    x(
      '{{ since .T }}|{{ since .T | humanizeDuration }}|{{ .E.Sub .T }}|{{ humanizeDuration 3725 }}|{{ humanizeDuration "90" }}|{{ (since .T).Minutes }}|{{ gt (since .T) 0 }}',
      d,
    ),
    '1h0m0s|1h 0m 0s|1h23m45s|1h 2m 5s|1m 30s|60|true',
  );
  assert.equal(x('{{ shortDuration (since .T) }} {{ shortDuration 90000 }} {{ shortDuration 200000 }}', d), '1h 25h 2d7h');
  assert.match(err('{{ tz "Mars/Olympus" .T }}', d), /error calling tz: unknown time zone Mars\/Olympus/);
  assert.match(err('{{ date "2006" "now" }}', d), /error calling date: wrong type for value; expected time.Time; got string/);
  assert.match(err('{{ .T.Nope }}', d), /can't evaluate field Nope in type time.Time/);
});

test('Go duration printing', () => {
  const cases: Array<[bigint, string]> = [
    [0n, '0s'],
    [1n, '1ns'],
    [1_500n, '1.5µs'],
    [1_500_000n, '1.5ms'],
    [1_000_000_000n, '1s'],
    [3_600_000_000_000n, '1h0m0s'],
    [3_661_500_000_000n, '1h1m1.5s'],
    [-90_000_000_000n, '-1m30s'],
  ];
  for (const [ns, want] of cases) assert.equal(formatDuration(ns), want);
  assert.equal(x('{{ . }} {{ printf "%d %v" . . }}', goDuration(90_000_000_000n)), '1m30s 90000000000 1m30s');
});
