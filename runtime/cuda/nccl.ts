// NCCL (the collective library every GPU cluster runs) from Node through koffi, the same FFI as the CUDA driver:
// communicators for the ranks of this process (ncclCommInitAll over local devices) or for one rank of many processes
// on one or several machines (ncclCommInitRank with a unique id every process shares), and the calls expert
// parallelism needs: all-gather of the dispatch offsets, and grouped point-to-point sends and receives of row blocks.
// Data moves as bytes (ncclUint8), so f32, bf16 and f16 rows travel alike. Every status is checked.
import koffi, { type LibraryHandle } from 'koffi';
import { CudaError, findNvidiaLibrary } from './driver.ts';

const ncclUint8 = 1;
const ncclInt32 = 2;

export interface Nccl {
  version: string;
  /** A new unique id (128 bytes), made by one process and given to every rank's ncclCommInitRank. */
  uniqueId(): Uint8Array;
  /** One communicator per local device, ranks in the order given (a process driving every GPU of a machine). */
  initAll(devices: number[]): unknown[];
  /** This process's communicator as rank `rank` of `ranks` (the current device must be the rank's GPU). */
  initRank(ranks: number, id: Uint8Array, rank: number): unknown;
  destroy(comm: unknown): void;
  /** Calls between groupStart and groupEnd go out together (several ranks of this process, or sends with receives). */
  groupStart(): void;
  groupEnd(): void;
  send(ptr: bigint, bytes: number, peer: number, comm: unknown): void;
  recv(ptr: bigint, bytes: number, peer: number, comm: unknown): void;
  /** Every rank's `count` int32 at `from`, concatenated in rank order at `to`. */
  allGatherInt32(from: bigint, to: bigint, count: number, comm: unknown): void;
}

let uniqueIdType: unknown;

export function openNccl(): Nccl {
  const path = findNvidiaLibrary(/^libnccl\.so\.\d+/, 'MOEC_NCCL');
  if (!path) throw new CudaError('NCCL (libnccl.so.2) not found: set MOEC_NCCL to its path, or install the nvidia-nccl-cu13 wheel (PyTorch ships it)');
  let lib: LibraryHandle;
  try {
    lib = koffi.load(path);
  } catch (e) {
    throw new CudaError(`${path}: cannot load NCCL (${(e as Error).message})`);
  }
  // koffi names types process-wide: the struct is declared once.
  uniqueIdType ??= koffi.struct('ncclUniqueId', { internal: koffi.array('uint8_t', 128) });
  const api = {
    version: lib.func('int ncclGetVersion(_Out_ int *version)'),
    error: lib.func('const char *ncclGetErrorString(int result)'),
    uniqueId: lib.func('int ncclGetUniqueId(_Out_ ncclUniqueId *id)'),
    initRank: lib.func('int ncclCommInitRank(_Out_ void **comm, int nranks, ncclUniqueId id, int rank)'),
    initAll: lib.func('int ncclCommInitAll(_Out_ void **comms, int ndev, const int *devlist)'),
    destroy: lib.func('int ncclCommDestroy(void *comm)'),
    groupStart: lib.func('int ncclGroupStart()'),
    groupEnd: lib.func('int ncclGroupEnd()'),
    send: lib.func('int ncclSend(uint64_t sendbuff, size_t count, int datatype, int peer, void *comm, void *stream)'),
    recv: lib.func('int ncclRecv(uint64_t recvbuff, size_t count, int datatype, int peer, void *comm, void *stream)'),
    allGather: lib.func('int ncclAllGather(uint64_t sendbuff, uint64_t recvbuff, size_t sendcount, int datatype, void *comm, void *stream)'),
  };
  const check = (what: string, status: number) => {
    if (status !== 0) throw new CudaError(`${what} failed: ${api.error(status)} (NCCL ${status})`);
  };
  const v = [0];
  check('ncclGetVersion', api.version(v));
  const code = v[0]!;
  // NCCL_VERSION_CODE: major·10000 + minor·100 + patch since 2.9.
  const version = `${Math.floor(code / 10000)}.${Math.floor(code / 100) % 100}.${code % 100}`;
  return {
    version,
    uniqueId() {
      const id = { internal: new Uint8Array(128) };
      check('ncclGetUniqueId', api.uniqueId(id));
      return Uint8Array.from(id.internal as ArrayLike<number>);
    },
    initAll(devices) {
      const comms: unknown[] = new Array(devices.length).fill(null);
      const out = koffi.alloc('void *', devices.length);
      try {
        check(`ncclCommInitAll(${devices.length} devices)`, api.initAll(out, devices.length, Int32Array.from(devices)));
        const ptrs = koffi.decode(out, 'void *', devices.length) as unknown[];
        ptrs.forEach((p, i) => (comms[i] = p));
      } finally {
        koffi.free(out);
      }
      return comms;
    },
    initRank(ranks, id, rank) {
      if (id.length !== 128) throw new CudaError(`an NCCL unique id is 128 bytes, got ${id.length}`);
      const comm: unknown[] = [null];
      check(`ncclCommInitRank(rank ${rank} of ${ranks})`, api.initRank(comm, ranks, { internal: Array.from(id) }, rank));
      return comm[0];
    },
    destroy: (comm) => check('ncclCommDestroy', api.destroy(comm)),
    groupStart: () => check('ncclGroupStart', api.groupStart()),
    groupEnd: () => check('ncclGroupEnd', api.groupEnd()),
    send: (ptr, bytes, peer, comm) => check(`ncclSend(${bytes} bytes to rank ${peer})`, api.send(ptr, bytes, ncclUint8, peer, comm, null)),
    recv: (ptr, bytes, peer, comm) => check(`ncclRecv(${bytes} bytes from rank ${peer})`, api.recv(ptr, bytes, ncclUint8, peer, comm, null)),
    allGatherInt32: (from, to, count, comm) => check('ncclAllGather', api.allGather(from, to, count, ncclInt32, comm, null)),
  };
}
