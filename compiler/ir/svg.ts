// DOT text to SVG with Graphviz compiled to WebAssembly (@hpcc-js/wasm-graphviz): no system Graphviz needed. The
// module is loaded on first use and kept; rendering itself is synchronous.
import type { Graphviz } from '@hpcc-js/wasm-graphviz';

let graphviz: Promise<Graphviz> | undefined;

/** The SVG document Graphviz's `dot` layout draws for `dot` (starts with the XML prolog). */
export async function dotToSvg(dot: string): Promise<string> {
  graphviz ??= import('@hpcc-js/wasm-graphviz').then((m) => m.Graphviz.load());
  return (await graphviz).dot(dot, 'svg');
}
