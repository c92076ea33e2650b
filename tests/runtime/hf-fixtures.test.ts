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

    if (ref.tensors.has('aux_loss')) {
      it('aux loss', () => {
        const want = ref.readF32('aux_loss')[0]!;
        expect(Math.abs(got('aux_loss').data[0]! - want) / want).toBeLessThan(1e-5);
      });
    }
  });
}

describe('switch fixture expert choices', () => {
  it('the top-1 expert of every token in every sparse layer matches the router hooks', () => {
    // The hooks hold a one-hot [tokens, 1, experts] of the chosen expert per sparse layer.
    const ref = openSafetensors(join(fixtures, 'switch', 'reference.safetensors'));
    const hooks = [...ref.tensors.keys()].filter((n) => /mlp\.router\.1$/.test(n)).sort();
    expect(hooks).toHaveLength(4);
    const run = runFixture('switch');
    const logits = [...run.outputs.keys()].filter((n) => n.startsWith('router_logits.'));
    expect(logits).toHaveLength(4);
    // moec numbers MoE layers encoder first, then decoder, in layer order; sort hooks the same way.
    const order = hooks.sort((a, b) => (a.startsWith('hook.encoder') === b.startsWith('hook.encoder') ? a.localeCompare(b) : a.startsWith('hook.encoder') ? -1 : 1));
    order.forEach((hook, i) => {
      const onehot = ref.readF32(hook);
      const experts = ref.tensors.get(hook)!.shape[2]!;
      const want = topkSets(onehot, experts, 1);
      const o = run.outputs.get(`router_logits.${i}`)!;
      expect(topkSets(o.data, experts, 1), hook).toEqual(want);
    });
  });
});
