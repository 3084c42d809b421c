// Optional peer dependencies, imported only when present (plugins/backends/webgpu.ts): typed here
// as untyped modules, so the project type-checks without them installed.
declare module 'webgpu';
declare module '@tensorflow/tfjs-backend-webgpu';
