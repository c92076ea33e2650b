// `moec lsp`: a language server over stdio. It wires the pure features of this folder (analyze, diagnostics, hover,
// definition) to LSP messages; nothing else lives here. Nothing may write to stdout but the connection.
import { createConnection, ProposedFeatures, TextDocuments, TextDocumentSyncKind, type Connection } from 'vscode-languageserver/node.js';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { analyze, type Analysis } from './analyze.ts';
import { definitionAt } from './definition.ts';
import { toLspDiagnostics } from './diagnostics.ts';
import { hoverAt } from './hover.ts';
import { offsetAt, spanToRange } from './positions.ts';
import { pathToUri, uriToPath } from './uri.ts';

const DEBOUNCE_MS = 150;

export function startServer(input: NodeJS.ReadableStream = process.stdin, output: NodeJS.WritableStream = process.stdout): Connection {
  const connection = createConnection(ProposedFeatures.all, input, output);
  const documents = new TextDocuments(TextDocument);
  const cache = new Map<string, { version: number; analysis: Analysis }>();
  const timers = new Map<string, NodeJS.Timeout>();

  const analysisOf = (doc: TextDocument): Analysis => {
    const hit = cache.get(doc.uri);
    if (hit && hit.version === doc.version) return hit.analysis;
    const analysis = analyze(uriToPath(doc.uri), doc.getText());
    cache.set(doc.uri, { version: doc.version, analysis });
    return analysis;
  };
  const publish = (doc: TextDocument) => {
    timers.delete(doc.uri);
    if (documents.get(doc.uri) !== doc) return;
    void connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics: toLspDiagnostics(analysisOf(doc)) });
  };

  connection.onInitialize(() => ({
    capabilities: { textDocumentSync: TextDocumentSyncKind.Full, hoverProvider: true, definitionProvider: true },
    serverInfo: { name: 'moec' },
  }));
  documents.onDidOpen((e) => publish(e.document));
  documents.onDidChangeContent((e) => {
    clearTimeout(timers.get(e.document.uri));
    timers.set(e.document.uri, setTimeout(() => publish(documents.get(e.document.uri) ?? e.document), DEBOUNCE_MS));
  });
  documents.onDidClose((e) => {
    clearTimeout(timers.get(e.document.uri));
    timers.delete(e.document.uri);
    cache.delete(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });
  connection.onHover(({ textDocument, position }) => {
    const doc = documents.get(textDocument.uri);
    if (!doc) return null;
    const a = analysisOf(doc);
    const h = hoverAt(a, offsetAt(a.text, position));
    return h ? { contents: { kind: 'markdown', value: h.markdown }, range: spanToRange(h.span, a.text) } : null;
  });
  connection.onDefinition(({ textDocument, position }) => {
    const doc = documents.get(textDocument.uri);
    if (!doc) return null;
    const a = analysisOf(doc);
    const loc = definitionAt(a, offsetAt(a.text, position));
    return loc ? { uri: loc.path === a.path ? doc.uri : pathToUri(loc.path), range: loc.range } : null;
  });

  documents.listen(connection);
  connection.listen();
  return connection;
}
