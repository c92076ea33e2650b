// End to end: `node bin/moec.js lsp` speaks JSON-RPC over stdio with Content-Length framing, as an editor would.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';

interface Message {
  id?: number;
  method?: string;
  params?: any;
  result?: any;
  error?: unknown;
}

/** A minimal LSP client: frames requests, parses framed replies, and waits for the message a predicate wants. */
class Client {
  private buffer = Buffer.alloc(0);
  private readonly received: Message[] = [];
  private waiters: { want: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  private nextId = 1;

  constructor(private readonly proc: ChildProcessWithoutNullStreams) {
    proc.stdout.on('data', (chunk: Buffer) => this.read(chunk));
  }

  private read(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const headerEnd = this.buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.subarray(0, headerEnd).toString())?.[1]);
      if (this.buffer.length < headerEnd + 4 + length) return;
      const body = this.buffer.subarray(headerEnd + 4, headerEnd + 4 + length).toString('utf8');
      this.buffer = this.buffer.subarray(headerEnd + 4 + length);
      const m = JSON.parse(body) as Message;
      const w = this.waiters.find((x) => x.want(m));
      if (w) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(m);
      } else {
        this.received.push(m);
      }
    }
  }

  send(m: Message): void {
    const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...m }), 'utf8');
    this.proc.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
    this.proc.stdin.write(body);
  }

  wait(want: (m: Message) => boolean): Promise<Message> {
    const i = this.received.findIndex(want);
    if (i >= 0) return Promise.resolve(this.received.splice(i, 1)[0]!);
    return new Promise((res) => this.waiters.push({ want, resolve: res }));
  }

  async request(method: string, params: unknown): Promise<any> {
    const id = this.nextId++;
    this.send({ id, method, params });
    const reply = await this.wait((m) => m.id === id && m.method === undefined);
    expect(reply.error).toBeUndefined();
    return reply.result;
  }
}

it('serves diagnostics, hover and definition over stdio, then shuts down and exits', async () => {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'moec-lsp-e2e-'));
  writeFileSync(join(dir, 'parts.moe'), '# shared parts\nffn small_ffn { hidden: 64, act: swiglu }\n');
  const path = join(dir, 'spec.moe');
  const uri = pathToFileURL(path).href;
  const text = [
    'import "parts.moe"',
    'moe sparse { experts: 4, top_k: 2, expert: small_ffn, topk: 1 }',
    'model tiny { vocab: 100, d_model: 32, decoder: stack { layers: 2, block: block { norm: rmsnorm {}, ffn: sparse } } }',
    '',
  ].join('\n');
  writeFileSync(path, '# the buffer, not this file, is what the server checks\n');

  const proc = spawn(process.execPath, [resolve(import.meta.dirname, '../../bin/moec.js'), 'lsp'], { cwd: dir, stdio: 'pipe' });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((res) => proc.on('exit', (code) => res(code)));
  const client = new Client(proc);
  try {
    const init = await client.request('initialize', { processId: process.pid, rootUri: pathToFileURL(dir).href, capabilities: {} });
    expect(init.capabilities).toMatchObject({ hoverProvider: true, definitionProvider: true, textDocumentSync: 1 });
    client.send({ method: 'initialized', params: {} });

    client.send({ method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'moe', version: 1, text } } });
    const published = await client.wait((m) => m.method === 'textDocument/publishDiagnostics' && m.params.uri === uri);
    expect(published.params.diagnostics).toHaveLength(1);
    const d = published.params.diagnostics[0];
    expect(d.message).toMatch(/^unknown field 'topk' in moe/);
    const col = text.split('\n')[1]!.indexOf('topk');
    expect(d.range).toEqual({ start: { line: 1, character: col }, end: { line: 1, character: col + 4 } });
    expect(d.severity).toBe(1);

    // Fixed in the buffer: the diagnostics clear, and the model checks.
    const fixed = text.replace(', topk: 1', '');
    client.send({ method: 'textDocument/didChange', params: { textDocument: { uri, version: 2 }, contentChanges: [{ text: fixed }] } });
    const cleared = await client.wait((m) => m.method === 'textDocument/publishDiagnostics' && m.params.version === 2);
    expect(cleared.params.diagnostics).toEqual([]);

    const use = fixed.split('\n')[2]!.indexOf('sparse');
    const hover = await client.request('textDocument/hover', { textDocument: { uri }, position: { line: 2, character: use + 2 } });
    expect(hover.contents.kind).toBe('markdown');
    expect(hover.contents.value).toContain('moe: 4 experts, top-2');
    expect(hover.contents.value).toContain('decoder layers 0–1 (ffn)');
    expect(hover.range).toEqual({ start: { line: 2, character: use }, end: { line: 2, character: use + 6 } });

    const ref = fixed.split('\n')[1]!.indexOf('small_ffn');
    const def = await client.request('textDocument/definition', { textDocument: { uri }, position: { line: 1, character: ref + 1 } });
    expect(def).toEqual({ uri: pathToFileURL(join(dir, 'parts.moe')).href, range: { start: { line: 1, character: 4 }, end: { line: 1, character: 13 } } });
    const local = await client.request('textDocument/definition', { textDocument: { uri }, position: { line: 2, character: use } });
    expect(local).toEqual({ uri, range: { start: { line: 1, character: 4 }, end: { line: 1, character: 10 } } });

    expect(await client.request('shutdown', null)).toBeNull();
    client.send({ method: 'exit' });
    expect(await exited).toBe(0);
  } finally {
    proc.kill();
  }
  expect(stderr).toBe('');
  expect(Date.now() - started).toBeLessThan(15_000);
}, 30_000);
