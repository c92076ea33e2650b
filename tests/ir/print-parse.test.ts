// The textual IR, JSON and DOT forms: exact printing, round trips in both directions, structure checks on JSON,
// clusters and edges in DOT, and the exact messages for malformed text.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lower } from '../../compiler/api.ts';
import { graphToDot } from '../../compiler/ir/dot.ts';
import { graphFromJson, graphToJson, IrJsonError } from '../../compiler/ir/json.ts';
import { IrParseError, parseGraph } from '../../compiler/ir/parse.ts';
import { printGraph } from '../../compiler/ir/print.ts';
import type { Graph, Node, TensorType } from '../../compiler/ir/types.ts';

const f32 = (...shape: (number | string)[]): TensorType => ({ dtype: 'f32', shape });
const i32 = (...shape: (number | string)[]): TensorType => ({ dtype: 'i32', shape });

/** A small Mixtral-like graph: symbolic dims, params with attributes, multi-output nodes, locs, every attribute kind. */
function tinyGraph(): Graph {
  return {
    name: 'mixtral_tiny',
    inputs: [{ name: 'input_ids', type: i32('batch', 'seq') }],
    params: [
      { name: 'embed', type: f32(512, 64), attrs: {} },
      { name: 'decoder.0.attn_norm.weight', type: f32(64), attrs: {} },
      { name: 'decoder.0.attn.q.weight', type: f32(64, 64), attrs: {} },
      { name: 'decoder.0.moe.router.weight', type: f32(4, 64), attrs: {} },
      { name: 'decoder.0.moe.experts.gate', type: f32(4, 128, 64), attrs: { experts: 4, per_token: 2 } },
    ],
    nodes: [
      { op: 'embedding', inputs: ['%input_ids', '@embed'], outputs: ['%0'], attrs: {}, types: [f32('batch', 'seq', 64)], loc: 'embed' },
      { op: 'rms_norm', inputs: ['%0', '@decoder.0.attn_norm.weight'], outputs: ['%1'], attrs: { eps: 1e-5 }, types: [f32('batch', 'seq', 64)], loc: 'decoder.0.attn' },
      { op: 'linear', inputs: ['%1', '@decoder.0.attn.q.weight'], outputs: ['%2'], attrs: {}, types: [f32('batch', 'seq', 64)], loc: 'decoder.0.attn' },
      { op: 'reshape', inputs: ['%2'], outputs: ['%3'], attrs: { shape: ['batch*seq', 64] }, loc: 'decoder.0.moe' },
      { op: 'linear', inputs: ['%3', '@decoder.0.moe.router.weight'], outputs: ['%4'], attrs: {}, types: [f32('batch*seq', 4)], loc: 'decoder.0.moe.router' },
      { op: 'topk', inputs: ['%4'], outputs: ['%5', '%6'], attrs: { k: 2 }, types: [f32('batch*seq', 2), i32('batch*seq', 2)], loc: 'decoder.0.moe' },
      { op: 'const', inputs: [], outputs: ['%7'], attrs: { value: 0.125, dtype: 'f32' } },
      { op: 'scale', inputs: ['%2'], outputs: ['%8'], attrs: { factor: 0.08838834764831843 }, types: [f32('batch', 'seq', 64)] },
      { op: 'softmax', inputs: ['%4'], outputs: ['%9'], attrs: { axis: -1 } },
      { op: 'layer_norm', inputs: ['%8', '@decoder.0.attn_norm.weight'], outputs: ['%10'], attrs: { eps: 1e-6 } },
      { op: 'rope', inputs: ['%8'], outputs: ['%11'], attrs: { theta: 10000, rotary_dim: 16, interleaved: false } },
      { op: 'matmul', inputs: ['%8', '%8'], outputs: ['%12'], attrs: { transpose_b: true } },
      { op: 'arange', inputs: [], outputs: ['%13'], attrs: { n: '2*batch*seq' } },
      { op: 'hash_route', inputs: ['%input_ids'], outputs: ['%14'], attrs: { experts: 4, method: 'mod', seed: 0, vocab: 512 } },
      { op: 'transpose', inputs: ['%8'], outputs: ['%15'], attrs: { perm: [0, 2, 1] } },
      { op: 'dispatch', inputs: ['%3', '%6'], outputs: ['%16', '%17', '%18'], attrs: { experts: 4, capacity_factor: 1.25, group_size: 'seq' }, types: [f32('2*batch*seq', 64), i32(5), i32('batch*seq', 2)], loc: 'decoder.0.moe' },
      { op: 'cast', inputs: ['%6'], outputs: ['%19'], attrs: { dtype: 'f32' }, types: [f32('batch*seq', 2)] },
    ],
    outputs: [
      { name: 'logits', value: '%2' },
      { name: 'router_logits.0', value: '%4' },
    ],
  };
}

