// The acceptance test of the reference executor: moec import hf + moec run on Hugging Face's own tiny
// checkpoints reproduce transformers' outputs (logits, every hidden state, router logits, expert choices, aux loss).
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkOrThrow } from '../../compiler/api.ts';
import { importHf } from '../../compiler/import/hf/index.ts';
import { lowerModel } from '../../compiler/lower/model.ts';
import { runPipeline } from '../../compiler/passes/pipeline.ts';
import { readInputs } from '../../runtime/inputs.ts';
import { runModel, type NamedOutput } from '../../runtime/run-model.ts';
import { openCheckpoint, openSafetensors } from '../../runtime/safetensors/index.ts';
import { relativeL2, topkSets } from '../helpers/compare.ts';
import { scratch } from '../helpers/spec.ts';

const fixtures = new URL('../../../shared/fixtures/hf/', import.meta.url).pathname;
/** Fixtures made for this project on the GPU machine the same way (tests/fixtures/make_hf_fixtures.py). */
const ownFixtures = new URL('../fixtures/hf/', import.meta.url).pathname;
const fixtureDir = (name: string) => (existsSync(join(fixtures, name)) ? join(fixtures, name) : join(ownFixtures, name));
const ownNames = existsSync(ownFixtures) ? readdirSync(ownFixtures).filter((d) => existsSync(join(ownFixtures, d, 'reference.safetensors'))) : [];

function runFixture(name: string): { outputs: Map<string, NamedOutput>; reference: ReturnType<typeof openSafetensors>; topK: number } {
  const dir = fixtureDir(name);
  const specPath = join(scratch, `${name}-fixture.moe`);
  writeFileSync(specPath, importHf(dir).text);
  const spec = checkOrThrow(specPath);
  const graph = runPipeline(lowerModel(spec, { hiddenStates: true }));
  const inputs = readInputs(join(dir, 'inputs.json'), graph.inputs.map((i) => i.name), spec.vocab);
  const checkpoint = openCheckpoint(dir);
  const outputs = runModel(graph, spec.checkpoint?.tensors ?? [], checkpoint, dir, inputs);
  checkpoint.close();
  const moe = [...(spec.encoder?.layers ?? []), ...spec.decoder.layers].find((l) => l.ffn?.kind === 'moe')?.ffn;
  return { outputs: new Map(outputs.map((o) => [o.name, o])), reference: openSafetensors(join(dir, 'reference.safetensors')), topK: moe?.kind === 'moe' ? moe.topK : 1 };
}

for (const name of ['mixtral', 'olmoe', 'switch', ...ownNames]) {
  describe(`${name} fixture`, () => {
    const run = runFixture(name);
    const ref = run.reference;
    const got = (n: string) => {
      const o = run.outputs.get(n);
      if (!o) throw new Error(`moec produced no output '${n}'`);
      return o;
    };

    it('logits: relative L2 error below 1e-4, same shape', () => {
      const want = ref.readF32('logits');
      expect(got('logits').shape).toEqual(ref.tensors.get('logits')!.shape);
      expect(relativeL2(got('logits').data, want)).toBeLessThan(1e-4);
    });

    it('every hidden state', () => {
      const names = [...ref.tensors.keys()].filter((n) => /hidden_states\.\d+$/.test(n));
      expect(names.length).toBeGreaterThan(0);
      for (const n of names) expect(relativeL2(got(n).data, ref.readF32(n)), n).toBeLessThan(1e-4);
    });

    const routerNames = [...ref.tensors.keys()].filter((n) => n.startsWith('router_logits.'));
    if (routerNames.length > 0) {
      it('router logits and the same experts for every token', () => {
        for (const n of routerNames) {
          const want = ref.readF32(n);
          const [tokens, experts] = ref.tensors.get(n)!.shape as [number, number];
          expect(got(n).shape).toEqual([tokens, experts]);
          expect(relativeL2(got(n).data, want), n).toBeLessThan(1e-4);
          expect(topkSets(got(n).data, experts, run.topK)).toEqual(topkSets(want, experts, run.topK));
        }
      });
    }

    it('the same experts chosen for every token in every MoE layer as the router hooks', () => {
      // Group the hooks by router module, in layer order (encoder before decoder), and take the one holding
      // expert indices: [tokens, k] integers, or a one-hot [tokens, 1, experts] (switch).
      const modules = [...new Set([...ref.tensors.keys()].filter((n) => n.startsWith('hook.')).map((n) => n.replace(/\.\d+$/, '')))];
      const layerKey = (m: string) => [m.includes('decoder') ? 1 : 0, Number(/(?:layers|block)\.(\d+)/.exec(m)?.[1] ?? 0)] as const;
      modules.sort((a, b) => layerKey(a)[0] - layerKey(b)[0] || layerKey(a)[1] - layerKey(b)[1]);
      expect(modules.length).toBeGreaterThan(0);
      modules.forEach((m, i) => {
        const ours = got(`expert_indices.${i}`);
        const [tokens, k] = ours.shape as [number, number];
        const chosen = (data: ArrayLike<number>, row: number, width: number) => Array.from(data).slice(row * width, (row + 1) * width).sort((a, b) => a - b);
        const hooks = [...ref.tensors.keys()].filter((n) => n.replace(/\.\d+$/, '') === m);
        const onehot = hooks.find((n) => ref.tensors.get(n)!.shape.length === 3);
        let want: number[][];
        if (onehot) {
          const experts = ref.tensors.get(onehot)!.shape[2]!;
          want = topkSets(ref.readF32(onehot), experts, 1);
        } else {
          const idx = hooks.find((n) => {
            const shape = ref.tensors.get(n)!.shape;
            return shape.length === 2 && shape[1] === k && ref.readF32(n).every((v) => Number.isInteger(v));
          });
          expect(idx, `an index hook of ${m}`).toBeDefined();
          const data = ref.readF32(idx!);
          want = Array.from({ length: tokens }, (_, t) => chosen(data, t, k));
        }
        const have = Array.from({ length: tokens }, (_, t) => chosen(ours.data, t, k));
        expect(have, m).toEqual(want);
      });
    });

    if (ref.tensors.has('aux_loss')) {
      it('aux loss', () => {
        const want = ref.readF32('aux_loss')[0]!;
        expect(Math.abs(got('aux_loss').data[0]! - want) / want).toBeLessThan(1e-5);
      });
    }
  });
}
