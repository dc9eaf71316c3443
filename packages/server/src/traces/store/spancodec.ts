/**
 * The binary form of a group of spans: a page of a block (compressed) and a WAL record (not).
 * Spans are grouped by trace; each kind of value goes to its own column (ids, times, names, the
 * attributes, events and links, the string table), so a compressor sees like next to like. Strings
 * (names, keys, values) are interned per page; resources and scopes are stored once per page and
 * shared by the spans decoded from it. Parents inside the same trace are stored as the parent's
 * index in the trace (a byte instead of eight).
 *
 * Layout: "VTP" version(u8) flags(u8) columns(u8), then per column [raw length uvarint][stored
 * length uvarint] (stored 0: kept raw), then the columns' bytes. Times are deltas: span start from
 * its trace's earliest start, end from start, events from the span start (zigzag varints, or
 * 8-byte integers when the page's `WIDE` flag says some delta is beyond 2^52 ns).
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { ByteReader, ByteWriter } from '../../core/util/bytes.js';
import { recordOf } from '../storage/attr_shapes.js';
import type { Attributes, AttributeValue, Span, SpanKind, StatusCode } from '../storage/types.js';

const MAGIC = Buffer.from('VTP');
const VERSION = 1;
const WIDE = 1;
const KINDS: readonly SpanKind[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const CODES: readonly StatusCode[] = ['unset', 'ok', 'error'];
const KIND_OF = new Map(KINDS.map((k, i) => [k, i]));
const CODE_OF = new Map(CODES.map((c, i) => [c, i]));
const LIMIT = 2n ** 52n;
const PAGE_DEFLATE_LEVEL = 3;

// Columns, in this order: the string table, traces (id, earliest start, span count), span ids,
// parents, times, name/kind/status, resource and scope references, the resource and scope tables,
// attributes, events and links.
const C_STR = 0;
const C_TABLES = 7;
const COLUMNS = 10;

// Attribute value tags.
const V_STR = 0;
const V_INT = 1;
const V_DOUBLE = 2;
const V_TRUE = 3;
const V_FALSE = 4;
const V_ARRAY = 5;
const V_MAP = 6;

/** Spans in trace order: by trace id, then start time (a stable order for equal ones). */
export function byTrace(spans: readonly Span[]): Span[] {
  return [...spans].sort((a, b) =>
    a.traceId < b.traceId ? -1 : a.traceId > b.traceId ? 1 : a.startTimeUnixNano < b.startTimeUnixNano ? -1 : a.startTimeUnixNano > b.startTimeUnixNano ? 1 : 0,
  );
}

/** Writes hex text as its bytes (ids), with no Buffer made per id. */
function hexBytes(w: ByteWriter, hex: string): void {
  w.reserve(hex.length >> 1);
  w.length += w.buf.write(hex, w.length, 'hex');
}

class Encoder {
  readonly cols = Array.from({ length: COLUMNS }, () => new ByteWriter(1024));
  private readonly strings = new Map<string, number>();
  private readonly resources = new Map<Attributes, number>();
  private readonly resourceKeys = new Map<string, number>();
  private readonly scopes = new Map<string, number>();
  /** Scopes by object first: spans of one ScopeSpans share theirs, and the text key is a string made per span. */
  private readonly scopeObjects = new Map<Span['scope'], number>();
  private readonly tables = new ByteWriter(1024);
  private resourceCount = 0;
  private scopeCount = 0;

  constructor(readonly wide: boolean) {}

  str(s: string): number {
    let id = this.strings.get(s);
    if (id === undefined) {
      id = this.strings.size;
      this.strings.set(s, id);
      this.cols[C_STR]!.str(s);
    }
    return id;
  }

  delta(w: ByteWriter, d: bigint): void {
    if (this.wide) {
      w.reserve(8);
      w.buf.writeBigInt64LE(d, w.length);
      w.length += 8;
    } else w.svarint(Number(d));
  }

