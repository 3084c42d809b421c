import { startPlayground } from '../playground.js';

/** `selfsup playground [--port P] [--host H]`: serve the page, print its URL, and serve until interrupted. */
export async function playgroundCommand(o: { port: string; host: string }): Promise<void> {
  const p = await startPlayground({ port: Number(o.port), host: o.host });
  process.stdout.write(`selfsup playground: ${p.url}\n(training runs in the browser tab: wasm with threads and SIMD; Ctrl-C stops the server)\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await p.close();
}
