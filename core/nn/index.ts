export * from './params.js';
export * from './layers.js';
export * from './batch-norm.js';
