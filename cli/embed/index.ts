export { embedCheckpoint, EMBED_KNN, type EmbedOptions, type EmbedResult } from './embed.js';
export { encodeNpy, readNpy } from './npy.js';
export { cosineNeighbours, NEIGHBOURS_LAYOUT } from './neighbours.js';