  value(w: ByteWriter, v: AttributeValue): void {
    if (typeof v === 'string') {
      w.u8(V_STR);
      w.uvarint(this.str(v));
    } else if (typeof v === 'number') {
      if (Number.isInteger(v) && Math.abs(v) <= 2 ** 52 && !Object.is(v, -0)) {
        w.u8(V_INT);
        w.svarint(v);
      } else {
        w.u8(V_DOUBLE);
        w.f64(v);
      }
    } else if (typeof v === 'boolean') w.u8(v ? V_TRUE : V_FALSE);
    else if (Array.isArray(v)) {
      w.u8(V_ARRAY);
      w.uvarint(v.length);
      for (const x of v) this.value(w, x);
    } else {
      w.u8(V_MAP);
      this.attributes(w, v);
    }
  }

  attributes(w: ByteWriter, a: Attributes): void {
    const keys = Object.keys(a);
    w.uvarint(keys.length);
    for (const k of keys) {
      w.uvarint(this.str(k));
      this.value(w, a[k]!);
    }
  }

  /** The page index of a resource: by identity first, then by content (equal resources are stored once). */
  resource(r: Attributes): number {
    let id = this.resources.get(r);
    if (id !== undefined) return id;
    const probe = new ByteWriter(256);
    this.attributes(probe, r);
    const key = probe.view().toString('latin1');
    id = this.resourceKeys.get(key);
    if (id === undefined) {
      id = this.resourceCount++;
      this.resourceKeys.set(key, id);
      this.tables.u8(0);
      this.tables.bytes(probe.view());
    }
    this.resources.set(r, id);
    return id;
  }

  scope(s: Span['scope']): number {
    const known = this.scopeObjects.get(s);
    if (known !== undefined) return known;
    const id = this.scopeByText(s);
    this.scopeObjects.set(s, id);
    return id;
  }

  private scopeByText(s: Span['scope']): number {
    const key = `${s.name}\0${s.version}`;
    let id = this.scopes.get(key);
    if (id === undefined) {
      id = this.scopeCount++;
      this.scopes.set(key, id);
      this.tables.u8(1);
      this.tables.uvarint(this.str(s.name));
      this.tables.uvarint(this.str(s.version));
    }
    return id;
  }

  finishTables(): void {
    this.cols[C_TABLES]!.bytes(this.tables.view());
  }
}

function needsWide(spans: readonly Span[]): boolean {
  for (const s of spans) {
    const d = s.endTimeUnixNano - s.startTimeUnixNano;
    if (d >= LIMIT || d <= -LIMIT) return true;
    for (const e of s.events) {
      const x = e.timeUnixNano - s.startTimeUnixNano;
      if (x >= LIMIT || x <= -LIMIT) return true;
    }
  }
  return false;
}

