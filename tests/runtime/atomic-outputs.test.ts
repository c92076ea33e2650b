// Atomic outputs: a write that fails midway leaves no partial file or folder and the previous output intact; a
// `moec compile` killed with SIGKILL while it writes leaves the destination complete (the previous version).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { outputFolderProblem, replaceAtomically, writeFileAtomic, writeFolderAtomic } from '../../runtime/atomic.ts';
import { writeSafetensors, WeightsError } from '../../runtime/safetensors/index.ts';

const bin = new URL('../../bin/moec.js', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'moec-atomic-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const d = join(root, `case-${n++}`);
  mkdirSync(d);
  return d;
};

/** Every file under `dir` with its contents, so two versions of a folder compare exactly. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(dir, p)] = readFileSync(p, 'latin1');
    }
  };
  walk(dir);
  return out;
}

const boom = () => {
  throw new Error('injected failure');
};

describe('a write that fails midway', () => {
  it('a file: the temporary is removed, the previous file intact', () => {
    const d = fresh();
    const f = join(d, 'out.txt');
    writeFileAtomic(f, 'previous\n');
    expect(() => replaceAtomically(f, (temp) => {
      writeFileSync(temp, 'half of the new');
      boom();
    })).toThrow('injected failure');
    expect(readdirSync(d)).toEqual(['out.txt']);
    expect(readFileSync(f, 'utf8')).toBe('previous\n');
  });

  it('a folder: the temporary folder is removed, the previous folder intact; with none before, none after', () => {
    const d = fresh();
    const out = join(d, 'model');
    writeFolderAtomic(out, (t) => {
      writeFileSync(join(t, 'manifest.json'), '{"v":1}\n');
      mkdirSync(join(t, 'wgsl'));
      writeFileSync(join(t, 'wgsl', 'k0.wgsl'), 'old');
    });
    const before = snapshot(out);
    expect(() => writeFolderAtomic(out, (t) => {
      writeFileSync(join(t, 'manifest.json'), '{"v":2}\n');
      writeFileSync(join(t, 'model.ts'), 'new');
      boom();
    })).toThrow('injected failure');
    expect(readdirSync(d)).toEqual(['model']);
    expect(snapshot(out)).toEqual(before);
    const none = join(d, 'never');
    expect(() => writeFolderAtomic(none, (t) => (writeFileSync(join(t, 'a'), 'x'), boom()))).toThrow('injected failure');
    expect(readdirSync(d)).toEqual(['model']);
  });

  it('a folder replaced: the new contents, nothing of the old, nothing left beside it', () => {
    const d = fresh();
    const out = join(d, 'model');
    writeFolderAtomic(out, (t) => writeFileSync(join(t, 'old-only'), 'x'));
    writeFolderAtomic(out, (t) => writeFileSync(join(t, 'manifest.json'), 'new'));
    expect(snapshot(out)).toEqual({ 'manifest.json': 'new' });
    expect(readdirSync(d)).toEqual(['model']);
  });

  it('a safetensors file whose second tensor cannot be read: the previous file intact', () => {
    const d = fresh();
    const f = join(d, 'w.safetensors');
    writeSafetensors(f, [{ name: 'a', dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) }]);
    const before = readFileSync(f);
    const write = () => writeSafetensors(f, [
      { name: 'a', dtype: 'F32', shape: [1024], read: () => new Uint8Array(4096) },
      { name: 'b', dtype: 'F32', shape: [1], read: () => { throw new WeightsError('source.safetensors', "cannot read tensor 'b'"); } },
    ]);
    expect(write).toThrow("source.safetensors: cannot read tensor 'b'");
    expect(readdirSync(d)).toEqual(['w.safetensors']);
    expect(readFileSync(f).equals(before)).toBe(true);
  });
});

describe('the commands', () => {
  const spec = join(root, 'deep.moe');
  // 24 layers: some 400 shader files, so writing the folder takes long enough to be caught in the middle.
  writeFileSync(spec, `rmsnorm norm { eps: 1e-5 }
attention attn { heads: 2 }
moe ff { experts: 4, top_k: 2, expert: ffn { hidden: 16, act: swiglu }, router: softmax {} }
model deep {
  vocab: 32
  d_model: 16
  decoder: stack { layers: 24, block: block { norm: norm, attention: attn, ffn: ff }, final_norm: norm }
}
`);
  const moec = (...a: string[]) => spawnSync(process.execPath, [bin, ...a], { encoding: 'utf8' });

  it('which output folders compile may replace (checked before any work)', () => {
    const d = fresh();
    writeFileSync(join(d, 'file'), 'x');
    mkdirSync(join(d, 'empty'));
    mkdirSync(join(d, 'previous'));
    writeFileSync(join(d, 'previous', 'manifest.json'), '{}');
    expect(outputFolderProblem(join(d, 'new', 'deeper', 'model'))).toBeUndefined();
    expect(outputFolderProblem(join(d, 'empty'))).toBeUndefined();
    expect(outputFolderProblem(join(d, 'previous'))).toBeUndefined();
    expect(outputFolderProblem(join(d, 'file'))).toBe('it is a file, not a folder');
    expect(outputFolderProblem(join(d, 'file', 'a', 'model'))).toBe(`${join(d, 'file')} is a file, not a folder`);
  });

  it('compile -o refuses to replace a folder that is not a moec output, and leaves it as it was', () => {
    const d = fresh();
    const mine = join(d, 'mine');
    mkdirSync(mine);
    writeFileSync(join(mine, 'notes.txt'), 'keep me');
    const r = moec('compile', spec, '--target', 'wgsl', '-o', mine);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`error: -o ${mine}: it exists and is not a folder moec compiled (no manifest.json); moec replaces its output folder whole, so pick another path or remove it\n`);
    expect(snapshot(mine)).toEqual({ 'notes.txt': 'keep me' });
  });

  it('compile killed with SIGKILL while writing its folder: the destination is the complete previous version', async () => {
    const d = fresh();
    const out = join(d, 'model');
    const first = moec('compile', spec, '--target', 'wgsl', '-o', out);
    expect(first.status, first.stderr).toBe(0);
    const before = snapshot(out);
    expect(Object.keys(before).length).toBeGreaterThan(300);

    // Kill it the moment its temporary folder appears: while the new version is half-written.
    const child = spawn(process.execPath, [bin, 'compile', spec, '--target', 'wgsl', '-o', out], { stdio: 'ignore' });
    const temp = join(d, `model.tmp-${child.pid}`);
    let killedMidway = false;
    const done = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const poll = setInterval(() => {
      if (existsSync(temp) && !killedMidway) {
        killedMidway = true;
        child.kill('SIGKILL');
      }
    }, 1);
    await done;
    clearInterval(poll);
    expect(killedMidway).toBe(true);
    expect(statSync(out).isDirectory()).toBe(true);
    expect(snapshot(out)).toEqual(before);
  }, 60_000);
});
