export * from './per-sample.js';
