// Buffers that share storage (a reshape is a view of its input, not a kernel): a transform that changes how one
// buffer is stored or who writes it must leave these alone.
import type { KernelProgram } from './ir.ts';

/** Every buffer that is a view of another, and every buffer another is a view of. */
export const sharingStorage = (p: KernelProgram): Set<string> => new Set(p.buffers.flatMap((b) => (b.aliasOf ? [b.name, b.aliasOf] : [])));
