/**
 * Every problem with a weights file surfaces as a WeightsError so that a CLI
 * can catch this one class and print `error: <message>` without a stack trace:
 * the message alone must tell the user which file (and tensor) is wrong.
 */
export class WeightsError extends Error {
  /** The file the problem is about, so callers need not parse the message. */
  readonly file: string;
  /** The tensor the problem is about, when there is one. */
  readonly tensor: string | undefined;

  constructor(file: string, message: string, options?: { tensor?: string; cause?: unknown }) {
    super(`${file}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WeightsError';
    this.file = file;
    this.tensor = options?.tensor;
  }
}

/** Shorthand for the common case of a problem with one tensor of a file. */
export function tensorError(file: string, tensor: string, message: string): WeightsError {
  return new WeightsError(file, `tensor '${tensor}': ${message}`, { tensor });
}

/**
 * Node's fs errors embed a syscall and path ("ENOENT: no such file or directory,
 * open '/x'"); our messages already start with the path, so keep only the reason.
 */
export function describeSystemError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    const match = /^[A-Z0-9_]+: ([^,]+)/.exec(error.message);
    if (code !== undefined && match !== null) return match[1];
    return error.message;
  }
  return String(error);
}
