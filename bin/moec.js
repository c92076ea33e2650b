#!/usr/bin/env node
// The moec command. The sources are TypeScript; tsx loads them without a build step.
import { register } from 'tsx/esm/api';

// binaryen's 15 MB bundle takes seconds to pass through tsx's loader but well under one to load natively: when a
// command will render WebAssembly, load it before tsx is registered (later imports get this same module).
const args = process.argv.slice(2);
if (args[0] === 'compile' || (args[0] === 'run' && args.some((a) => a === 'wasm' || a === '--target=wasm'))) await import('binaryen');

register();
const { main } = await import('./main.ts');
process.exitCode = await main(args);
