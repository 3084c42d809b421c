/**
 * selfsup core: the public API that built-in and third-party plugins alike use.
 * Contracts (the plugin kinds), definePlugin, the nn building blocks, the config machinery, the
 * training loop and evaluation. core never imports plugins/. Engine internals (kernels, wasm
 * threads) are `core/engine/index.ts` (`selfsup/engine`), sweeps `core/sweep/index.ts`
 * (`selfsup/sweep`): importing this module loads neither better-sqlite3 nor sharp.
 */
export * from './portable.js';

// Node only: files, presets on disk, downloads, checkpoints, the trainer
export { loadExternalPlugins } from './plugin/load-external.js';
export { loadConfig, mergeConfig, applyOverrides, setPath, listPresets, locateConfig } from './config/load.js';
export type { PresetSource } from './config/load.js';
export { readIdx, readIdxFile } from './data/idx.js';
export { fetchArchive, downloadFile, sha256File, defaultCacheDir, DOWNLOAD_OPTIONS, EXTRACTED_MARKER } from './data/download.js';
export type { RemoteArchive, FetchOptions } from './data/download.js';
export { extractTar } from './data/tar.js';
export { train } from './train/trainer.js';
export type { TrainOptions, TrainResult } from './train/trainer.js';
export { saveCheckpoint, readCheckpoint, writeAtomic, PREVIOUS_CHECKPOINT_FILE } from './train/checkpoint.js';
export { packageRoot } from './package-root.js';
