/**
 * What a block's index knows of each page without reading it: its time span, a bloom filter of its
 * service names, span names and scalar attribute values (so a search skips pages, and blocks whose
 * every page fails), the services with their operations, the tag names by scope, and up to
 * {@link MAX_VALUES} values per tag (more: `more` is set and a listing reads the page itself).
 */
import { Bloom, tokenHash } from '../../core/util/bloom.js';
import { ByteReader, type ByteWriter } from '../../core/util/bytes.js';
import { isScalar, type ScalarValue, type TraceSearch } from '../storage/interface.js';
import { serviceOf } from '../storage/match.js';
import type { Attributes, Span } from '../storage/types.js';

/** Values kept per tag per page in the index. */
export const MAX_VALUES = 64;

/** What a page holds by name: its services with their span names, tag names by scope, values per tag. */
export interface PageListing {
  /** service → its span names. */
  services: Map<string, string[]>;
  spanTags: string[];
  resourceTags: string[];
  /** `s\0name` or `r\0name` → values (sorted), `more` when there were over MAX_VALUES. */
  values: Map<string, { v: ScalarValue[]; more: boolean }>;
}

export interface PageMeta {
  offset: number;
  length: number;
  crc: number;
  spans: number;
  minStart: bigint;
  maxEnd: bigint;
  bloom: Bloom;
  /**
   * The page's listing. A page read from a block's index keeps it as the index bytes and decodes
   * it on each call: only the tag and service listings read it, and an open store has thousands of
   * pages whose maps and strings, kept as objects, every major GC marked again (ingest got slower
   * as the store grew).
   */
  listing(): PageListing;
}

/** The bloom hash of a service name, a span name, or an attribute equality. */
export const serviceHash = (s: string): number => tokenHash(`s\0${s}`);
export const nameHash = (s: string): number => tokenHash(`n\0${s}`);
export const attrHash = (key: string, v: ScalarValue): number =>
  tokenHash(`a\0${key}\0${typeof v === 'string' ? 's' : typeof v === 'number' ? 'n' : 'b'}${String(v)}`);

/** The hashes a page must all have to hold a trace that qualifies for `q`. */
export function hintHashes(q: TraceSearch): number[] {
  const out: number[] = [];
  if (q.service !== undefined) out.push(serviceHash(q.service));
  if (q.spanName !== undefined) out.push(nameHash(q.spanName));
  for (const a of q.attributes ?? []) out.push(attrHash(a.key, a.value));
  return out;
}

/** The index entry of a page of `spans` (offset, length and crc filled in by the writer). */
export function pageMeta(spans: readonly Span[]): PageMeta {
  const hashes = new Set<number>();
  const services = new Map<string, Set<string>>();
  const spanTags = new Set<string>();
  const resourceTags = new Set<string>();
  // Distinct values per tag (both scopes: a hint matches either), hashed once each at the end:
  // most values repeat across a page's spans, so this is far fewer hashes than attributes.
  const distinct = { s: new Map<string, Set<ScalarValue>>(), r: new Map<string, Set<ScalarValue>>() };
  const values = new Map<string, Map<string, ScalarValue>>();
  // A resource's span names, by the resource object (spans of one resource share it): its service is read and its attributes visited once.
  const opsOf = new Map<Attributes, Set<string>>();
  const spanNames = new Set<string>();
  let minStart = spans[0]?.startTimeUnixNano ?? 0n;
  let maxEnd = spans[0]?.endTimeUnixNano ?? 0n;
  const addAttrs = (attrs: Attributes, scope: 's' | 'r', names: Set<string>): void => {
    const seen = distinct[scope];
    for (const k in attrs) {
      const v = attrs[k]!;
      let d = seen.get(k);
      if (!d) {
        names.add(k);
        seen.set(k, (d = new Set()));
      }
      if (!isScalar(v) || d.has(v)) continue;
      d.add(v);
      const key = `${scope}\0${k}`;
      let m = values.get(key);
      if (!m) values.set(key, (m = new Map()));
      if (m.size <= MAX_VALUES) m.set(`${typeof v}:${String(v)}`, v);
    }
  };
  for (const s of spans) {
    if (s.startTimeUnixNano < minStart) minStart = s.startTimeUnixNano;
    if (s.endTimeUnixNano > maxEnd) maxEnd = s.endTimeUnixNano;
    let ops = opsOf.get(s.resource);
    const newResource = !ops;
    if (!ops) {
      const svc = serviceOf(s);
      ops = services.get(svc);
      if (!ops) services.set(svc, (ops = new Set()));
      opsOf.set(s.resource, ops);
      hashes.add(serviceHash(svc));
    }
    ops.add(s.name);
    spanNames.add(s.name);
    addAttrs(s.attributes, 's', spanTags);
    if (newResource) addAttrs(s.resource, 'r', resourceTags);
  }
  for (const n of spanNames) hashes.add(nameHash(n));
  for (const m of [distinct.s, distinct.r]) for (const [k, d] of m) for (const v of d) hashes.add(attrHash(k, v));
  const bloom = Bloom.forCount(hashes.size);
  for (const h of hashes) bloom.add(h);
  const sortedValues = new Map<string, { v: ScalarValue[]; more: boolean }>();
  for (const [k, m] of values) sortedValues.set(k, { v: [...m.values()].slice(0, MAX_VALUES), more: m.size > MAX_VALUES });
  const listing: PageListing = {
    services: new Map([...services].map(([k, v]) => [k, [...v]])),
    spanTags: [...spanTags],
    resourceTags: [...resourceTags],
    values: sortedValues,
  };
  return { offset: 0, length: 0, crc: 0, spans: spans.length, minStart, maxEnd, bloom, listing: () => listing };
}