/** Encodes spans (sorted with {@link byTrace}) as a page; `compress` deflates each column. */
export function encodeSpans(sorted: readonly Span[], compress: boolean): Buffer {
  // Start deltas within a trace can be wide too: checked per trace below, so decide first.
  let wide = needsWide(sorted);
  for (let i = 0, j = 0; i < sorted.length && !wide; i = j) {
    const base = sorted[i]!.startTimeUnixNano;
    for (j = i; j < sorted.length && sorted[j]!.traceId === sorted[i]!.traceId; j++) if (sorted[j]!.startTimeUnixNano - base >= LIMIT) wide = true;
  }
  const e = new Encoder(wide);
  const [, trace, spanId, parent, time, name, ref, , attr, evlink] = e.cols as [
    ByteWriter,
    ByteWriter,
    ByteWriter,
    ByteWriter,
    ByteWriter,
    ByteWriter,
    ByteWriter,
    ByteWriter,
    ByteWriter,
    ByteWriter,
  ];
  for (let i = 0, j = 0; i < sorted.length; i = j) {
    const traceId = sorted[i]!.traceId;
    for (j = i; j < sorted.length && sorted[j]!.traceId === traceId; j++);
    const base = sorted[i]!.startTimeUnixNano;
    hexBytes(trace, traceId);
    trace.reserve(8);
    trace.buf.writeBigInt64LE(base, trace.length);
    trace.length += 8;
    trace.uvarint(j - i);
    const indexOf = new Map<string, number>();
    for (let k = i; k < j; k++) indexOf.set(sorted[k]!.spanId, k - i);
    for (let k = i; k < j; k++) {
      const s = sorted[k]!;
      hexBytes(spanId, s.spanId);
      // 0: root; 1: a parent outside the trace's spans here (8 bytes follow); n + 2: the trace's n-th span.
      const p = s.parentSpanId === '' ? undefined : indexOf.get(s.parentSpanId);
      if (s.parentSpanId === '') parent.uvarint(0);
      else if (p === undefined) {
        parent.uvarint(1);
        hexBytes(parent, s.parentSpanId);
      } else parent.uvarint(p + 2);
      e.delta(time, s.startTimeUnixNano - base);
      e.delta(time, s.endTimeUnixNano - s.startTimeUnixNano);
      name.uvarint(e.str(s.name));
      name.u8(KIND_OF.get(s.kind)! * 4 + CODE_OF.get(s.status.code)!);
      name.uvarint(e.str(s.status.message));
      ref.uvarint(e.resource(s.resource));
      ref.uvarint(e.scope(s.scope));
      e.attributes(attr, s.attributes);
      evlink.uvarint(s.events.length);
      for (const ev of s.events) {
        e.delta(evlink, ev.timeUnixNano - s.startTimeUnixNano);
        evlink.uvarint(e.str(ev.name));
        e.attributes(evlink, ev.attributes);
      }
      evlink.uvarint(s.links.length);
      for (const l of s.links) {
        hexBytes(evlink, l.traceId);
        hexBytes(evlink, l.spanId);
        e.attributes(evlink, l.attributes);
      }
    }
  }
  e.finishTables();
  const head = new ByteWriter(64);
  head.bytes(MAGIC);
  head.u8(VERSION);
  head.u8(wide ? WIDE : 0);
  head.u8(COLUMNS);
  const bodies: Buffer[] = [];
  for (const c of e.cols) {
    const raw = c.view();
    // Level 3, not zlib's 6: on demo-shaped pages 37 instead of 35 bytes per span, at half the
    // deflate CPU (at level 6 deflate took about 8% of the server's CPU in the trace benchmark).
    const stored = compress && raw.length > 32 ? deflateRawSync(raw, { level: PAGE_DEFLATE_LEVEL }) : undefined;
    head.uvarint(raw.length);
    head.uvarint(stored && stored.length < raw.length ? stored.length : 0);
    bodies.push(stored && stored.length < raw.length ? stored : Buffer.from(raw));
  }
  return Buffer.concat([head.view(), ...bodies]);
}

class Decoder {
  readonly strings: string[] = [];
  readonly resources: Attributes[] = [];
  readonly scopes: Span['scope'][] = [];

  constructor(readonly wide: boolean) {}

  delta(r: ByteReader): bigint {
    if (this.wide) {
      const b = r.bytes(8);
      return b.readBigInt64LE(0);
    }
    return BigInt(r.svarint());
  }

  str(r: ByteReader): string {
    const id = r.uvarint();
    const s = this.strings[id];
    if (s === undefined) throw new RangeError(`string ${id} is not in the page's table`);
    return s;
  }

  value(r: ByteReader, depth: number): AttributeValue {
    if (depth > 70) throw new RangeError('attribute values nest too deep');
    const tag = r.u8();
    switch (tag) {
      case V_STR:
        return this.str(r);
      case V_INT:
        return r.svarint();
      case V_DOUBLE:
        return r.f64();
      case V_TRUE:
        return true;
      case V_FALSE:
        return false;
      case V_ARRAY: {
        const n = r.uvarint();
        const out: AttributeValue[] = [];
        for (let i = 0; i < n; i++) out.push(this.value(r, depth + 1));
        return out;
      }
      case V_MAP:
        return this.attributes(r, depth + 1);
      default:
        throw new RangeError(`unknown attribute value tag ${tag}`);
    }
  }

  attributes(r: ByteReader, depth = 0): Attributes {
    const n = r.uvarint();
    // Read into arrays and made whole (storage/attr_shapes.ts); a nested map (rare) into its own,
    // since the top level's are still being filled.
    const keys = depth === 0 ? topKeys : [];
    const values = depth === 0 ? topValues : [];
    for (let i = 0; i < n; i++) {
      keys[i] = this.str(r);
      values[i] = this.value(r, depth);
    }
    return recordOf(keys, values, n);
  }
}

