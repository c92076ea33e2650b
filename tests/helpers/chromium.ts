// A headless Chromium driven over the DevTools protocol through --remote-debugging-pipe (fd 3 in, fd 4 out,
// NUL-terminated JSON messages): no WebSocket client and no puppeteer or playwright download. One page target,
// attached with a flat session.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

/** The Chromium binary on PATH (Debian's `chromium`, installed by bin/playground/install-chromium.sh), if any. */
export function findChromium(): string | undefined {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return undefined;
}

export interface Page {
  send<T = Record<string, unknown>>(method: string, params?: Record<string, unknown>): Promise<T>;
  /** Evaluates an expression in the page (awaiting promises) and returns its value. */
  evaluate<T>(expression: string): Promise<T>;
  /** Polls `expression` until it is truthy; fails with `what` and the last value after `ms`. */
  waitFor<T>(expression: string, what: string, ms?: number): Promise<T>;
  console: string[];
  close(): Promise<void>;
}

export async function openPage(binary: string, url: string, flags: string[] = []): Promise<Page> {
  const profile = mkdtempSync(join(tmpdir(), 'moec-chromium-'));
  const child: ChildProcess = spawn(binary, [
    '--headless=new', '--remote-debugging-pipe', `--user-data-dir=${profile}`, '--no-first-run', '--no-default-browser-check',
    '--no-sandbox', '--disable-dev-shm-usage', '--window-size=1400,1000', ...flags, 'about:blank',
  ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  const input = child.stdio[3] as Writable;
  const output = child.stdio[4] as Readable;
  const stderr: string[] = [];
  child.stderr!.on('data', (d: Buffer) => { if (stderr.length < 200) stderr.push(d.toString()); });
  let next = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; method: string }>();
  const consoleLines: string[] = [];
  let buffered = '';
  output.on('data', (d: Buffer) => {
    buffered += d.toString('utf8');
    let end;
    while ((end = buffered.indexOf('\0')) >= 0) {
      const msg = JSON.parse(buffered.slice(0, end)) as { id?: number; result?: unknown; error?: { message: string }; method?: string; params?: { type?: string; args?: { value?: unknown; description?: string }[]; exceptionDetails?: { exception?: { description?: string }; text?: string } } };
      buffered = buffered.slice(end + 1);
      if (msg.id !== undefined) {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(`${p.method}: ${msg.error.message}`));
        else p?.resolve(msg.result);
      } else if (msg.method === 'Runtime.consoleAPICalled') {
        consoleLines.push(`${msg.params!.type}: ${msg.params!.args!.map((a) => a.value ?? a.description).join(' ')}`);
      } else if (msg.method === 'Runtime.exceptionThrown') {
        consoleLines.push(`exception: ${msg.params!.exceptionDetails?.exception?.description ?? msg.params!.exceptionDetails?.text}`);
      }
    }
  });
  const exited = new Promise<void>((done) => child.on('exit', () => {
    for (const p of pending.values()) p.reject(new Error(`chromium exited during ${p.method}: ${stderr.join('').slice(-2000)}`));
    done();
  }));
  const raw = <T>(method: string, params: Record<string, unknown> = {}, sessionId?: string) => new Promise<T>((resolve, reject) => {
    const id = next++;
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject, method });
    input.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
  });
  const { targetId } = await raw<{ targetId: string }>('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await raw<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true });
  const send = <T>(method: string, params?: Record<string, unknown>) => raw<T>(method, params, sessionId);
  await send('Runtime.enable');
  await send('Page.enable');
  await send('Page.navigate', { url });
  const evaluate = async <T>(expression: string): Promise<T> => {
    const r = await send<{ result: { value?: T }; exceptionDetails?: { exception?: { description?: string }; text: string } }>('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
    if (r.exceptionDetails) throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value as T;
  };
  return {
    send, evaluate, console: consoleLines,
    async waitFor<T>(expression: string, what: string, ms = 20_000): Promise<T> {
      const until = Date.now() + ms;
      let last: unknown;
      for (;;) {
        last = await evaluate<T>(expression).catch((e: Error) => e.message);
        if (last) return last as T;
        if (Date.now() > until) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)}; console: ${consoleLines.slice(-5).join(' | ')})`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async close() {
      await raw('Browser.close').catch(() => undefined);
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
