// The CUDA driver API and NVRTC from Node through koffi (an FFI; no native addon to build): a context on one
// device, CUDA C compiled at load by NVRTC for the device's architecture, device memory, launches, events. Every
// call's status is checked and a failure is one error naming the call and CUDA's own description of the code.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import koffi, { type LibraryHandle } from 'koffi';

export class CudaError extends Error {
  override name = 'CudaError';
}

/** One argument of a launch: a device pointer, the sizes struct (ints by value) or an int. */
export type KernelArg = { ptr: bigint } | { ints: Int32Array } | { int: number };

export interface Cuda {
  device: string;
  /** Compute capability, e.g. [9, 0] on an H100. */
  capability: [number, number];
  /** The most dynamic shared memory a block may take, in bytes (the opt-in limit). */
  maxShared: number;
  /** The device's global memory in bytes (cuDeviceTotalMem). */
  totalMemory: number;
  /**
   * CUDA C → a loaded module (NVRTC for this device's architecture, or `arch` where the source was rendered for one
   * that needs this exact device: sm_90a; the log in the error on failure).
   */
  compile(source: string, name: string, arch?: string): unknown;
  /** A function of a module, allowed `shared` bytes of dynamic shared memory a block (checked against maxShared). */
  fn(module: unknown, entry: string, shared?: number): unknown;
  alloc(bytes: number): bigint;
  free(ptr: bigint): void;
  upload(ptr: bigint, data: ArrayBufferView, offset?: number): void;
  download(ptr: bigint, data: ArrayBufferView): void;
  launch(fn: unknown, grid: number[], block: number[], args: KernelArg[], shared?: number): void;
  sync(): void;
  /** Milliseconds of GPU time `body` enqueues (events around it). */
  time(body: () => void): number;
  /** The device's ordinal (what NCCL and the runtime API call it), and how many devices the machine has. */
  ordinal: number;
  deviceCount: number;
  /** Makes this device's context current (a process driving several GPUs switches before each one's work). */
  use(): void;
  /** Sets `bytes` (a multiple of 4) at `ptr` to zero, in order with the launches. */
  zero(ptr: bigint, bytes: number): void;
  close(): void;
}

const DRIVER = 'libcuda.so.1';
const noDriver = `no CUDA driver (${DRIVER}) on this machine: --target cuda runs on an NVIDIA GPU with its driver installed`;

/**
 * Where an NVIDIA library may be: `env` (a file), LD_LIBRARY_PATH, the CUDA toolkit, then the NVIDIA wheels of a
 * Python installation (PyTorch's cu13 wheels ship libnvrtc.so.13 and libnccl.so.2 under site-packages/nvidia/…/lib).
 */
export function findNvidiaLibrary(file: RegExp, env: string): string | undefined {
  if (process.env[env]) return process.env[env];
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), '/usr/local/cuda/lib64', '/usr/local/cuda/targets/x86_64-linux/lib'];
  const roots = ['/usr/lib', '/usr/local/lib', '/opt/conda/lib', `${process.env.HOME ?? '/root'}/.local/lib`];
  if (process.env.VIRTUAL_ENV) roots.unshift(join(process.env.VIRTUAL_ENV, 'lib'));
  // Virtual environments under /opt (the H100 machine's PyTorch lives in /opt/torch/.venv).
  if (existsSync('/opt')) for (const d of readdirSync('/opt')) roots.push(join('/opt', d, '.venv', 'lib'), join('/opt', d, 'lib'));
  for (const root of roots) {
    if (!existsSync(root)) continue;
    for (const py of readdirSync(root).filter((d) => d.startsWith('python3'))) {
      for (const pkgs of ['site-packages', 'dist-packages']) {
        const nv = join(root, py, pkgs, 'nvidia');
        if (!existsSync(nv)) continue;
        for (const sub of readdirSync(nv)) dirs.push(join(nv, sub, 'lib'));
      }
    }
  }
  dirs.push('/usr/lib/x86_64-linux-gnu');
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    const lib = readdirSync(dir).filter((f) => file.test(f)).sort()[0];
    if (lib) return join(dir, lib);
  }
  return undefined;
}

function findNvrtc(): string {
  const path = findNvidiaLibrary(/^libnvrtc\.so\.\d+/, 'MOEC_NVRTC');
  if (!path) throw new CudaError('NVRTC (libnvrtc.so) not found: set MOEC_NVRTC to its path, or install the CUDA toolkit or the nvidia-cuda-nvrtc wheel');
  return path;
}

