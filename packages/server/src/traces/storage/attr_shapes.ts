/**
 * Attribute records made whole instead of key by key. `out[key] = value` twenty times per span was
 * the largest single cost of decoding a span: every store is a keyed lookup of the object's next
 * hidden class, and the object's property storage is reallocated as it grows (garbage that the
 * scavenges then copy). Spans from one instrumentation carry the same keys in the same order, so
 * each key sequence seen is kept in a trie and, on its second sighting, gets a function returning
 * an object literal of exactly those keys: one allocation of the final size with a shared hidden class.
 *
 * The functions are generated (`new Function`) from the keys as JSON string literals, which
 * cannot break out of the property name; the key `__proto__` (which a literal would take as the
 * prototype) is never given here. A literal means what the assignments meant: a repeated key keeps
 * its first position and its last value, integer-like keys come first. The trie is bounded (nodes,
 * children per node, functions made); past the bounds a record is made by assignment, as before.
 */
import type { Attributes, AttributeValue } from './types.js';

const MAX_NODES = 4096;
const MAX_CHILDREN = 32;
/** Generated functions at most (each is compiled code): past it, new sequences are made by assignment. */
const MAX_COMPILED = 512;
/** Sightings of a key sequence before its function is made (a sequence seen once may never come again). */
const COMPILE_AFTER = 2;

interface Shape {
  readonly key: string;
  readonly children: Shape[];
  seen: number;
  make: ((v: AttributeValue[]) => Attributes) | undefined;
}

const root: Shape = { key: '', children: [], seen: 0, make: undefined };
let nodes = 0;
let compiled = 0;

function compile(keys: readonly string[], n: number): (v: AttributeValue[]) => Attributes {
  const props: string[] = [];
  for (let i = 0; i < n; i++) props.push(`${JSON.stringify(keys[i])}:v[${i}]`);
  return new Function('v', `return {${props.join(',')}};`) as (v: AttributeValue[]) => Attributes;
}

function byAssignment(keys: readonly string[], values: readonly AttributeValue[], n: number): Attributes {
  const out: Attributes = {};
  for (let i = 0; i < n; i++) out[keys[i]!] = values[i]!;
  return out;
}

/** The record of the first `n` keys and values (no key is `__proto__`). */
export function attributesOf(keys: readonly string[], values: AttributeValue[], n: number): Attributes {
  let node = root;
  for (let i = 0; i < n; i++) {
    const key = keys[i]!;
    const children = node.children;
    let next: Shape | undefined;
    for (let c = 0; c < children.length; c++) {
      if (children[c]!.key === key) {
        next = children[c];
        break;
      }
    }
    if (next === undefined) {
      if (nodes >= MAX_NODES || children.length >= MAX_CHILDREN) return byAssignment(keys, values, n);
      nodes++;
      children.push((next = { key, children: [], seen: 0, make: undefined }));
    }
    node = next;
  }
  if (node.make === undefined) {
    if (++node.seen < COMPILE_AFTER || compiled >= MAX_COMPILED) return byAssignment(keys, values, n);
    compiled++;
    node.make = compile(keys, n);
  }
  return node.make(values);
}

/** The record of the first `n` keys and values, any key included: `__proto__` is kept as data, never as the prototype. */
export function recordOf(keys: readonly string[], values: AttributeValue[], n: number): Attributes {
  for (let i = 0; i < n; i++) {
    if (keys[i] !== '__proto__') continue;
    const out: Attributes = {};
    for (let j = 0; j < n; j++) {
      const k = keys[j]!;
      if (k === '__proto__') Object.defineProperty(out, k, { value: values[j], enumerable: true, writable: true, configurable: true });
      else out[k] = values[j]!;
    }
    return out;
  }
  return attributesOf(keys, values, n);
}
