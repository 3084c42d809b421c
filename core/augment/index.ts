export * from './per-sample.js';
export * from './pipeline.js';