const tinyText = `graph mixtral_tiny {
  input %input_ids: i32[batch, seq]
  param @embed: f32[512, 64]
  param @decoder.0.attn_norm.weight: f32[64]
  param @decoder.0.attn.q.weight: f32[64, 64]
  param @decoder.0.moe.router.weight: f32[4, 64]
  param @decoder.0.moe.experts.gate: f32[4, 128, 64] {experts = 4, per_token = 2}
  %0 = embedding(%input_ids, @embed) : f32[batch, seq, 64] loc("embed")
  %1 = rms_norm(%0, @decoder.0.attn_norm.weight) {eps = 1e-05} : f32[batch, seq, 64] loc("decoder.0.attn")
  %2 = linear(%1, @decoder.0.attn.q.weight) : f32[batch, seq, 64] loc("decoder.0.attn")
  %3 = reshape(%2) {shape = [batch*seq, 64]} loc("decoder.0.moe")
  %4 = linear(%3, @decoder.0.moe.router.weight) : f32[batch*seq, 4] loc("decoder.0.moe.router")
  %5, %6 = topk(%4) {k = 2} : f32[batch*seq, 2], i32[batch*seq, 2] loc("decoder.0.moe")
  %7 = const() {dtype = "f32", value = 0.125}
  %8 = scale(%2) {factor = 0.08838834764831843} : f32[batch, seq, 64]
  %9 = softmax(%4) {axis = -1}
  %10 = layer_norm(%8, @decoder.0.attn_norm.weight) {eps = 1e-06}
  %11 = rope(%8) {interleaved = false, rotary_dim = 16, theta = 10000}
  %12 = matmul(%8, %8) {transpose_b = true}
  %13 = arange() {n = 2*batch*seq}
  %14 = hash_route(%input_ids) {experts = 4, method = "mod", seed = 0, vocab = 512}
  %15 = transpose(%8) {perm = [0, 2, 1]}
  %16, %17, %18 = dispatch(%3, %6) {capacity_factor = 1.25, experts = 4, group_size = seq} : f32[2*batch*seq, 64], i32[5], i32[batch*seq, 2] loc("decoder.0.moe")
  %19 = cast(%6) {dtype = "f32"} : f32[batch*seq, 2]
  output logits = %2
  output router_logits.0 = %4
}
`;

/** The corners: special numbers, escapes, names that need quotes, strings that look like other things. */
function edgeGraph(): Graph {
  const weird: Node = {
    op: 'custom',
    inputs: ['%in-put.1', '@w'],
    outputs: ['%a.b-c'],
    attrs: {
      neg_zero: -0,
      nan: NaN,
      inf: Infinity,
      ninf: -Infinity,
      big: 1e21,
      tiny: 5e-324,
      neg_exp: -1.5e-7,
      max: Number.MAX_VALUE,
      third: 1 / 3,
      int_neg: -42,
      text: 'quote " backslash \\ newline \n tab \t nul \u0000 unicode ✓ 𝔘',
      seq_string: 'seq',
      empty: '',
      'weird key': 1,
      dims: [-0, NaN, 1.5, 'batch*seq', '64', 'true', 'a b', 'batch + seq', 'seq+dec_seq', ''],
      no_dims: [],
      flag: true,
    },
    types: [{ dtype: 'bf16', shape: [] }],
    loc: 'a "quoted" loc\\with\nnewline',
  };
  return {
    name: 'edge cases',
    inputs: [
      { name: 'in-put.1', type: { dtype: 'i64', shape: ['2*batch*seq', '17', 'Infinity'] } },
      { name: 'mask', type: { dtype: 'bool', shape: [] } },
    ],
    params: [{ name: 'w', type: { dtype: 'f16', shape: [3, 0] }, attrs: { mode: 'seq', experts: 8, scale: -0.5 } }],
    nodes: [
      weird,
      { op: 'print', inputs: ['%a.b-c'], outputs: [], attrs: {} },
      { op: 'output', inputs: ['%mask'], outputs: [], attrs: {}, types: [] },
      { op: 'arange', inputs: [], outputs: ['%n'], attrs: { n: 'not a dim' } },
    ],
    outputs: [
      { name: 'out put', value: '%a.b-c' },
      { name: 'w', value: '@w' },
    ],
  };
}

function irFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...irFiles(join(dir, e.name)));
    else if (e.name.endsWith('.ir')) out.push(join(dir, e.name));
  }
  return out;
}

function parseError(text: string, file?: string): IrParseError {
  try {
    parseGraph(text, file);
  } catch (e) {
    if (e instanceof IrParseError) return e;
    throw e;
  }
  throw new Error('expected an IrParseError');
}

describe('printGraph', () => {
  it('prints the MLIR-like text exactly', () => {
    expect(printGraph(tinyGraph())).toBe(tinyText);
  });

  it('prints numbers so they read back identically', () => {
    const text = printGraph(edgeGraph());
    expect(text).toContain('neg_zero = -0,');
    expect(text).toContain('nan = NaN,');
    expect(text).toContain('inf = Infinity,');
    expect(text).toContain('ninf = -Infinity,');
    expect(text).toContain('big = 1e+21,');
    expect(text).toContain('tiny = 5e-324,');
    expect(text).toContain('neg_exp = -1.5e-07,');
    expect(text).toContain('third = 0.3333333333333333,');
  });

  it('quotes what would not read back bare', () => {
    const text = printGraph(edgeGraph());
    expect(text).toContain('graph "edge cases" {');
    expect(text).toContain('input %in-put.1: i64[2*batch*seq, "17", "Infinity"]');
    expect(text).toContain('dims = [-0, NaN, 1.5, batch*seq, "64", "true", "a b", "batch + seq", seq+dec_seq, ""]');
    expect(text).toContain('seq_string = "seq"');
    expect(text).toContain('"weird key" = 1');
    expect(text).toContain('n = "not a dim"');
    expect(text).toContain('param @w: f16[3, 0] {experts = 8, mode = "seq", scale = -0.5}');
    expect(text).toContain('  print(%a.b-c)\n');
    expect(text).toContain('  output(%mask) : ()\n');
    expect(text).toContain('output "out put" = %a.b-c');
    expect(text).toContain('loc("a \\"quoted\\" loc\\\\with\\nnewline")');
  });

  it('prints an empty graph', () => {
    const g: Graph = { name: 'empty', inputs: [], params: [], nodes: [], outputs: [] };
    expect(printGraph(g)).toBe('graph empty {\n}\n');
    expect(parseGraph('graph empty {}')).toStrictEqual(g);
  });
});

