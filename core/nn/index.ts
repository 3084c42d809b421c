export * from './params.js';
export * from './layers.js';
export * from './batch-norm.js';
export * from './log-sum-exp.js';
export * from './transformer.js';