/** The current top-level record's keys and values while it is read. */
const topKeys: string[] = [];
const topValues: AttributeValue[] = [];

/** Decodes a page; `want` (a trace id) keeps only that trace's spans. Throws RangeError on damage. */
export function decodeSpans(buf: Buffer, want?: string): Span[] {
  if (buf.length < 6 || !buf.subarray(0, 3).equals(MAGIC)) throw new RangeError('not a span page (bad magic)');
  if (buf[3] !== VERSION) throw new RangeError(`span page version ${buf[3]} is not supported`);
  const d = new Decoder((buf[4]! & WIDE) !== 0);
  const ncols = buf[5]!;
  if (ncols !== COLUMNS) throw new RangeError(`span page has ${ncols} columns, want ${COLUMNS}`);
  const h = new ByteReader(buf, 6);
  const sizes: [number, number][] = [];
  for (let i = 0; i < ncols; i++) sizes.push([h.uvarint(), h.uvarint()]);
  let off = h.pos;
  const cols: ByteReader[] = sizes.map(([raw, stored]) => {
    const len = stored || raw;
    if (off + len > buf.length) throw new RangeError('span page is cut short');
    const body = stored ? inflateRawSync(buf.subarray(off, off + len)) : buf.subarray(off, off + len);
    off += len;
    if (body.length !== raw) throw new RangeError('span page column has the wrong length');
    return new ByteReader(body);
  });
  const [strs, trace, spanId, parent, time, name, ref, tables, attr, evlink] = cols as [
    ByteReader,
    ByteReader,
    ByteReader,
    ByteReader,
    ByteReader,
    ByteReader,
    ByteReader,
    ByteReader,
    ByteReader,
    ByteReader,
  ];
  while (!strs.done) d.strings.push(strs.str());
  while (!tables.done) {
    if (tables.u8() === 0) d.resources.push(d.attributes(tables));
    else d.scopes.push({ name: d.str(tables), version: d.str(tables) });
  }
  const out: Span[] = [];
  while (!trace.done) {
    const traceId = trace.bytes(16).toString('hex');
    const base = trace.bytes(8).readBigInt64LE(0);
    const n = trace.uvarint();
    // All ids of the trace first: a parent may come after its child (same start, or clock skew).
    const ids: string[] = [];
    for (let k = 0; k < n; k++) ids.push(spanId.bytes(8).toString('hex'));
    for (let k = 0; k < n; k++) {
      const id = ids[k]!;
      const pc = parent.uvarint();
      const parentSpanId = pc === 0 ? '' : pc === 1 ? parent.bytes(8).toString('hex') : ids[pc - 2];
      if (parentSpanId === undefined) throw new RangeError('span parent index out of range');
      const start = base + d.delta(time);
      const end = start + d.delta(time);
      const spanName = d.str(name);
      const kc = name.u8();
      const message = d.str(name);
      const resource = d.resources[ref.uvarint()];
      const scope = d.scopes[ref.uvarint()];
      if (!resource || !scope) throw new RangeError('span names a resource or scope that is not in the page');
      const attributes = d.attributes(attr);
      const events: Span['events'] = [];
      for (let m = evlink.uvarint(); m > 0; m--) events.push({ timeUnixNano: start + d.delta(evlink), name: d.str(evlink), attributes: d.attributes(evlink) });
      const links: Span['links'] = [];
      for (let m = evlink.uvarint(); m > 0; m--)
        links.push({ traceId: evlink.bytes(16).toString('hex'), spanId: evlink.bytes(8).toString('hex'), attributes: d.attributes(evlink) });
      if (want !== undefined && traceId !== want) continue;
      out.push({
        traceId,
        spanId: id,
        parentSpanId,
        name: spanName,
        kind: KINDS[kc >> 2] ?? 'unspecified',
        startTimeUnixNano: start,
        endTimeUnixNano: end,
        status: { code: CODES[kc & 3] ?? 'unset', message },
        attributes,
        resource,
        scope,
        events,
        links,
      });
    }
  }
  return out;
}
