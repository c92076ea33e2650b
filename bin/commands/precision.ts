// --precision for the CUDA target (moec compile and moec run): what the matrix products store and compute in; and
// --arch (moec compile): the GPUs the CUDA C is rendered for.
import { archs, precisions, type CudaArch, type Precision } from '../../targets/cuda/render.ts';
import { UsageError } from '../output.ts';

/** The architecture asked for, refused in one line when it is not one the CUDA target renders for. */
export function cudaArch(value: string | undefined, target: string): CudaArch {
  const a = value ?? 'sm_80';
  if (!(archs as readonly string[]).includes(a)) throw new UsageError(`--arch must be ${archs.join(' or ')}, got '${a}'`);
  if (a !== 'sm_80' && target !== 'cuda') throw new UsageError(`--arch ${a} is the CUDA target's: use it with --target cuda`);
  return a as CudaArch;
}

/** The precision asked for, refused in one line when it is not one of the CUDA target's or the target has none. */
export function cudaPrecision(value: string | undefined, target: string): Precision {
  const p = value ?? 'f32';
  if (!(precisions as readonly string[]).includes(p)) throw new UsageError(`--precision must be ${precisions.slice(0, -1).join(', ')} or ${precisions[precisions.length - 1]}, got '${p}'`);
  if (p !== 'f32' && target !== 'cuda') throw new UsageError(`--precision ${p} is the CUDA target's: use it with --target cuda`);
  return p as Precision;
}