export function openCuda(ordinal = 0): Cuda {
  let cu: LibraryHandle;
  try {
    cu = koffi.load(DRIVER);
  } catch {
    throw new CudaError(noDriver);
  }
  const f = (sig: string) => cu.func(sig);
  const api = {
    cuInit: f('int cuInit(unsigned int flags)'),
    cuGetErrorString: f('int cuGetErrorString(int error, _Out_ const char **str)'),
    cuDeviceGetCount: f('int cuDeviceGetCount(_Out_ int *count)'),
    cuDeviceGet: f('int cuDeviceGet(_Out_ int *device, int ordinal)'),
    cuDeviceGetName: f('int cuDeviceGetName(_Out_ uint8_t *name, int len, int device)'),
    cuDeviceGetAttribute: f('int cuDeviceGetAttribute(_Out_ int *value, int attribute, int device)'),
    cuDeviceTotalMem: f('int cuDeviceTotalMem_v2(_Out_ size_t *bytes, int device)'),
    cuDevicePrimaryCtxRetain: f('int cuDevicePrimaryCtxRetain(_Out_ void **ctx, int device)'),
    cuDevicePrimaryCtxRelease: f('int cuDevicePrimaryCtxRelease_v2(int device)'),
    cuCtxSetCurrent: f('int cuCtxSetCurrent(void *ctx)'),
    cuCtxSynchronize: f('int cuCtxSynchronize()'),
    cuMemsetD32: f('int cuMemsetD32_v2(uint64_t dst, unsigned int value, size_t count)'),
    cuModuleLoadData: f('int cuModuleLoadData(_Out_ void **module, const uint8_t *image)'),
    cuModuleGetFunction: f('int cuModuleGetFunction(_Out_ void **fn, void *module, const char *name)'),
    cuFuncSetAttribute: f('int cuFuncSetAttribute(void *fn, int attribute, int value)'),
    cuMemAlloc: f('int cuMemAlloc_v2(_Out_ uint64_t *dptr, size_t bytes)'),
    cuMemFree: f('int cuMemFree_v2(uint64_t dptr)'),
    cuMemcpyHtoD: f('int cuMemcpyHtoD_v2(uint64_t dst, const uint8_t *src, size_t bytes)'),
    cuMemcpyDtoH: f('int cuMemcpyDtoH_v2(_Out_ uint8_t *dst, uint64_t src, size_t bytes)'),
    cuLaunchKernel: f('int cuLaunchKernel(void *fn, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx, unsigned int by, unsigned int bz, unsigned int shared, void *stream, uint64_t *params, void *extra)'),
    cuEventCreate: f('int cuEventCreate(_Out_ void **event, unsigned int flags)'),
    cuEventRecord: f('int cuEventRecord(void *event, void *stream)'),
    cuEventSynchronize: f('int cuEventSynchronize(void *event)'),
    cuEventElapsedTime: f('int cuEventElapsedTime_v2(_Out_ float *ms, void *start, void *end)'),
    cuEventDestroy: f('int cuEventDestroy_v2(void *event)'),
  };
  const check = (what: string, status: number) => {
    if (status === 0) return;
    const s: (string | null)[] = [null];
    api.cuGetErrorString(status, s);
    throw new CudaError(`${what} failed: ${s[0] ?? `CUDA error ${status}`} (${status})`);
  };
  check('cuInit', api.cuInit(0));
  const count = [0];
  check('cuDeviceGetCount', api.cuDeviceGetCount(count));
  if (count[0]! <= ordinal) throw new CudaError(count[0] === 0 ? 'no CUDA device found' : `no CUDA device ${ordinal}: found ${count[0]}`);
  const dev = [0];
  check('cuDeviceGet', api.cuDeviceGet(dev, ordinal));
  const device = dev[0]!;
  const nameBytes = new Uint8Array(256);
  check('cuDeviceGetName', api.cuDeviceGetName(nameBytes, 256, device));
  const name = new TextDecoder().decode(nameBytes.subarray(0, nameBytes.indexOf(0)));
  const attr = (a: number) => {
    const v = [0];
    check('cuDeviceGetAttribute', api.cuDeviceGetAttribute(v, a, device));
    return v[0]!;
  };
  // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR / _MINOR
  const capability: [number, number] = [attr(75), attr(76)];
  // CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN
  const maxShared = attr(97);
  const total = [0];
  check('cuDeviceTotalMem', api.cuDeviceTotalMem(total, device));
  const totalMemory = Number(total[0]);
  const deviceArch = `sm_${capability[0]}${capability[1]}`;
  const ctx: unknown[] = [null];
  check('cuDevicePrimaryCtxRetain', api.cuDevicePrimaryCtxRetain(ctx, device));
  check('cuCtxSetCurrent', api.cuCtxSetCurrent(ctx[0]));

  const nvrtc = loadNvrtc();
  const asBytes = (v: ArrayBufferView) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

  return {
    device: name,
    capability,
    maxShared,
    totalMemory,
    compile(source, moduleName, arch) {
      // An 'a' architecture's instructions (sm_90a: wgmma) run on that exact one only.
      if (arch?.endsWith('a') && arch !== `${deviceArch}a`) throw new CudaError(`${moduleName} was rendered for ${arch}, and this GPU (${name}) is ${deviceArch}: render it for sm_80`);
      const options = [`--gpu-architecture=${arch?.endsWith('a') ? arch : deviceArch}`, '--std=c++17'];
      const image = cachedCubin(source, options, nvrtc.path, () => nvrtc.compile(source, moduleName, options));
      const mod: unknown[] = [null];
      check('cuModuleLoadData', api.cuModuleLoadData(mod, image));
      return mod[0];
    },
    fn(module, entry, shared = 0) {
      const out: unknown[] = [null];
      check(`cuModuleGetFunction(${entry})`, api.cuModuleGetFunction(out, module, entry));
      if (shared > maxShared) throw new CudaError(`${entry} takes ${shared} bytes of shared memory a block, and ${name} allows ${maxShared}`);
      // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES: past 48 KiB a function must ask.
      if (shared > 0) check(`cuFuncSetAttribute(${entry})`, api.cuFuncSetAttribute(out[0], 8, shared));
      return out[0];
    },
    alloc(bytes) {
      const p = [0n];
      check(`cuMemAlloc(${bytes} bytes)`, api.cuMemAlloc(p, Math.max(4, bytes)));
      return BigInt(p[0]!);
    },
    free: (ptr) => check('cuMemFree', api.cuMemFree(ptr)),
    upload(ptr, data, offset = 0) {
      check('cuMemcpyHtoD', api.cuMemcpyHtoD(ptr + BigInt(offset), asBytes(data), data.byteLength));
    },
    download(ptr, data) {
      check('cuMemcpyDtoH', api.cuMemcpyDtoH(asBytes(data), ptr, data.byteLength));
    },
    launch(fn, grid, block, args, shared = 0) {
      // kernelParams: one pointer per argument to its value, all values in one block of native memory.
      const sizes = args.map((a) => ('ptr' in a ? 8 : 'ints' in a ? a.ints.byteLength : 4));
      const offsets: number[] = [];
      let total = 0;
      for (const s of sizes) {
        total = Math.ceil(total / 8) * 8;
        offsets.push(total);
        total += s;
      }
      const block8 = koffi.alloc('uint8_t', Math.max(8, total));
      try {
        const view = new DataView(koffi.view(block8, Math.max(8, total)));
        args.forEach((a, i) => {
          const at = offsets[i]!;
          if ('ptr' in a) view.setBigUint64(at, a.ptr, true);
          else if ('int' in a) view.setInt32(at, a.int, true);
          else a.ints.forEach((v, j) => view.setInt32(at + 4 * j, v, true));
        });
        const base = koffi.address(block8);
        const params = BigUint64Array.from(offsets, (o) => base + BigInt(o));
        check('cuLaunchKernel', api.cuLaunchKernel(fn, grid[0]!, grid[1]!, grid[2]!, block[0]!, block[1]!, block[2]!, shared, null, params, null));
      } finally {
        // The driver copies the arguments at launch: the block can go at once.
        koffi.free(block8);
      }
    },
    sync: () => check('cuCtxSynchronize', api.cuCtxSynchronize()),
    ordinal,
    deviceCount: count[0]!,
    use: () => check('cuCtxSetCurrent', api.cuCtxSetCurrent(ctx[0])),
    zero(ptr, bytes) {
      if (bytes > 0) check('cuMemsetD32', api.cuMemsetD32(ptr, 0, Math.ceil(bytes / 4)));
    },
    time(body) {
      const a: unknown[] = [null];
      const b: unknown[] = [null];
      // The events belong to this device's context, whichever another device's work in `body` made current.
      check('cuCtxSetCurrent', api.cuCtxSetCurrent(ctx[0]));
      check('cuEventCreate', api.cuEventCreate(a, 0));
      check('cuEventCreate', api.cuEventCreate(b, 0));
      check('cuEventRecord', api.cuEventRecord(a[0], null));
      body();
      check('cuCtxSetCurrent', api.cuCtxSetCurrent(ctx[0]));
      check('cuEventRecord', api.cuEventRecord(b[0], null));
      check('cuEventSynchronize', api.cuEventSynchronize(b[0]));
      const ms = [0];
      check('cuEventElapsedTime', api.cuEventElapsedTime(ms, a[0], b[0]));
      api.cuEventDestroy(a[0]);
      api.cuEventDestroy(b[0]);
      return ms[0]!;
    },
    close: () => check('cuDevicePrimaryCtxRelease', api.cuDevicePrimaryCtxRelease(device)),
  };
}

