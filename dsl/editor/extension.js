// The VS Code side of moec's editor support: it starts `moec lsp` and speaks LSP to it over stdio.
// Plain CommonJS, no build step. Highlighting works without it; the language server needs
// `npm install` in this folder (for vscode-languageclient).
'use strict';
const vscode = require('vscode');

let client;

function activate(context) {
  let lsp;
  try {
    lsp = require('vscode-languageclient/node');
  } catch {
    vscode.window.showWarningMessage('moec: run `npm install` in the extension folder to enable the language server (highlighting works without it).');
    return;
  }
  const config = vscode.workspace.getConfiguration('moec');
  const server = { command: config.get('server.command', 'moec'), args: config.get('server.args', ['lsp']) };
  client = new lsp.LanguageClient('moec', 'moec language server', server, {
    documentSelector: [{ language: 'moe' }],
  });
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
