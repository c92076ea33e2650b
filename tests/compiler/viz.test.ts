// Pictures of models: every example drawn as DOT (with and without kernels), three representative ones rendered to
// SVG through Graphviz in WebAssembly (rendering all 23 twice takes too long on two cores): Mixtral (MoE),
// Switch-Base-8 (encoder-decoder) and DeepSeek-V3 (MLA, 61 layers folded).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkOrThrow } from '../../compiler/api.ts';
import { blockPath, layerOf } from '../../compiler/ir/blocks.ts';
import { expertChains } from '../../compiler/ir/expert-chains.ts';
import { kernelGroups } from '../../compiler/ir/fusion-groups.ts';
import { foldLayers, parseLayerSelection } from '../../compiler/ir/layer-folding.ts';
import { pictureDot } from '../../compiler/ir/picture.ts';
import { dotToSvg } from '../../compiler/ir/svg.ts';
import type { Graph } from '../../compiler/ir/types.ts';
import { scheduleGraph } from '../../compiler/kernel/schedule.ts';
import { lowerModel } from '../../compiler/lower/model.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import { unfusedStage, vizCommand } from '../../bin/commands/viz.ts';
import { irCommand } from '../../bin/commands/ir.ts';

const examples = readdirSync('examples').filter((f) => f.endsWith('.moe'));
const svgExamples = ['mixtral-8x7b.moe', 'switch-base-8.moe', 'deepseek-v3.moe'];

/** The graph after every pass and the same graph before fusion, lowered once per file (examples.test.ts verifies them). */
const cache = new Map<string, { g: Graph; unfused: Graph }>();
function graphs(file: string): { g: Graph; unfused: Graph } {
  let r = cache.get(file);
  if (!r) {
    const lowered = lowerModel(checkOrThrow(file));
    r = { g: runPipeline(lowered, { verify: false }), unfused: runPipeline(lowered, { after: unfusedStage(undefined), verify: false }) };
    cache.set(file, r);
  }
  return r;
}

const balanced = (dot: string) => (dot.match(/\{/g) ?? []).length === (dot.match(/\}/g) ?? []).length;

const dir = mkdtempSync(join(tmpdir(), 'moec-viz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('blocks from locs', () => {
  it('nests blocks in their layer', () => {
    expect(blockPath('decoder.3.moe.router')).toEqual(['decoder.3', 'decoder.3.moe']);
    expect(blockPath('decoder.final_norm')).toEqual(['decoder.final_norm']);
    expect(blockPath('embed')).toEqual(['embed']);
    expect(blockPath(undefined)).toEqual([]);
    expect(layerOf('encoder.11.ffn')).toEqual({ stack: 'encoder', index: 11 });
    expect(layerOf('decoder.final_norm')).toBeUndefined();
  });

  it('parses --layers', () => {
    expect(parseLayerSelection('0-2,5')).toEqual(new Set([0, 1, 2, 5]));
    expect(parseLayerSelection('all')).toBe('all');
    expect(parseLayerSelection('2-1')).toBeUndefined();
    expect(parseLayerSelection('x')).toBeUndefined();
  });
});

