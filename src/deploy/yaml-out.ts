/**
 * Writes generated YAML that people read: flow style for short lists, anchors and merge
 * keys for shared blocks, comments above sections, double quotes where a value could be
 * misread (ports, numbers as strings). Output is deterministic for a given input.
 */
import { Alias, Document, Pair, Scalar, YAMLMap, YAMLSeq } from 'yaml';

/** A list written in flow style, `[a, b]`, when it is short. */
export class Flow {
  constructor(readonly items: unknown[]) {}
}
/** A string written in double quotes. */
export class Quoted {
  constructor(readonly value: string) {}
}
/** A value with a comment above it (above its key, in a map). */
export class Commented {
  constructor(
    readonly value: unknown,
    readonly comment: string,
  ) {}
}
/** A map or list given an anchor (`&name`). */
export class Anchored {
  constructor(
    readonly value: unknown,
    readonly name: string,
  ) {}
}
/** An alias to an anchored value (`*name`); as the value of key `<<`, a merge key. */
export class Ref {
  constructor(readonly name: string) {}
}

type Node = Scalar | YAMLMap | YAMLSeq | Alias;

/** Longest list (in characters, roughly) written inline. */
const FLOW_WIDTH = 96;

export function yamlText(value: unknown, header?: string): string {
  const doc = new Document(null, { version: '1.1', merge: true });
  const anchors = new Map<string, Scalar | YAMLMap | YAMLSeq>();
  const convert = (v: unknown): Node => {
    if (v instanceof Ref) {
      const target = anchors.get(v.name);
      if (!target) throw new Error(`yaml-out: alias *${v.name} before its anchor`);
      return new Alias(target.anchor ?? v.name);
    }
    if (v instanceof Anchored) {
      const node = convert(v.value);
      if (node instanceof Alias) throw new Error('yaml-out: cannot anchor an alias');
      node.anchor = v.name;
      anchors.set(v.name, node);
      return node;
    }
    if (v instanceof Quoted) {
      const s = new Scalar(v.value);
      s.type = Scalar.QUOTE_DOUBLE;
      return s;
    }
    if (v instanceof Flow) {
      const seq = new YAMLSeq();
      // Short lists inline; long ones one item a line (flow style wrapped over lines reads badly).
      const width = v.items.reduce<number>(
        (n, item) => n + String(item instanceof Quoted ? item.value : item).length + 4,
        0,
      );
      seq.flow = width <= FLOW_WIDTH;
      for (const item of v.items) seq.items.push(convert(item));
      return seq;
    }
    if (v instanceof Commented) {
      const node = convert(v.value);
      node.commentBefore = v.comment;
      return node;
    }
    if (Array.isArray(v)) {
      const seq = new YAMLSeq();
      for (const item of v) seq.items.push(convert(item));
      return seq;
    }
    if (v && typeof v === 'object') {
      const map = new YAMLMap();
      for (const [k, val] of Object.entries(v)) {
        if (val === undefined) continue;
        const key = new Scalar(k);
        let inner = val;
        if (inner instanceof Commented) {
          key.commentBefore = inner.comment;
          inner = inner.value;
        }
        map.items.push(new Pair(key, convert(inner)));
      }
      return map;
    }
    return new Scalar(v);
  };
  doc.contents = convert(value) as YAMLMap;
  if (header) doc.commentBefore = header;
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}
