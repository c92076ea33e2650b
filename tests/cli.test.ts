// The command line as a user meets it: exit codes, messages on stderr, no stack traces, nothing half-written.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scratch, writeSpec } from './helpers/spec.ts';

const bin = new URL('../bin/moec.js', import.meta.url).pathname;

function moec(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at .*:\d+:\d+/);

describe('moec', () => {
  it('--version and --help', () => {
    expect(moec('--version').stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = moec('--help');
    expect(help.status).toBe(0);
    for (const c of ['check', 'stats', 'ir', 'import', 'run']) expect(help.stdout).toContain(c);
    expect(moec('stats', '--help').stdout).toContain('--json');
  });

  it('check: every example passes', () => {
    const examples = readdirSync('examples').filter((f) => f.endsWith('.moe')).map((f) => join('examples', f));
    const r = moec('check', ...examples);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(examples.length);
  });

  it('check: a bad spec exits 1 with file:line:col and a caret, no stack trace', () => {
    const f = writeSpec('cli-bad.moe', 'attention a { heads: 4, kv_heads: 3 }\nmodel m { vocab: 10, d_model: 64, decoder: stack { layers: 1, block: block { norm: rmsnorm {}, attention: a } } }\n');
    const r = moec('check', f);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('error: kv_heads (3) must divide heads (4)');
    expect(r.stderr).toMatch(/cli-bad\.moe:1:35\n/);
    expect(r.stderr).toContain('^');
    noStack(r.stderr);
  });

  it('stats --json gives the fields a script needs', () => {
    const r = moec('stats', 'examples/mixtral-8x7b.moe', '--json');
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout) as Record<string, number>;
    expect(s.total_params).toBe(46_702_792_704);
    expect(s.expert_params).toBe(45_097_156_608);
    expect(s.active_params).toBe(12_879_925_248);
    expect(s.flops_per_token).toBeGreaterThan(0);
  });

  it('stats --set changes a param; a bad --set is one message', () => {
    const r = moec('stats', 'examples/switch-transformer.moe', '--json', '--set', 'experts=8');
    expect(JSON.parse(r.stdout).expert_params).toBeLessThan(JSON.parse(moec('stats', 'examples/switch-transformer.moe', '--json').stdout).expert_params);
    const bad = moec('stats', 'examples/switch-transformer.moe', '--set', 'experts');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe("error: --set expects NAME=VALUE, got 'experts'\n");
  });

  it('ir --stage kernel dumps loop nests with the memory plan', () => {
    const r = moec('ir', 'examples/olmoe-1b-7b.moe', '--stage', 'kernel', '--seq', '512');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\/\/ \d+ kernels; \d+ temporaries in \d+ planned buffers\n\/\/ activations at batch 1, seq 512: /);
    expect(r.stdout).toContain('kernel k0_embedding  // embed');
    expect(r.stdout).toContain('parallel for');
  });

  it('a missing file is one message', () => {
    const r = moec('check', 'nope.moe');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('error: cannot read nope.moe: no such file');
    noStack(r.stderr);
  });

  it('import hf: an unsupported model type names the supported ones', () => {
    const dir = join(scratch, 'llama');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'llama' }));
    const r = moec('import', 'hf', dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`error: ${join(dir, 'config.json')}: model_type 'llama' is not supported; moec import hf supports: switch_transformers, mixtral, qwen2_moe, olmoe, deepseek_v3, granitemoe\n`);
  });

  it('import hf writes a spec that checks, and the output file only when it succeeds', () => {
    const out = join(scratch, 'imported-mixtral.moe');
    const r = moec('import', 'hf', '../shared/fixtures/hf/mixtral', '-o', out);
    expect(r.status).toBe(0);
    expect(moec('check', out).status).toBe(0);
    const bad = join(scratch, 'never-written.moe');
    expect(moec('import', 'hf', join(scratch, 'no-such-folder'), '-o', bad).status).toBe(1);
    expect(existsSync(bad)).toBe(false);
  });
});
