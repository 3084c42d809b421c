import path from 'node:path';
import { builtinModules } from 'node:module';
import type { Plugin } from 'esbuild';

/**
 * The boundary between Node and the browser, in one list: each module of selfsup that needs Node,
 * and the module the browser build uses in its place. Plugins import `core/index.js`; in the
 * browser that is `core/portable.ts`, so a plugin that uses a Node-only export fails the build.
 */
export const BROWSER_TWINS: Record<string, string> = {
  'core/index.ts': 'core/portable.ts',
  'core/platform/path-exists.ts': 'core/platform/path-exists.browser.ts',
  'core/engine/simd/kernel-workers.ts': 'core/engine/simd/kernel-workers.browser.ts',
};

const NODE_BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/**
 * esbuild plugin for the browser bundle: swaps in the twins above, and stops the build when a Node
 * built-in is imported by selfsup's own code, naming the importer (third-party packages declare
 * their browser substitutes in their package.json, which esbuild follows).
 */
export function browserBoundary(root: string): Plugin {
  const twins = new Map(Object.entries(BROWSER_TWINS).map(([from, to]) => [path.join(root, from), path.join(root, to)]));
  return {
    name: 'selfsup-browser-boundary',
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        const file = path.resolve(args.resolveDir, args.path).replace(/\.js$/, '.ts');
        const twin = twins.get(file);
        return twin ? { path: twin } : undefined;
      });
      build.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => {
        if (!NODE_BUILTINS.has(args.path) || args.importer.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        return {
          errors: [
            {
              text: `Node built-in '${args.path}' reached the browser bundle from ${path.relative(root, args.importer)}: keep it out, or give that module a browser twin in browser/twins.ts`,
            },
          ],
        };
      });
    },
  };
}
