// The moec command line: a thin layer over the library API. Every failure ends in one message and exit status 1.
import { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { SpecError, formatDiagnostics } from '../dsl/diagnostics.ts';
import { PassError } from '../compiler/passes/pass.ts';
import { ImportError } from '../compiler/import/hf/index.ts';
import { InputError } from '../runtime/inputs.ts';
import { WeightsError } from '../runtime/safetensors/index.ts';
import { ReportedError, UsageError } from './output.ts';
import { checkCommand } from './commands/check.ts';
import { statsCommand } from './commands/stats.ts';
import { irCommand } from './commands/ir.ts';
import { importCommand } from './commands/import.ts';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

const precisionHelp = "with --target cuda: 'bf16' (or 'f16') stores the matrices' weights as bf16 (f16) and multiplies them on tensor cores (f32 accumulation; routers, softmax and norms stay f32), 'f32' computes everything in f32";

function program(): Command {
  const cmd = new Command('moec')
    .description('A compiler for Mixture-of-Experts and Transformer models.')
    .version(pkg.version, '-v, --version')
    .showHelpAfterError('(run moec --help for usage)')
    .exitOverride();
  const collect = (v: string, prev: string[] = []) => [...prev, v];
  const withSpecOptions = (c: Command) =>
    c.option('--set <name=value>', 'set a param of the spec (repeatable)', collect)
      .option('--model <name>', 'which model of the file (default: the last one)');

  withSpecOptions(cmd.command('check').description('parse and check specs; print diagnostics').argument('<files...>', '.moe files'))
    .option('--json', 'print one JSON object: each file\'s result and diagnostics (docs/json.md)')
    .action(checkCommand);
  withSpecOptions(cmd.command('stats').description('parameter and FLOP counts of a spec').argument('<file>', '.moe file'))
    .option('--json', 'print one JSON object')
    .option('--seq <n>', 'sequence length for FLOPs per token', '2048')
    .action(statsCommand);
  withSpecOptions(cmd.command('ir').description('the graph IR of a spec after any pass').argument('[file]', '.moe file'))
    .option('--list-passes', 'list the passes in pipeline order')
    .option('--after <pass>', "stop after this pass ('lower' for the unoptimised graph)")
    .option('--disable <pass>', 'skip a pass (repeatable)', collect)
    .addOption(new Option('--format <format>', "output format ('svg': the DOT picture drawn by Graphviz; moec viz draws big models readably)").choices(['text', 'json', 'dot', 'svg']).default('text'))
    .addOption(new Option('--stage <stage>', "'graph' IR, or the 'kernel' IR (loop nests and the memory plan)").choices(['graph', 'kernel']).default('graph'))
    .option('--target <target>', "with --stage kernel: the kernels as a target runs them ('wasm': matmuls and attention as gemm calls)")
    .option('--seq <n>', 'sequence length for the memory report of --stage kernel', '2048')
    .option('--expert-parallel <n>', "one rank's graph when experts are sharded over n ranks: the all-to-all exchanges around the experts")
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .action(irCommand);
  withSpecOptions(cmd.command('viz').description('the model as a picture (SVG): blocks as clusters, MoE experts as one box, repeated layers folded').argument('<file>', '.moe file'))
    .option('--after <pass>', "draw the graph after this pass ('lower' for the unoptimised graph)")
    .option('--disable <pass>', 'skip a pass (repeatable)', collect)
    .option('--kernels', 'draw the kernels after fusion: each fused kernel a cluster of the ops it computes')
    .option('--layers <list>', "layers to draw: 'auto' (the first of each distinct structure), 'all', or indices such as 0-2,5", 'auto')
    .option('--expand-params', 'draw parameters as boxes instead of in the labels of their readers')
    .addOption(new Option('--format <format>', "'svg', or the Graphviz 'dot' text (default: from the -o extension, else svg)").choices(['svg', 'dot']))
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .action(async (file: string, opts) => (await import('./commands/viz.ts')).vizCommand(file, opts));
  withSpecOptions(cmd.command('summary').description('parameters, active parameters, FLOPs and activation memory per block, like torchinfo').argument('<file>', '.moe file'))
    .option('--seq <n>', 'sequence length for FLOPs per token and activation memory (batch 1)', '2048')
    .option('--json', 'print one JSON object')
    .action(async (file: string, opts) => (await import('./commands/summary.ts')).summaryCommand(file, opts));
  withSpecOptions(cmd.command('run').description('run a model on inputs and write its outputs').argument('<file>', '.moe file'))
    .requiredOption('--weights <path>', 'safetensors file or checkpoint folder (sharded checkpoints included)')
    .requiredOption('--input <file>', 'inputs.json with input_ids (and decoder_input_ids)')
    .requiredOption('--out <file>', 'output .safetensors file')
    .addOption(new Option('--target <target>', "where to run: 'ref' (the float32 reference interpreter), 'wasm' (compiled WebAssembly), 'webgpu' (WGSL on a WebGPU adapter) or 'cuda' (CUDA C on an NVIDIA GPU, compiled by NVRTC)").choices(['ref', 'wasm', 'webgpu', 'cuda']).default('ref'))
    .option('--dump <what>', "extra outputs: 'hidden' adds the residual stream after each block", collect)
    .option('--profile', 'print the time spent in each kind of kernel (compiled targets)')
    .option('--threads <n>', 'threads for the wasm target (default: the machine\'s cores)')
    .option('--adapter <name>', 'with --target webgpu: the adapter whose description contains this (default: the first)')
    .option('--weight-dtype <dtype>', "with --target webgpu: 'f16' stores the matrices' weights as f16 (half the memory; computed in f32; routers stay f32)", 'f32')
    .option('--precision <precision>', precisionHelp, 'f32')
    .option('--json', 'print one JSON object: outputs, device, time, profile (docs/json.md)')
    .option('-q, --quiet', 'no progress bars on stderr')
    .option('--expert-parallel <n>', "experts sharded over n ranks, each with batch / n of the sequences (--target ref: the ranks in lockstep in one process; cuda: one GPU a rank, through NCCL)")
    // Loaded on demand: the runtime is only needed to run models.
    .action(async (file: string, opts) => (await import('./commands/run.ts')).runCommand(file, opts));
  withSpecOptions(cmd.command('compile').description('compile a spec for a target: kernels, manifest.json and a TypeScript runtime module').argument('<file>', '.moe file'))
    .addOption(new Option('--target <target>', "the target: 'wasm' (WebAssembly), 'wgsl' (WebGPU shaders), 'cuda' (CUDA C: fp32, or bf16 tensor-core matmuls with --precision bf16) or 'gpujs' (gpu.js kernels for WebGL in a browser)").choices(['wasm', 'wgsl', 'cuda', 'gpujs']).makeOptionMandatory())
    .requiredOption('-o, --out <dir>', 'output folder')
    .option('--precision <precision>', precisionHelp, 'f32')
    .option('--arch <arch>', "with --target cuda: the GPUs to render for: 'sm_80' (A100 and later, mma.sync) or 'sm_90a' (H100/H200 only, wgmma)", 'sm_80')
    .option('--report', 'print the kernel count and the memory plan')
    .option('--json', 'print the report as one JSON object, with the files written (docs/json.md)')
    .option('-q, --quiet', 'no progress bars on stderr')
    .option('--seq <n>', 'sequence length for the memory report', '2048')
    .action(async (file: string, opts) => (await import('./commands/compile.ts')).compileCommand(file, opts));
  withSpecOptions(cmd.command('convert').description('convert a checkpoint: --kv-heads N pools key/value heads to grouped-query attention (Ainslie et al. 2023)').argument('<file>', '.moe file'))
    .requiredOption('--weights <path>', 'safetensors file or checkpoint folder (sharded checkpoints included)')
    .requiredOption('--kv-heads <n>', 'key/value heads of every attention: each new head the mean of its group of heads (1: multi-query)')
    .requiredOption('-o, --out <file>', 'output .safetensors file')
    .option('--json', 'print what was converted as one JSON object (docs/json.md)')
    .option('-q, --quiet', 'no progress bars on stderr')
    .action(async (file: string, opts) => (await import('./commands/convert.ts')).convertCommand(file, opts));
  const imp = cmd.command('import').description('turn another framework\'s model description into a .moe spec');
  imp.command('hf').description('from a Hugging Face config.json').argument('<dir>', 'model folder (or its config.json)')
    .option('-o, --out <file>', 'write the spec to a file instead of stdout')
    .action(importCommand);
  // Editors start `moec lsp` (some add --stdio or --clientProcessId=N); it serves until the client sends exit (docs/editor.md).
  cmd.command('lsp').description('a language server over stdio: diagnostics, hover and go-to-definition for .moe files')
    .option('--stdio', 'talk over stdin and stdout (the only transport; accepted for clients that pass it)')
    .allowUnknownOption()
    .action(async () => { (await import('../dsl/lsp/server.ts')).startServer(); });
  return cmd;
}

export async function main(argv: string[]): Promise<number> {
  // `moec ir … | head` closes the pipe early; that is the reader's choice, not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  try {
    await program().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    return report(e);
  }
}

function report(e: unknown): number {
  if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 1;
  if (e instanceof ReportedError) return 1;
  if (e instanceof SpecError) {
    process.stderr.write(`${formatDiagnostics(e.diagnostics, e.sources ?? new Map())}\n`);
    return 1;
  }
  if (e instanceof UsageError || e instanceof InputError || e instanceof ImportError || e instanceof WeightsError || e instanceof PassError || (e instanceof Error && (e.name === 'AdapterError' || e.name === 'CudaError' || e.name === 'PlacementError' || e.name === 'ConvertError' || e.name === 'LimitError'))) {
    process.stderr.write(`error: ${e.message}\n`);
    return 1;
  }
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err === 'object' && err.code && err.path) {
    process.stderr.write(`error: ${err.path}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}\n`);
    return 1;
  }
  // An internal error: one line, and the stack only when asked for.
  process.stderr.write(`internal error: ${err?.message ?? String(e)}\n(this is a bug in moec; MOEC_DEBUG=1 shows where)\n`);
  if (process.env.MOEC_DEBUG) process.stderr.write(`${err?.stack}\n`);
  return 2;
}