describe.each(examples)('%s as DOT', (f) => {
  it('clusters blocks, names the experts and draws kernels as clusters', () => {
    const { g, unfused } = graphs(`examples/${f}`);
    const dot = pictureDot(g);
    expect(dot).toMatch(/^digraph "/);
    expect(balanced(dot)).toBe(true);
    expect(dot).toContain('subgraph "cluster_embed" {');
    expect(dot).toMatch(/subgraph "cluster_(en|de)coder\.0\.attn" \{/);
    if (g.nodes.some((n) => n.op === 'dispatch')) expect(dot).toMatch(/label="experts ×\d+ \((top-\d+|[a-z_]+)\)/);
    const withKernels = pictureDot(g, { unfused });
    expect(balanced(withKernels)).toBe(true);
    expect(withKernels).toMatch(/subgraph "cluster_kernel:k\d+_\w+" \{/);
    // Each op of the unfused graph is in at most one kernel.
    const members = kernelGroups(unfused, g).flatMap((k) => k.members);
    expect(new Set(members).size).toBe(members.length);
  });
});

describe('kernels', () => {
  it('are named as the schedule names them, and cover every op but views', () => {
    const { g, unfused } = graphs('examples/olmoe-1b-7b.moe');
    const groups = kernelGroups(unfused, g);
    expect(groups.map((k) => k.name)).toEqual(scheduleGraph(g).kernels.map((k) => k.name));
    const covered = new Set(groups.flatMap((k) => k.members));
    const left = unfused.nodes.filter((_, i) => !covered.has(i)).map((n) => n.op);
    expect(new Set(left)).toEqual(new Set(['reshape']));
    // The router's softmax and top-k are one kernel (OLMoE does not renormalise); the gated expert matmul another.
    const router = groups.find((k) => k.name.endsWith('_softmax_topk'))!;
    expect(router.members.map((m) => unfused.nodes[m]!.op)).toEqual(['softmax', 'topk']);
    const gated = groups.find((k) => k.name.endsWith('_gated_grouped_linear'))!;
    expect(gated.members.map((m) => unfused.nodes[m]!.op)).toEqual(['grouped_linear', 'grouped_linear', 'silu', 'mul']);
  });
});

describe('MoE layers and folded layers', () => {
  it('finds Mixtral\'s 32 expert chains: 8 experts, top-2, three weights', () => {
    const { g } = graphs('examples/mixtral-8x7b.moe');
    const chains = expertChains(g);
    expect(chains).toHaveLength(32);
    expect(chains[0]).toMatchObject({ experts: 8, topK: 2, routing: 'top-k' });
    expect(chains[0]!.params).toEqual(['@decoder.0.moe.experts.gate', '@decoder.0.moe.experts.up', '@decoder.0.moe.experts.down']);
    expect(chains[0]!.members.map((m) => g.nodes[m]!.op)).toEqual(['gated_grouped_linear', 'grouped_linear']);
  });

  it('draws DeepSeek-V3\'s first dense and first MoE layer and folds the rest, or the layers asked for', () => {
    const { g } = graphs('examples/deepseek-v3.moe');
    const auto = pictureDot(g);
    expect(auto).toContain('"fold:decoder.1-2"');
    expect(auto).toContain('"fold:decoder.4-60"');
    expect(auto).toContain('subgraph "cluster_decoder.3.moe" {');
    expect(auto).not.toContain('subgraph "cluster_decoder.4"');
    const picked = pictureDot(g, { layers: parseLayerSelection('0-2') });
    expect(picked).toContain('subgraph "cluster_decoder.2.ffn" {');
    expect(picked).toContain('"fold:decoder.3-60" [');
    expect(new Set(foldLayers(g, 'all').values()).size).toBe(0);
  });
});

describe.each(svgExamples)('%s as SVG', (f) => {
  it('renders through Graphviz', async () => {
    const { g, unfused } = graphs(`examples/${f}`);
    const svg = await dotToSvg(pictureDot(g));
    expect(svg).toMatch(/^(<\?xml[^>]*>\s*(<!DOCTYPE[^>]*>\s*)?(<!--[^]*?-->\s*)*)?<svg /);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('<title>cluster_embed</title>');
    expect(svg).toMatch(/<title>cluster_(en|de)coder\.0\.attn<\/title>/);
    expect(svg).toMatch(/>experts ×\d+ \(top(-|&#45;)\d+\)</); // Graphviz writes - as &#45;
    if (f === 'mixtral-8x7b.moe') {
      const kernels = await dotToSvg(pictureDot(g, { unfused }));
      expect(kernels).toMatch(/<title>cluster_kernel:k\d+_gated_grouped_linear<\/title>/);
      expect(kernels).toContain('<title>cluster_experts:');
    }
  });
});

describe('the commands', () => {
  const spec = join(dir, 'tiny.moe');
  writeFileSync(spec, `rmsnorm norm { eps: 1e-5 }
attention self_attention { heads: 2 }
moe sparse_ffn { experts: 4, top_k: 2, expert: ffn { hidden: 8, act: swiglu } }
model tiny { vocab: 16, d_model: 4, decoder: stack { layers: 3, block: block { norm: norm, attention: self_attention, ffn: sparse_ffn } } }
`);

  it('moec viz writes an SVG (or DOT by its extension) atomically', async () => {
    const out = join(dir, 'tiny.svg');
    await vizCommand(spec, { layers: 'auto', kernels: true, out });
    expect(readFileSync(out, 'utf8')).toMatch(/^<\?xml/);
    await vizCommand(spec, { layers: 'all', out: join(dir, 'tiny.dot') });
    expect(readFileSync(join(dir, 'tiny.dot'), 'utf8')).toContain('subgraph "cluster_decoder.2.moe" {');
    expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
    await expect(vizCommand(spec, { layers: 'x' })).rejects.toThrow("--layers expects 'auto', 'all' or indices such as 0-2,5, got 'x'");
    await expect(vizCommand(spec, { layers: 'auto', kernels: true, after: 'lower' })).rejects.toThrow('--kernels needs types');
  });

  it('moec ir --format svg draws every op', async () => {
    const out = join(dir, 'ir.svg');
    await irCommand(spec, { format: 'svg', stage: 'graph', seq: '2048', out });
    const svg = readFileSync(out, 'utf8');
    expect(svg).toContain('<title>cluster_decoder.2.moe</title>');
    expect(existsSync(out)).toBe(true);
  });
});
