import * as fs from 'node:fs';
import { toFloat32 } from './convert.ts';
import { describeSystemError, WeightsError } from './errors.ts';
import type { TensorInfo } from './header.ts';
import { LENGTH_PREFIX_BYTES, MAX_HEADER_BYTES, parseHeader } from './header.ts';

/** What both a single file and a sharded checkpoint offer, so consumers need not care which they got. */
export interface TensorSource {
  readonly tensors: Map<string, TensorInfo>;
  readonly metadata: Record<string, string>;
  /** The tensor's bytes exactly as stored (little-endian). */
  readRaw(name: string): Uint8Array;
  /** The tensor's values widened or narrowed to float32, whatever the stored dtype. */
  readF32(name: string): Float32Array;
  close(): void;
}

// fs.readSync refuses lengths above 2^31 - 1, so large tensors are read in pieces.
const MAX_READ_BYTES = 1 << 30;

function readFully(fd: number, file: string, target: Uint8Array, position: number, what: string): void {
  let done = 0;
  while (done < target.byteLength) {
    const want = Math.min(target.byteLength - done, MAX_READ_BYTES);
    let got: number;
    try {
      got = fs.readSync(fd, target, done, want, position + done);
    } catch (error) {
      throw new WeightsError(file, `cannot read ${what}: ${describeSystemError(error)}`, { cause: error });
    }
    if (got === 0) {
      throw new WeightsError(file, `unexpected end of file while reading ${what} (was the file truncated after it was opened?)`);
    }
    done += got;
  }
}

/**
 * A safetensors file kept open by descriptor: only the header is read up front,
 * tensor bytes are read on request, so checkpoints larger than memory work.
 */
export class SafetensorsFile implements TensorSource {
  readonly path: string;
  readonly tensors: Map<string, TensorInfo>;
  readonly metadata: Record<string, string>;
  readonly fileSize: number;
  private fd: number | undefined;

  private constructor(path: string, fd: number, fileSize: number, tensors: Map<string, TensorInfo>, metadata: Record<string, string>) {
    this.path = path;
    this.fd = fd;
    this.fileSize = fileSize;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  static open(path: string): SafetensorsFile {
    let fd: number;
    try {
      fd = fs.openSync(path, 'r');
    } catch (error) {
      throw new WeightsError(path, `cannot open: ${describeSystemError(error)}`, { cause: error });
    }
    try {
      const stat = fs.fstatSync(fd);
      if (stat.isDirectory()) {
        throw new WeightsError(path, 'is a directory, not a safetensors file (openCheckpoint accepts checkpoint directories)');
      }
      if (!stat.isFile()) throw new WeightsError(path, 'is not a regular file');
      const fileSize = stat.size;
      if (fileSize < LENGTH_PREFIX_BYTES) {
        throw new WeightsError(
          path,
          `file is ${fileSize} bytes long, too short for a safetensors file (which starts with an 8-byte header length)`,
        );
      }
      const prefix = new Uint8Array(LENGTH_PREFIX_BYTES);
      readFully(fd, path, prefix, 0, 'the header length');
      const headerLength = new DataView(prefix.buffer).getBigUint64(0, true);
      // Both checks run on the BigInt, before any allocation sized by an untrusted number.
      if (headerLength > BigInt(fileSize - LENGTH_PREFIX_BYTES)) {
        throw new WeightsError(
          path,
          `header length is ${headerLength} bytes, more than the file holds (the file is ${fileSize} bytes); is this really a safetensors file?`,
        );
      }
      if (headerLength > BigInt(MAX_HEADER_BYTES)) {
        throw new WeightsError(path, `header length is ${headerLength} bytes, over the limit of ${MAX_HEADER_BYTES} bytes (100 MB)`);
      }
      const headerBytes = new Uint8Array(Number(headerLength));
      readFully(fd, path, headerBytes, LENGTH_PREFIX_BYTES, 'the header');
      const { tensors, metadata } = parseHeader(path, headerBytes, fileSize);
      return new SafetensorsFile(path, fd, fileSize, tensors, metadata);
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
  }

  info(name: string): TensorInfo {
    const info = this.tensors.get(name);
    if (info === undefined) {
      throw new WeightsError(this.path, `there is no tensor named '${name}'`, { tensor: name });
    }
    return info;
  }

  readRaw(name: string): Uint8Array {
    const info = this.info(name);
    if (this.fd === undefined) throw new WeightsError(this.path, `cannot read tensor '${name}': the file was closed`, { tensor: name });
    // A fresh Uint8Array starts its own ArrayBuffer, so float views over it are aligned.
    const bytes = new Uint8Array(info.byteLength);
    readFully(this.fd, this.path, bytes, info.byteOffset, `tensor '${name}'`);
    return bytes;
  }

  readF32(name: string): Float32Array {
    const info = this.info(name);
    return toFloat32(info.dtype, this.readRaw(name));
  }

  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    fs.closeSync(fd);
  }
}

export function openSafetensors(path: string): SafetensorsFile {
  return SafetensorsFile.open(path);
}