describe('round trips', () => {
  for (const [name, make] of [['tiny', tinyGraph], ['edge cases', edgeGraph]] as const) {
    it(`${name}: graph → text → graph is the identity`, () => {
      const g = make();
      const back = parseGraph(printGraph(g));
      expect(back).toStrictEqual(g);
      expect(printGraph(back)).toBe(printGraph(g));
    });

    it(`${name}: graph → JSON → graph is the identity`, () => {
      const g = make();
      const json = graphToJson(g);
      expect(graphFromJson(json)).toStrictEqual(g);
      expect(graphToJson(graphFromJson(json))).toBe(json);
    });
  }

  it('keeps key presence: no types or loc keys where the text has none', () => {
    const g = parseGraph(tinyText);
    const constNode = g.nodes[6]!;
    expect(Object.keys(constNode)).toEqual(['op', 'inputs', 'outputs', 'attrs']);
    expect(Object.keys(g.nodes[0]!)).toEqual(['op', 'inputs', 'outputs', 'attrs', 'types', 'loc']);
    expect(g.params[0]!.attrs).toStrictEqual({});
    const fromJson = graphFromJson(graphToJson(g));
    expect(Object.keys(fromJson.nodes[6]!)).toEqual(['op', 'inputs', 'outputs', 'attrs']);
  });

  it('keeps -0, NaN and the infinities', () => {
    for (const g of [parseGraph(printGraph(edgeGraph())), graphFromJson(graphToJson(edgeGraph()))]) {
      const a = g.nodes[0]!.attrs;
      expect(Object.is(a.neg_zero, -0)).toBe(true);
      expect(Number.isNaN(a.nan)).toBe(true);
      expect(a.inf).toBe(Infinity);
      expect(a.ninf).toBe(-Infinity);
      expect(Object.is((a.dims as unknown[])[0], -0)).toBe(true);
    }
  });

  it('reads back a thousand random doubles exactly', () => {
    let s = 0x9e3779b9;
    const rand = () => {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      return (s >>> 0) / 2 ** 32;
    };
    const values: number[] = [];
    const buf = new DataView(new ArrayBuffer(8));
    while (values.length < 1000) {
      buf.setUint32(0, rand() * 2 ** 32);
      buf.setUint32(4, rand() * 2 ** 32);
      const v = buf.getFloat64(0);
      if (Number.isFinite(v)) values.push(v, (rand() - 0.5) * 10 ** Math.floor(rand() * 40 - 20));
    }
    const attrs: Record<string, number> = {};
    values.forEach((v, i) => (attrs[`v${i}`] = v));
    const g: Graph = { name: 'numbers', inputs: [], params: [], nodes: [{ op: 'const', inputs: [], outputs: ['%0'], attrs }], outputs: [] };
    expect(parseGraph(printGraph(g))).toStrictEqual(g);
    expect(graphFromJson(graphToJson(g))).toStrictEqual(g);
  });

  it('text → graph → text: comments, blank lines, CRLF and quoted dims read the same as the canonical text', () => {
    const written = [
      '// a header comment',
      '',
      'graph mixtral_tiny {   // trailing comment',
      ...tinyText.split('\n').slice(1, -1).map((l, i) => (i % 5 === 0 ? `${l}   // note ${i}\r` : i % 7 === 0 ? `\n${l}` : l)),
      '',
      '// the end',
      '',
    ].join('\n');
    expect(printGraph(parseGraph(written))).toBe(tinyText);
    // A dim attribute may be written quoted, and attributes in any order.
    const quoted = tinyText.replace('{capacity_factor = 1.25, experts = 4, group_size = seq}', '{group_size = "seq", experts = 4, capacity_factor = 1.25}');
    expect(parseGraph(quoted)).toStrictEqual(tinyGraph());
    expect(printGraph(parseGraph(quoted))).toBe(tinyText);
  });

  it('the pass golden files read and print stably', () => {
    const files = irFiles(new URL('../passes', import.meta.url).pathname);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const once = printGraph(parseGraph(readFileSync(f, 'utf8'), f));
      expect(printGraph(parseGraph(once, f))).toBe(once);
      expect(graphToJson(graphFromJson(graphToJson(parseGraph(once))))).toBe(graphToJson(parseGraph(once)));
    }
  });

  it('a lowered model (Mixtral 8x7B) round-trips through text and JSON', () => {
    const g = lower(new URL('../../examples/mixtral-8x7b.moe', import.meta.url).pathname);
    const text = printGraph(g);
    expect(parseGraph(text)).toStrictEqual(g);
    expect(graphFromJson(graphToJson(g))).toStrictEqual(g);
  });

  it('parses a 50,000-line IR in well under a second', () => {
    const lines = ['graph big {', '  input %x: f32[batch, seq, 4096]', '  param @w: f32[4096, 4096] {experts = 8, per_token = 2}'];
    let prev = '%x';
    for (let i = 0; i < 50_000; i++) {
      lines.push(`  %${i}, %r${i} = some_op.${i % 7}(${prev}, @w, %x) {axis = -1, eps = 1e-05, name = "layer ${i}", shape = [batch*seq, 32, 128]} : f32[batch, seq, 4096], i32[2*batch*seq] loc("decoder.${i % 32}.moe")`);
      prev = `%${i}`;
    }
    lines.push(`  output y = ${prev}`, '}');
    const text = lines.join('\n');
    parseGraph(text); // warm up
    const t0 = performance.now();
    const g = parseGraph(text);
    const ms = performance.now() - t0;
    expect(g.nodes).toHaveLength(50_000);
    expect(ms).toBeLessThan(1000);
  });
});