/**
 * A cubin from the cache (MOEC_CACHE, else ~/.cache/moec) keyed by the source, the options and the NVRTC library, or
 * compiled and stored: NVRTC takes seconds per model, every load. A cache that cannot be written is only skipped.
 */
function cachedCubin(source: string, options: string[], nvrtcPath: string, compile: () => Uint8Array): Uint8Array {
  const dir = join(process.env.MOEC_CACHE ?? join(homedir(), '.cache', 'moec'), 'cubin');
  const key = createHash('sha256').update(JSON.stringify([source, options, realpathSync(nvrtcPath)])).digest('hex');
  const file = join(dir, `${key}.cubin`);
  if (existsSync(file)) return new Uint8Array(readFileSync(file));
  const cubin = compile();
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, cubin);
    renameSync(tmp, file);
  } catch {
    // A read-only home: compile again next time.
  }
  return cubin;
}

/** NVRTC: CUDA C source → a cubin for the given options (the compile log in the error when it fails). */
function loadNvrtc() {
  const path = findNvrtc();
  let lib: LibraryHandle;
  try {
    lib = koffi.load(path);
  } catch (e) {
    throw new CudaError(`${path}: cannot load NVRTC (${(e as Error).message})`);
  }
  const api = {
    create: lib.func('int nvrtcCreateProgram(_Out_ void **prog, const char *src, const char *name, int numHeaders, void *headers, void *includeNames)'),
    compile: lib.func('int nvrtcCompileProgram(void *prog, int numOptions, const char **options)'),
    logSize: lib.func('int nvrtcGetProgramLogSize(void *prog, _Out_ size_t *size)'),
    log: lib.func('int nvrtcGetProgramLog(void *prog, _Out_ uint8_t *log)'),
    cubinSize: lib.func('int nvrtcGetCUBINSize(void *prog, _Out_ size_t *size)'),
    cubin: lib.func('int nvrtcGetCUBIN(void *prog, _Out_ uint8_t *cubin)'),
    destroy: lib.func('int nvrtcDestroyProgram(_Inout_ void **prog)'),
    error: lib.func('const char *nvrtcGetErrorString(int result)'),
  };
  const check = (what: string, status: number) => {
    if (status !== 0) throw new CudaError(`${what} failed: ${api.error(status)} (${status})`);
  };
  return {
    path,
    compile(source: string, name: string, options: string[]): Uint8Array {
      const prog: unknown[] = [null];
      check('nvrtcCreateProgram', api.create(prog, source, name, 0, null, null));
      try {
        const status = api.compile(prog[0], options.length, options);
        if (status !== 0) {
          const size = [0];
          api.logSize(prog[0], size);
          const log = new Uint8Array(Number(size[0]));
          api.log(prog[0], log);
          throw new CudaError(`NVRTC could not compile ${name}: ${api.error(status)}\n${new TextDecoder().decode(log).replace(/\0+$/, '').trim()}`);
        }
        const size = [0];
        check('nvrtcGetCUBINSize', api.cubinSize(prog[0], size));
        const cubin = new Uint8Array(Number(size[0]));
        check('nvrtcGetCUBIN', api.cubin(prog[0], cubin));
        return cubin;
      } finally {
        api.destroy(prog);
      }
    },
  };
}
