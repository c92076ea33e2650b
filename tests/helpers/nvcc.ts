// nvcc for the CUDA target's tests: whether it is on PATH, and one compile of a source for the GPUs the target supports.
import { spawn, spawnSync } from 'node:child_process';

/** "release 13.0" when nvcc is on PATH, else undefined. */
export const nvccRelease: string | undefined = (() => {
  const r = spawnSync('nvcc', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? (/release [\d.]+/.exec(r.stdout)?.[0] ?? 'release ?') : undefined;
})();

/** A100 (sm_80) and H100 with its arch-specific features (sm_90a), each from PTX of its own virtual arch. */
export const archFlags = ['-gencode', 'arch=compute_80,code=sm_80', '-gencode', 'arch=compute_90a,code=sm_90a'];
/** H100 only: a source rendered for sm_90a (wgmma), which no other GPU runs. */
export const hopperFlags = ['-gencode', 'arch=compute_90a,code=sm_90a'];

export interface NvccResult {
  ok: boolean;
  /** nvcc's diagnostics (stderr and stdout). */
  output: string;
  seconds: number;
}

/** Compiles a .cu file to a fatbin of both arches (or those of `flags`; device code only: no host compiler), every
 * warning an error. */
export function nvcc(file: string, out: string, flags = archFlags): Promise<NvccResult> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const p = spawn('nvcc', ['--fatbin', '--Werror', 'all-warnings', ...flags, '-o', out, file]);
    let output = '';
    p.stdout.on('data', (d: Buffer) => (output += d));
    p.stderr.on('data', (d: Buffer) => (output += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ ok: code === 0, output, seconds: (performance.now() - t0) / 1000 }));
  });
}
