// The published package: `npm pack`, installed into a fresh project without the network (the tarball unpacked as
// npm would into node_modules/moec, its dependencies, and theirs, linked from this checkout's node_modules, the bin
// linked into node_modules/.bin), then used as a user would: `npx moec check`, `npx moec stats --json`. Also what the
// tarball holds and leaves out, and that its postinstall never fails an install.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'moec-package-'));
const project = join(tmp, 'project');
const installed = join(project, 'node_modules', 'moec');
let files: string[] = [];

/** The package's dependencies and theirs, as npm hoisted them into this checkout's node_modules. */
function dependencyClosure(names: string[]): Set<string> {
  const seen = new Set<string>();
  const queue = [...names];
  while (queue.length) {
    const name = queue.pop()!;
    if (seen.has(name) || !existsSync(join(root, 'node_modules', name, 'package.json'))) continue;
    seen.add(name);
    const pkg = JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8'));
    queue.push(...Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies }));
  }
  return seen;
}

const env = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', npm_config_offline: 'true' };
const npx = (...args: string[]) => spawnSync('npx', ['--no', ...args], { cwd: project, encoding: 'utf8', env });

beforeAll(() => {
  const packDir = join(tmp, 'pack');
  mkdirSync(packDir);
  execFileSync('npm', ['pack', '--silent', '--pack-destination', packDir], { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const tarball = join(packDir, readdirSync(packDir).find((f) => f.endsWith('.tgz'))!);
  files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n').map((f) => f.replace(/^package\//, ''));

  mkdirSync(installed, { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { moec: `file:${tarball}` } }));
  execFileSync('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
  const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
  for (const name of dependencyClosure(Object.keys(pkg.dependencies))) {
    mkdirSync(dirname(join(project, 'node_modules', name)), { recursive: true });
    symlinkSync(join(root, 'node_modules', name), join(project, 'node_modules', name), 'dir');
  }
  mkdirSync(join(project, 'node_modules', '.bin'));
  chmodSync(join(installed, pkg.bin.moec), 0o755);
  symlinkSync(join('..', 'moec', pkg.bin.moec), join(project, 'node_modules', '.bin', 'moec'));
}, 60_000);

// The links into this checkout's node_modules go with the folder; what they point to stays.
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('npm package', () => {
  it('holds the command, the library and the examples, and no tests, benchmarks or scratch', () => {
    for (const f of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'bin/moec.js', 'bin/main.ts', 'compiler/api.ts', 'runtime/webgpu/install-lavapipe.sh', 'examples/mixtral-8x7b.moe', 'dist/moec-webgpu.mjs']) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => /^(tests|bench|scratch|node_modules)\//.test(f) || f.endsWith('.test.ts'))).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    // Every file the exports and the bin name is in the tarball.
    const targets = [pkg.bin.moec, pkg.types, ...Object.values(pkg.exports).flatMap((e) => (typeof e === 'string' ? [e] : Object.values(e as object)))];
    for (const t of targets.filter((t: string) => !t.includes('*'))) expect(files).toContain(t.replace(/^\.\//, ''));
  });

  it('npx moec check and stats --json from a project that installed it', () => {
    const check = npx('moec', 'check', 'node_modules/moec/examples/mixtral-8x7b.moe');
    expect(check.stderr).toBe('');
    expect(check.stdout).toBe('ok node_modules/moec/examples/mixtral-8x7b.moe: model mixtral_8x7b, 32 layers, 32 MoE\n');
    expect(check.status).toBe(0);
    const stats = npx('moec', 'stats', 'node_modules/moec/examples/mixtral-8x7b.moe', '--json');
    expect(stats.status).toBe(0);
    const s = JSON.parse(stats.stdout);
    expect([s.model, s.total_params, s.active_params]).toEqual(['mixtral_8x7b', 46_702_792_704, 12_879_925_248]);
  });

  it('imports as a library through its exports (TypeScript sources, loaded by tsx)', () => {
    writeFileSync(join(project, 'consumer.mjs'), "import { stats } from 'moec';\nconsole.log(stats('node_modules/moec/examples/olmoe-1b-7b.moe').model);\n");
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'consumer.mjs'], { cwd: project, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('olmoe_1b_7b\n');
  });

  it('the postinstall exits 0: as a dependency, without apt, without root', () => {
    // A PATH with the tools the script needs and no dpkg-query, apt-get or sudo: the system looks bare.
    const bare = join(tmp, 'bare-bin');
    mkdirSync(bare);
    for (const tool of ['bash', 'uname', 'sed', 'grep', 'id']) {
      const at = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      symlinkSync(at, join(bare, tool));
    }
    const script = join(installed, 'runtime/webgpu/install-lavapipe.sh');
    const run = (cwd: string, extra: Record<string, string>, path = bare) =>
      spawnSync(join(bare, 'bash'), [script], { cwd, encoding: 'utf8', env: { PATH: path, ...extra } });
    const dependency = run(installed, { npm_lifecycle_event: 'postinstall' });
    expect(dependency.status).toBe(0);
    expect(dependency.stderr).toMatch(/^moec: WebGPU on a machine without a GPU needs Mesa >= 25 lavapipe; 'sudo bash .*install-lavapipe\.sh' installs it on Debian bookworm\n$/);
    const noApt = run(tmp, {});
    expect(noApt.status).toBe(0);
    expect(noApt.stderr).toMatch(/^moec: WebGPU on the CPU needs Mesa >= 25 lavapipe/);
    // apt-get there (one that would fail), not root, no sudo: it says what to run and changes nothing.
    const withApt = join(tmp, 'apt-bin');
    mkdirSync(withApt);
    writeFileSync(join(withApt, 'apt-get'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    writeFileSync(join(withApt, 'id'), '#!/bin/sh\necho 1000\n', { mode: 0o755 });
    const noRoot = run(tmp, {}, `${withApt}:${bare}`);
    expect(noRoot.status).toBe(0);
    expect(noRoot.stderr).not.toContain('installing');
    // The postinstall itself (bin/setup-system.sh) under node_modules/: one line, no step run, no network.
    const setup = spawnSync(join(bare, 'bash'), [join(installed, 'bin/setup-system.sh')], { cwd: installed, encoding: 'utf8', env: { PATH: bare, npm_lifecycle_event: 'postinstall' } });
    expect(setup.status).toBe(0);
    expect(setup.stderr).toMatch(/^moec: the test machine setup \(lavapipe, chromium, gpu\.js\) is for developing moec; 'bash .*\/bin\/setup-system\.sh' runs it\n$/);
  });
});