describe('graphToJson / graphFromJson', () => {
  it('writes stable, pretty JSON in the order name, inputs, params, nodes, outputs', () => {
    const json = graphToJson(tinyGraph());
    expect(Object.keys(JSON.parse(json) as object)).toEqual(['name', 'inputs', 'params', 'nodes', 'outputs']);
    expect(json.startsWith('{\n  "name": "mixtral_tiny",\n  "inputs": [\n    {\n      "name": "input_ids",\n')).toBe(true);
    expect(json).toContain('"attrs": {"dtype": "f32", "value": 0.125}');
    expect(json).toContain('"type": {"dtype": "f32", "shape": [4, 128, 64]},\n      "attrs": {"experts": 4, "per_token": 2}');
    expect(graphToJson(parseGraph(printGraph(tinyGraph())))).toBe(json);
  });

  it('writes -0, NaN and the infinities as {"$number": …}', () => {
    const json = graphToJson(edgeGraph());
    expect(json).toContain('"neg_zero": {"$number": "-0"}');
    expect(json).toContain('"ninf": {"$number": "-Infinity"}');
    const doc = JSON.parse(json) as { nodes: { attrs: Record<string, unknown> }[] };
    expect((doc.nodes[0]!.attrs.dims as unknown[]).slice(0, 4)).toEqual([{ $number: '-0' }, { $number: 'NaN' }, 1.5, 'batch*seq']);
    expect(doc.nodes[0]!.attrs.inf).toEqual({ $number: 'Infinity' });
  });

  const base = () => JSON.parse(graphToJson(tinyGraph())) as { [k: string]: unknown; nodes: Record<string, unknown>[]; params: Record<string, unknown>[]; inputs: Record<string, unknown>[] };
  const cases: [string, (d: ReturnType<typeof base>) => void, string][] = [
    ['a number operand', (d) => ((d.nodes[3]!.inputs as unknown[])[0] = 3), 'nodes[3].inputs[0]: expected a string, got number 3'],
    ['an operand without a sigil', (d) => ((d.nodes[1]!.inputs as unknown[])[1] = 'w'), 'nodes[1].inputs[1]: expected a %value or @param reference, got the string "w"'],
    ['a bad dtype', (d) => ((d.params[2]!.type as { dtype: string }).dtype = 'f8'), 'params[2].type.dtype: expected one of f32, f16, bf16, i32, i64, bool, got the string "f8"'],
    ['a missing key', (d) => delete d.nodes[0]!.outputs, 'nodes[0].outputs: missing'],
    ['an unknown key', (d) => (d.inputs[0]!.shape = [1]), 'inputs[0].shape: unexpected key (expected one of name, type)'],
    ['an object attribute', (d) => (d.nodes[5]!.attrs = { k: { two: 2 } }), 'nodes[5].attrs.k: expected a number, boolean, string or array of dims, got an object'],
    ['a boolean dim', (d) => (((d.nodes[0]!.types as { shape: unknown[] }[])[0]!.shape)[1] = true), 'nodes[0].types[0].shape[1]: expected a number or a symbolic dimension, got boolean true'],
    ['a document without inputs', (d) => { for (const k of Object.keys(d)) delete d[k]; d.name = 1; }, 'inputs: missing'],
  ];
  for (const [what, mutate, message] of cases) {
    it(`rejects ${what} with its path`, () => {
      const doc = base();
      mutate(doc);
      let err: unknown;
      try {
        graphFromJson(JSON.stringify(doc));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(IrJsonError);
      expect((err as IrJsonError).message).toBe(message);
      expect((err as IrJsonError).path).toBe(message.slice(0, message.indexOf(':')));
    });
  }

  it('rejects invalid JSON and a root that is not an object', () => {
    expect(() => graphFromJson('[1, 2]')).toThrow('(root): expected an object, got an array');
    expect(() => graphFromJson('{"name": ')).toThrow(/^invalid JSON: /);
    expect(() => graphFromJson('{"name": ')).toThrow(IrJsonError);
  });
});

describe('graphToDot', () => {
  const dot = graphToDot(tinyGraph());

  it('clusters nodes by layer and block of loc', () => {
    expect(dot).toMatch(/^digraph "mixtral_tiny" \{\n/);
    expect(dot).toContain('  subgraph "cluster_decoder.0" {');
    expect(dot).toContain('    subgraph "cluster_decoder.0.attn" {');
    expect(dot).toContain('    subgraph "cluster_decoder.0.moe" {');
    expect(dot).toContain('subgraph "cluster_embed" {');
    expect(dot.match(/subgraph /g)).toHaveLength(4);
    const cluster = dot.slice(dot.indexOf('subgraph "cluster_decoder.0"'), dot.indexOf('\n  }', dot.indexOf('subgraph "cluster_decoder.0"')));
    for (const n of ['n1', 'n2', 'n3', 'n4', 'n5', 'n15']) expect(cluster).toContain(`"${n}" [label=`);
    expect(cluster).not.toContain('"n7"');
  });

  it('folds parameters into the label of the node that reads them', () => {
    expect(dot).toContain('"n2" [label="linear\\n@decoder.0.attn.q.weight"];');
    expect(dot).toContain('"n5" [label="topk\\nk = 2"];');
    expect(dot).toContain('"n6" [label="const\\ndtype = \\"f32\\", value = 0.125"];');
    expect(dot).not.toContain('"param:');
    const expanded = graphToDot(tinyGraph(), { expandParams: true });
    expect(expanded).toContain('"param:@embed" [shape=box, style=filled');
    expect(expanded).toContain('"param:@embed" -> "n0" [label="f32[512, 64]"];');
  });

  it('draws inputs and outputs as ellipses and labels edges with tensor types', () => {
    expect(dot).toContain('"input:%input_ids" [shape=ellipse, style=solid, label="input_ids\\ni32[batch, seq]"];');
    expect(dot).toContain('"input:%input_ids" -> "n0" [label="i32[batch, seq]"];');
    expect(dot).toContain('"n0" -> "n1" [label="f32[batch, seq, 64]"];');
    expect(dot).toContain('"n5" -> "n15" [label="i32[batch*seq, 2]"];');
    expect(dot).toContain('"n3" -> "n15";');
    expect(dot).toContain('"n2" -> "n3" [label="f32[batch, seq, 64]"];');
    expect(dot).toContain('"n3" -> "n4";'); // %3 has no type yet
    expect(dot).toContain('"output:router_logits.0" [shape=ellipse, style=solid, label="router_logits.0"];');
    expect(dot).toContain('"n4" -> "output:router_logits.0" [label="f32[batch*seq, 4]"];');
    expect(dot.trimEnd().endsWith('}')).toBe(true);
  });

  it('quotes and escapes identifiers', () => {
    const e = graphToDot(edgeGraph());
    expect(e).toContain('digraph "edge cases" {');
    expect(e).toContain('subgraph "cluster_a \\"quoted\\" loc\\\\with\\nnewline" {');
    expect(e).toContain('"output:out put" [shape=ellipse');
    expect(e).toContain('"param:@w" -> "output:w" [label="f16[3, 0]"];');
  });
});

describe('parse errors', () => {
  const good = tinyText.split('\n');
  const withLine = (i: number, line: string) => [...good.slice(0, i), line, ...good.slice(i + 1)].join('\n');

  const cases: [string, string, string][] = [
    ['an unknown dtype', withLine(1, '  input %input_ids: f33[batch, seq]'), "model.ir:2:21: unknown dtype 'f33' (expected f32, f16, bf16, i32, i64 or bool)"],
    ['an unclosed bracket', withLine(2, '  param @embed: f32[512, 64'), "model.ir:3:28: unbalanced brackets: '[' at 3:20 is not closed before end of line (expected ',' or ']' after a dimension)"],
    ['a mismatched bracket', withLine(9, '  %2 = linear(%1, @decoder.0.attn.q.weight] : f32[batch, seq, 64]'), "model.ir:10:43: unbalanced brackets: '(' at 10:14 is not closed before ']' (expected ',' or ')' after an operand)"],
    ['a missing =', withLine(9, '  %2 linear(%1, @decoder.0.attn.q.weight)'), "model.ir:10:6: missing '=' after the results (expected '=' or ',', found 'linear')"],
    ['a missing = in attributes', withLine(13, '  %7 = const() {dtype "f32", value = 0.125}'), `model.ir:14:23: missing '=' after the attribute 'dtype' (expected '=', found '"f32"')`],
    ['a duplicate value', withLine(14, '  %4 = scale(%2) {factor = 0.08838834764831843}'), 'model.ir:15:3: %4 is defined twice (expected a new value name; the first definition is at 12:3)'],
    ['a duplicate result in one node', withLine(12, '  %5, %5 = topk(%4) {k = 2}'), 'model.ir:13:7: %5 is defined twice (expected a new value name; the first definition is at 13:3)'],
    ['an input that shadows a node result', withLine(1, '  input %16: i32[batch, seq]'), 'model.ir:23:3: %16 is defined twice (expected a new value name; the first definition is at 2:9)'],
    ['an unterminated string', withLine(7, '  %0 = embedding(%input_ids, @embed) : f32[batch, seq, 64] loc("embed)'), `model.ir:8:64: unterminated string (expected a closing '"' before the end of the line)`],
    ['junk after an item', withLine(15, '  %9 = softmax(%4) {axis = -1} extra'), "model.ir:16:32: unexpected 'extra' (expected end of line after the node)"],
    ['an invalid dimension', withLine(2, '  param @embed: f32[512, 6a4]'), "model.ir:3:26: invalid dimension '6a4' (expected a number or a symbolic product such as 2*batch*seq)"],
    ['an invalid attribute value', withLine(15, '  %9 = softmax(%4) {axis = x.y}'), "model.ir:16:28: invalid attribute value 'x.y' (expected a number, true, false, a string, a symbolic dim or a [list])"],
    ['a stray character', withLine(15, '  %9 = softmax(%4) {axis = -1} ; x'), "model.ir:16:32: unexpected character ';' (expected a name, a number, a string or one of { } ( ) [ ] , = :)"],
    ['a missing closing brace', good.slice(0, -2).join('\n'), "model.ir:26:30: unbalanced brackets: '{' at 1:20 is not closed before end of input (expected an item or '}')"],
    ['text after the graph', `${tinyText}graph again {\n}\n`, "model.ir:28:1: unexpected 'graph' (expected end of input after the graph)"],
    ['a missing graph header', '  input %x: f32[1]\n', "model.ir:1:3: unexpected 'input' (expected 'graph')"],
  ];
  for (const [what, text, message] of cases) {
    it(`reports ${what}`, () => {
      const e = parseError(text, 'model.ir');
      expect(e.message).toBe(message);
      const [, line, col] = /^model\.ir:(\d+):(\d+): /.exec(message)!;
      expect([e.file, e.line, e.col]).toEqual(['model.ir', Number(line), Number(col)]);
      expect(e).toBeInstanceOf(Error);
      expect(e.name).toBe('IrParseError');
    });
  }

  it('names <ir> when no file is given', () => {
    expect(() => parseGraph('graph g {\n  %0 = = relu()\n}')).toThrow("<ir>:2:8: unexpected '=' (expected an op name)");
  });

  it('leaves semantics to the verifier', () => {
    const g = parseGraph('graph g {\n  %0 = no_such_op(%undefined, @nowhere) {anything = 1}\n  output y = %1\n}\n');
    expect(g.nodes[0]!.op).toBe('no_such_op');
    expect(g.outputs[0]!.value).toBe('%1');
  });
});