function writeI64(w: ByteWriter, x: bigint): void {
  w.reserve(8);
  w.buf.writeBigInt64LE(x, w.length);
  w.length += 8;
}

function writeScalar(w: ByteWriter, v: ScalarValue): void {
  if (typeof v === 'string') {
    w.u8(0);
    w.str(v);
  } else if (typeof v === 'number') {
    w.u8(1);
    w.f64(v);
  } else w.u8(v ? 2 : 3);
}

function readScalar(r: ByteReader): ScalarValue {
  const t = r.u8();
  if (t === 0) return r.str();
  if (t === 1) return r.f64();
  if (t === 2) return true;
  if (t === 3) return false;
  throw new RangeError(`unknown value tag ${t}`);
}

function strings(w: ByteWriter, list: readonly string[]): void {
  w.uvarint(list.length);
  for (const s of list) w.str(s);
}

function readStrings(r: ByteReader): string[] {
  const out: string[] = [];
  for (let n = r.uvarint(); n > 0; n--) out.push(r.str());
  return out;
}

export function writePageMeta(w: ByteWriter, p: PageMeta): void {
  w.uvarint(p.offset);
  w.uvarint(p.length);
  w.u32(p.crc);
  w.uvarint(p.spans);
  writeI64(w, p.minStart);
  writeI64(w, p.maxEnd);
  w.u8(p.bloom.k);
  w.uvarint(p.bloom.bits.length);
  for (const x of p.bloom.bits) w.u32(x);
  const l = p.listing();
  w.uvarint(l.services.size);
  for (const [svc, ops] of l.services) {
    w.str(svc);
    strings(w, ops);
  }
  strings(w, l.spanTags);
  strings(w, l.resourceTags);
  w.uvarint(l.values.size);
  for (const [k, { v, more }] of l.values) {
    w.str(k);
    w.u8(more ? 1 : 0);
    w.uvarint(v.length);
    for (const x of v) writeScalar(w, x);
  }
}

/** A page's meta as read from an index: its listing stays in the index bytes, at `at`. */
class StoredPageMeta implements PageMeta {
  constructor(
    readonly offset: number,
    readonly length: number,
    readonly crc: number,
    readonly spans: number,
    readonly minStart: bigint,
    readonly maxEnd: bigint,
    readonly bloom: Bloom,
    private readonly index: Buffer,
    private readonly at: number,
  ) {}

  listing(): PageListing {
    return readListing(new ByteReader(this.index, this.at));
  }
}

function readListing(r: ByteReader): PageListing {
  const services = new Map<string, string[]>();
  for (let n = r.uvarint(); n > 0; n--) services.set(r.str(), readStrings(r));
  const spanTags = readStrings(r);
  const resourceTags = readStrings(r);
  const values = new Map<string, { v: ScalarValue[]; more: boolean }>();
  for (let n = r.uvarint(); n > 0; n--) {
    const key = r.str();
    const more = r.u8() === 1;
    const v: ScalarValue[] = [];
    for (let m = r.uvarint(); m > 0; m--) v.push(readScalar(r));
    values.set(key, { v, more });
  }
  return { services, spanTags, resourceTags, values };
}

/** Steps over a string (its length and bytes) without decoding it. */
function skipStr(r: ByteReader): void {
  r.bytes(r.uvarint());
}

function skipStrings(r: ByteReader): void {
  for (let n = r.uvarint(); n > 0; n--) skipStr(r);
}

/** Steps over a listing, checking that it is whole (a damaged index fails at open, not at a later listing). */
function skipListing(r: ByteReader): void {
  for (let n = r.uvarint(); n > 0; n--) {
    skipStr(r);
    skipStrings(r);
  }
  skipStrings(r);
  skipStrings(r);
  for (let n = r.uvarint(); n > 0; n--) {
    skipStr(r);
    r.u8();
    for (let m = r.uvarint(); m > 0; m--) {
      const t = r.u8();
      if (t === 0) skipStr(r);
      else if (t === 1) r.f64();
      else if (t !== 2 && t !== 3) throw new RangeError(`unknown value tag ${t}`);
    }
  }
}

/** Reads a page's meta from an index being decoded (`r` over the whole index buffer, which the meta keeps). */
export function readPageMeta(r: ByteReader): PageMeta {
  const offset = r.uvarint();
  const length = r.uvarint();
  const crc = r.u32();
  const spans = r.uvarint();
  const minStart = r.bytes(8).readBigInt64LE(0);
  const maxEnd = r.bytes(8).readBigInt64LE(0);
  const k = r.u8();
  const words = new Uint32Array(r.uvarint());
  for (let i = 0; i < words.length; i++) words[i] = r.u32();
  const at = r.pos;
  skipListing(r);
  return new StoredPageMeta(offset, length, crc, spans, minStart, maxEnd, new Bloom(words, k), r.buf, at);
}
