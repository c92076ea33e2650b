// The examples folder, bundled into the page by server.ts as a virtual module: file name → text.
declare module 'moec:examples' {
  const examples: Record<string, string>;
  export default examples;
}
